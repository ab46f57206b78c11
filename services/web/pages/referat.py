"""Referat: upload a meeting recording, follow its processing, review transcript and minutes, approve.

The pages render what is stored; every change goes through the JSON API under /api/minutes from
static/referat.js (with the session's CSRF token), so the page and the API share one set of rules.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response, status

from services.common.auth import Role
from services.common.deps import DatabaseDep, SettingsDep
from services.common.errors import NotFound
from services.common.jobs import Job, JobStatus
from services.minutes import formatting, service
from services.minutes.pipeline.audio import RECORDING_FORMATS
from services.minutes.pipeline.export import EXPORT_FORMATS, REVIEW_MARKS
from services.minutes.schemas import ReviewCountsOut, ReviewItemOut
from services.minutes.store import Meeting
from services.web.rendering import PageUser, danish_time, page_router, render

router = page_router()

# The recording's language: Danish first, as most meetings are; "auto" lets Whisper detect it.
LANGUAGES = (
    ("da", "Dansk"),
    ("auto", "Find sproget automatisk"),
    ("en", "Engelsk"),
    ("sv", "Svensk"),
    ("no", "Norsk"),
    ("de", "Tysk"),
)
# What each of the minutes service's export formats is called on the page.
FORMAT_LABELS = {
    "docx": "Word (DOCX)",
    "txt": "Tekst (TXT)",
    "md": "Markdown (MD)",
    "srt": "Undertekster (SRT)",
    "vtt": "Undertekster (WebVTT)",
    "json": "Data (JSON)",
}
# The roles a meeting can be shared with (administrators see every meeting already).
SHARE_ROLES = (
    (Role.MEDARBEJDER.value, "Medarbejdere"),
    (Role.SAGSBEHANDLER.value, "Sagsbehandlere"),
    (Role.IT.value, "IT"),
    (Role.LEDELSE.value, "Ledelse"),
)
JOB_STATUS_LABELS = {
    JobStatus.QUEUED: "I kø",
    JobStatus.RUNNING: "Behandles",
    JobStatus.DONE: "Klar til gennemsyn",
    JobStatus.FAILED: "Mislykkedes",
    JobStatus.CANCELLED: "Annulleret",
}


def meeting_status(meeting: Meeting, job: Job | None) -> str:
    """What the list says about a meeting, in the order a person cares about."""
    if meeting.approved_at is not None:
        return "Godkendt"
    if job is None:
        return "Klar til gennemsyn" if meeting.transcript is not None else "Ikke behandlet"
    label = JOB_STATUS_LABELS.get(job.status, job.status)
    return f"{label} ({job.progress:.0f} %)" if job.status == JobStatus.RUNNING else label


def _meeting_row(meeting: Meeting, job: Job | None) -> dict[str, Any]:
    return {
        "id": meeting.id,
        "title": meeting.title,
        "meeting_date": meeting.meeting_date.strftime("%d.%m.%Y") if meeting.meeting_date else "",
        "uploaded": danish_time(meeting.created_at),
        "status": meeting_status(meeting, job),
    }


@router.get("/referat", response_model=None)
def meetings_page(
    request: Request, db: DatabaseDep, settings: SettingsDep, principal: PageUser, slettet: bool = False
) -> Response:
    return render(
        request,
        "referat.html",
        principal,
        meetings=[_meeting_row(meeting, job) for meeting, job in service.list_meetings(db, principal)],
        languages=LANGUAGES,
        recording_formats=RECORDING_FORMATS,
        max_upload_mb=settings.max_upload_mb,
        deleted=slettet,
    )


@router.get("/referat/{meeting_id}", response_model=None)
def meeting_page(request: Request, db: DatabaseDep, principal: PageUser, meeting_id: str) -> Response:
    try:
        meeting, job = service.get_meeting(db, meeting_id, principal)
    except NotFound:
        return render(request, "referat_notfound.html", principal, status.HTTP_404_NOT_FOUND)
    # Only the owner and administrators cancel, delete and share; they see those controls.
    manage = service.may_manage(meeting, principal)
    owner_context = {
        "may_manage": manage,
        "sharing": service.get_access(db, meeting_id, principal) if manage else None,
        "share_roles": SHARE_ROLES,
    }
    if meeting.transcript is None:
        # Still processing, failed or cancelled: the page follows the job and reloads when it is done.
        return render(
            request, "referat_meeting.html", principal, meeting=meeting, job=job, ready=False, **owner_context
        )
    transcript, minutes, approved = service.get_result(db, meeting_id, principal)
    labels = sorted({s.speaker for s in transcript.segments if s.speaker})
    return render(
        request,
        "referat_meeting.html",
        principal,
        meeting=meeting,
        job=job,
        ready=True,
        **owner_context,
        clock=formatting.clock_text,
        approved=approved,
        approved_at=danish_time(meeting.approved_at),
        transcript=transcript,
        minutes=minutes,
        speaker_labels=labels,
        export_formats=[(fmt, FORMAT_LABELS[fmt]) for fmt in EXPORT_FORMATS],
        review_marks=REVIEW_MARKS,
        # referat.js keeps what the form does not show (times, segment ids) when it saves the minutes.
        minutes_data=minutes.to_dict(),
        # The draft's decisions and actions with the reviewer's verdicts; referat.js shows and changes them.
        review_data=None if approved else _review_data(service.get_review(db, meeting_id, principal, False)),
    )


def _review_data(state: service.ReviewState) -> dict[str, Any]:
    return {
        "items": [ReviewItemOut.model_validate(item).model_dump() for item in state.items],
        "decisions": ReviewCountsOut.model_validate(state.decisions).model_dump(),
        "actions": ReviewCountsOut.model_validate(state.actions).model_dump(),
    }
