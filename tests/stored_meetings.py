"""A meeting as kai stores it after processing, built from one of the Danish test meetings without audio
transcription: its transcript (segments with times) and the real draft model's minutes, so review tests need
not wait for Whisper. With ``audio`` a tone recording as long as the transcript is stored beside it."""

from __future__ import annotations

import json
import uuid
import wave
from datetime import date
from pathlib import Path

import numpy as np

from services.common.config import Settings
from services.common.db import Database
from services.minutes import store
from services.minutes.pipeline.draft import build_minutes_draft
from services.minutes.pipeline.draft.source import transcript_from_json
from services.minutes.pipeline.export import masked_draft, masked_transcript
from services.minutes.pipeline.types import MinutesDraft

MEETINGS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "meetings"
SECONDS_PER_SEGMENT = 2.0


def _write_tone(path: Path, seconds: float, rate: int = 16_000) -> None:
    t = np.arange(int(seconds * rate)) / rate
    samples = (0.2 * np.sin(2 * np.pi * 220 * t) * 32767).astype(np.int16)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())


def store_meeting(
    db: Database, settings: Settings, owner: str, name: str = "mtg-a-01", audio: bool = False
) -> tuple[str, MinutesDraft]:
    """Store a processed meeting owned by ``owner``; its id and the draft."""
    data = json.loads((MEETINGS / f"{name}.json").read_text(encoding="utf-8"))
    segments = [
        {"speaker": s["speaker"], "text": s["text"], "start": i * SECONDS_PER_SEGMENT,
         "end": (i + 1) * SECONDS_PER_SEGMENT - 0.1}
        for i, s in enumerate(data["segments"])
    ]  # fmt: skip
    transcript = masked_transcript(transcript_from_json({"segments": segments}))
    meeting_date = date.fromisoformat(data["date"])
    participants = [p["name"] for p in data["participants"]]
    draft = masked_draft(
        build_minutes_draft(
            transcript,
            title=data["title"],
            meeting_date=meeting_date,
            participants=participants,
            agenda=data["agenda"],
        )
    )
    meeting_id = uuid.uuid4().hex
    folder = store.meeting_dir(settings.resolved_storage_dir, meeting_id)
    folder.mkdir(parents=True)
    if audio:
        _write_tone(folder / "recording.wav", transcript.duration + 1)
    with db.session() as session:
        session.add(
            store.Meeting(
                id=meeting_id,
                title=data["title"],
                meeting_date=meeting_date,
                participants=participants,
                agenda=data["agenda"],
                audio_filename="møde.wav",
                audio_file="recording.wav",
                created_by=owner,
                draft_transcript=transcript.to_dict(),
                transcript=transcript.to_dict(),
                draft_minutes=draft.to_dict(),
                minutes=draft.to_dict(),
            )
        )
    return meeting_id, draft
