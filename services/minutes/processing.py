"""The orchestration: recording → transcript with speakers → minutes draft, and its ledger row."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from models.registry import load_speaker_encoder, load_whisper, whisper_model_name
from services.common import ledger
from services.common.config import Settings
from services.common.errors import InvalidInput
from services.common.llm import LlmClient
from services.common.privacy import mask_cpr
from services.minutes.formatting import clock_text
from services.minutes.intake import MeetingRequest
from services.minutes.pipeline.audio import AudioError, probe_audio
from services.minutes.pipeline.draft import build_minutes_draft, llm_proposer, llm_summarizer
from services.minutes.pipeline.meeting import transcribe_recording
from services.minutes.pipeline.transcribe import TranscriptionOptions
from services.minutes.pipeline.types import MinutesDraft, Segment, Transcript

ProgressCallback = Callable[[float, str], None]


@dataclass
class MeetingOutput:
    transcript: Transcript
    minutes: MinutesDraft
    processing_seconds: float


def process_recording(
    settings: Settings, path: Path, request: MeetingRequest, on_progress: ProgressCallback | None = None
) -> MeetingOutput:
    """Recording → transcript with speakers → minutes draft. Raises ``InvalidInput`` for unusable audio."""
    started = time.perf_counter()
    expected = probe_audio(path).duration

    def report_segment(segment: Segment, position: float) -> None:
        if on_progress is None:
            return
        share = min(position / expected, 1.0) if expected > 0 else 0.0
        # The latest line goes with the progress, so a person can watch the transcript grow.
        on_progress(
            90.0 * share,
            f"Transskriberer {clock_text(position)} af {clock_text(expected)}: {mask_cpr(segment.text)}",
        )

    options = TranscriptionOptions(
        language=None if request.language == "auto" else request.language,
        beam_size=settings.beam_size,
        glossary=tuple(request.glossary),
        batch_size=settings.whisper_batch_size,
    )
    try:
        transcript = transcribe_recording(
            path,
            load_whisper(settings),
            options,
            chunk_seconds=settings.chunk_seconds,
            speaker_encoder=load_speaker_encoder(settings) if request.diarize else None,
            n_speakers=request.num_speakers,
            model_name=whisper_model_name(settings),
            on_segment=report_segment,
        )
    except AudioError as exc:
        raise InvalidInput(str(exc)) from exc

    if on_progress is not None:
        on_progress(95.0, "Skriver referatudkast")
    # With KAI_LLM_URL set the model summarises and proposes items, as in `kai minutes draft`; the draft keeps
    # a proposed item only when the segment it cites exists and bears it out.
    client = LlmClient(settings) if settings.llm_url else None
    minutes = build_minutes_draft(
        transcript,
        title=request.title,
        meeting_date=request.meeting_date,
        participants=request.participants,
        agenda=request.agenda,
        summarizer=llm_summarizer(client) if client else None,
        proposer=llm_proposer(client) if client else None,
    )
    return MeetingOutput(transcript, minutes, time.perf_counter() - started)


def record_transcription(
    session: Any, output: MeetingOutput | None, user: str | None, reference: str | None = None
) -> None:
    """The ledger row of one transcription; ``output`` None records a failed one."""
    if output is None:
        ledger.record_failed_transcription(session, user=user, reference=reference)
        return
    transcript = output.transcript
    ledger.record_transcription(
        session,
        audio_seconds=transcript.duration,
        processing_seconds=output.processing_seconds,
        user=user,
        reference=reference,
        quality=ledger.TranscriptionQuality(
            language=transcript.language,
            language_probability=transcript.language_probability,
            segments=len(transcript.segments),
            words=sum(len(s.words) for s in transcript.segments),
            speakers=len({s.speaker for s in transcript.segments if s.speaker}),
            model=transcript.model,
            agenda_items=len(output.minutes.sections),
            summary_source=output.minutes.summary_source,
        ),
    )
