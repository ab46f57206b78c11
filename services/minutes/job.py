"""The job handler: transcribe a stored meeting in the job runner and keep the draft beside it."""

from __future__ import annotations

from typing import Any

from services.common.errors import InvalidInput
from services.common.jobs import JobContext
from services.minutes import processing, store
from services.minutes.intake import MeetingRequest
from services.minutes.pipeline.export import masked_draft, masked_transcript

JOB_KIND = "minutes.transcribe"


def _request_of(meeting: store.Meeting) -> MeetingRequest:
    return MeetingRequest(
        title=meeting.title,
        meeting_date=meeting.meeting_date,
        participants=list(meeting.participants),
        agenda=list(meeting.agenda) if meeting.agenda else None,
        glossary=list(meeting.glossary),
        language=meeting.language,
        num_speakers=meeting.num_speakers,
    )


def run_transcription_job(context: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Job handler: transcribe a stored meeting and keep the draft beside it."""
    db, settings = context.db, context.settings
    meeting_id = payload["meeting_id"]
    with db.session() as session:
        meeting = store.get_meeting(session, meeting_id)
    path = store.audio_path(settings.resolved_storage_dir, meeting)
    try:
        output = processing.process_recording(settings, path, _request_of(meeting), context.report)
    except InvalidInput as exc:
        with db.session() as session:
            store.get_meeting(session, meeting_id).failure = exc.message
            processing.record_transcription(session, None, meeting.created_by, meeting_id)
            context.finish(session, error=exc.message)
        raise
    context.report(99.0, "Gemmer")
    result = {
        "meeting_id": meeting_id,
        "duration": output.transcript.duration,
        "segments": len(output.transcript.segments),
    }
    # Results, ledger row and job status in one transaction: a retried job can never count twice.
    with db.session() as session:
        stored = store.get_meeting(session, meeting_id)
        # A CPR number said aloud is masked before it is stored, as typed ones are.
        stored.draft_transcript = stored.transcript = masked_transcript(output.transcript).to_dict()
        stored.draft_minutes = stored.minutes = masked_draft(output.minutes).to_dict()
        stored.processing_seconds = output.processing_seconds
        stored.failure = None
        processing.record_transcription(session, output, meeting.created_by, meeting_id)
        context.finish(session, result)
    return result
