"""`kai minutes transcribe`: a recording in, a folder of exports out (the CLI's use case)."""

from __future__ import annotations

from pathlib import Path

from services.common.config import Settings
from services.common.db import Database
from services.common.errors import InvalidInput, NotFound
from services.minutes.intake import MeetingRequest, check_audio, validate_request
from services.minutes.pipeline.export import render_export
from services.minutes.processing import (
    MeetingOutput,
    ProgressCallback,
    process_recording,
    record_transcription,
)

CLI_EXPORTS = {
    "json": "transcript.json",
    "docx": "minutes.docx",
    "md": "minutes.md",
    "srt": "transcript.srt",
    "vtt": "transcript.vtt",
}


def transcribe_to_folder(
    db: Database,
    settings: Settings,
    audio: Path,
    out_dir: Path,
    request: MeetingRequest,
    on_progress: ProgressCallback | None = None,
    user: str | None = None,
) -> MeetingOutput:
    """`kai minutes transcribe`: process one file and write its exports into ``out_dir``."""
    if not audio.is_file():
        raise NotFound(f"Filen {audio} findes ikke.")
    request = validate_request(settings, request)
    check_audio(audio)
    try:
        output = process_recording(settings, audio, request, on_progress)
    except InvalidInput:
        with db.session() as session:
            record_transcription(session, None, user)
        raise
    out_dir.mkdir(parents=True, exist_ok=True)
    for fmt, name in CLI_EXPORTS.items():
        content, _, _ = render_export(fmt, output.transcript, output.minutes)
        (out_dir / name).write_bytes(content)
    with db.session() as session:
        record_transcription(session, output, user)
    return output
