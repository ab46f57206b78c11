"""HTTP layer of the minutes service: parse, call one service function, shape the answer."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, File, Form, Path, Request, Response, UploadFile, status
from fastapi.responses import FileResponse

from services.common.auth import PrincipalDep
from services.common.deps import DatabaseDep, RunnerDep, SettingsDep
from services.common.files import content_response, file_response
from services.minutes import intake, service
from services.minutes.pipeline.types import MinutesDraft, Transcript
from services.minutes.schemas import (
    ApproveIn,
    JobOut,
    MeetingAccess,
    MeetingOut,
    ResultOut,
    ReviewCountsOut,
    ReviewItemIn,
    ReviewItemNewIn,
    ReviewItemOut,
    ReviewOut,
    SpeakerNamesIn,
    TranscriptEditIn,
)

router = APIRouter(prefix="/api/minutes", tags=["minutes"])


def _meeting_out(meeting: object, job: object | None) -> MeetingOut:
    out = MeetingOut.model_validate(meeting)
    out.job = JobOut.model_validate(job) if job is not None else None
    return out


@router.post("/meetings", status_code=status.HTTP_202_ACCEPTED, response_model=MeetingOut)
def create_meeting(
    principal: PrincipalDep,
    db: DatabaseDep,
    settings: SettingsDep,
    runner: RunnerDep,
    file: Annotated[UploadFile, File(description="WAV, MP3, M4A, AAC, OGG, OGA, OPUS, FLAC, WEBM or MP4.")],
    title: Annotated[str, Form(max_length=300)] = "Mødereferat",
    meeting_date: Annotated[date | None, Form()] = None,
    participants: Annotated[str | None, Form(description="Names separated by commas.")] = None,
    agenda: Annotated[UploadFile | None, File(description="Text file, one agenda item per line.")] = None,
    agenda_text: Annotated[str | None, Form(description="The agenda as text, one item per line.")] = None,
    language: Annotated[str, Form(description="Language code, or 'auto'.")] = "da",
    speakers: Annotated[int | None, Form(description="Number of speakers, if known.")] = None,
    glossary: Annotated[str | None, Form(description="Local names and terms, separated by commas.")] = None,
) -> MeetingOut:
    if agenda is not None and agenda.filename:
        agenda_items: list[str] | None = intake.parse_agenda(agenda.file.read(intake.MAX_AGENDA_BYTES + 1))
    elif agenda_text:
        agenda_items = intake.parse_agenda(agenda_text.encode())
    else:
        agenda_items = None
    request = intake.MeetingRequest(
        title=title,
        meeting_date=meeting_date,
        participants=intake.parse_name_list(participants),
        agenda=agenda_items,
        glossary=intake.parse_name_list(glossary),
        language=language,
        num_speakers=speakers,
    )
    meeting, job = service.create_meeting(
        db, settings, runner, file.filename or "", file.file, request, actor=principal
    )
    return _meeting_out(meeting, job)


@router.get("/meetings", response_model=list[MeetingOut])
def list_meetings(principal: PrincipalDep, db: DatabaseDep) -> list[MeetingOut]:
    """The meetings you own, that are shared with you or your role (an administrator: all)."""
    return [_meeting_out(meeting, job) for meeting, job in service.list_meetings(db, principal)]


@router.get("/meetings/{meeting_id}", response_model=MeetingOut)
def get_meeting(principal: PrincipalDep, db: DatabaseDep, meeting_id: str) -> MeetingOut:
    return _meeting_out(*service.get_meeting(db, meeting_id, principal))


@router.get("/meetings/{meeting_id}/access", response_model=MeetingAccess)
def get_access(principal: PrincipalDep, db: DatabaseDep, meeting_id: str) -> MeetingAccess:
    """Whom the meeting is shared with (its owner and administrators only)."""
    return MeetingAccess.model_validate(service.get_access(db, meeting_id, principal))


@router.put("/meetings/{meeting_id}/access", response_model=MeetingAccess)
def set_access(
    principal: PrincipalDep, db: DatabaseDep, meeting_id: str, body: MeetingAccess
) -> MeetingAccess:
    """Share the meeting with exactly these users and roles: they may read, export, correct and approve it."""
    sharing = service.set_access(db, meeting_id, principal, service.Sharing(body.users, body.roles))
    return MeetingAccess.model_validate(sharing)


@router.post("/meetings/{meeting_id}/cancel", response_model=JobOut)
def cancel_meeting(principal: PrincipalDep, db: DatabaseDep, runner: RunnerDep, meeting_id: str) -> JobOut:
    return JobOut.model_validate(service.cancel_meeting(db, runner, meeting_id, principal))


@router.get("/meetings/{meeting_id}/result", response_model=ResultOut)
def get_result(principal: PrincipalDep, db: DatabaseDep, meeting_id: str) -> ResultOut:
    transcript, minutes, approved = service.get_result(db, meeting_id, principal)
    return ResultOut(transcript=transcript, minutes=minutes, approved=approved)


@router.get(
    "/meetings/{meeting_id}/audio",
    response_class=FileResponse,
    responses={200: {"description": "The recording; supports HTTP Range requests (seeking)."}},
)
def get_audio(
    request: Request, principal: PrincipalDep, db: DatabaseDep, settings: SettingsDep, meeting_id: str
) -> FileResponse:
    # A player asks for the start, then for ranges as it seeks: only the start counts as a read.
    starts_a_listen = request.headers.get("range", "bytes=0-").replace(" ", "").startswith("bytes=0-")
    path, fmt = service.audio_file(db, settings, meeting_id, principal, audited=starts_a_listen)
    # Inline: the review page plays it in an <audio> element.
    return file_response(path, fmt, f"optagelse.{fmt}", inline=True)


@router.get("/meetings/{meeting_id}/export/{fmt}")
def export_meeting(
    principal: PrincipalDep, db: DatabaseDep, meeting_id: str, fmt: str, version: str = "current"
) -> Response:
    return content_response(*service.export_meeting(db, meeting_id, principal, fmt, version))


@router.patch("/meetings/{meeting_id}/transcript", response_model=Transcript)
def edit_transcript(
    principal: PrincipalDep, db: DatabaseDep, meeting_id: str, body: TranscriptEditIn
) -> Transcript:
    edits = [service.SegmentEdit(e.id, e.text, e.speaker) for e in body.segments]
    return service.edit_transcript(db, meeting_id, principal, edits)


@router.put("/meetings/{meeting_id}/speakers", response_model=Transcript)
def rename_speakers(
    principal: PrincipalDep, db: DatabaseDep, meeting_id: str, body: SpeakerNamesIn
) -> Transcript:
    return service.rename_speakers(db, meeting_id, principal, body.speakers)


@router.put("/meetings/{meeting_id}/minutes", response_model=MinutesDraft)
def update_minutes(
    principal: PrincipalDep, db: DatabaseDep, meeting_id: str, body: MinutesDraft
) -> MinutesDraft:
    return service.update_minutes(db, meeting_id, principal, body)


@router.get("/meetings/{meeting_id}/review", response_model=ReviewOut)
def get_review(principal: PrincipalDep, db: DatabaseDep, meeting_id: str) -> ReviewOut:
    """Every decision and action of the draft with the reviewer's verdict, and the counts so far."""
    state = service.get_review(db, meeting_id, principal)
    return ReviewOut(
        approved=state.approved,
        items=[ReviewItemOut.model_validate(item) for item in state.items],
        decisions=ReviewCountsOut.model_validate(state.decisions),
        actions=ReviewCountsOut.model_validate(state.actions),
    )


@router.put("/meetings/{meeting_id}/review/items/{key}", response_model=ReviewItemOut)
def review_item(
    principal: PrincipalDep,
    db: DatabaseDep,
    meeting_id: str,
    key: Annotated[str, Path(max_length=40)],
    body: ReviewItemIn,
) -> ReviewItemOut:
    """Accept, edit or remove one item (or undo with "proposed"); the working minutes follow at once."""
    change = service.ItemChange(body.status, body.text, body.who, body.deadline)
    return ReviewItemOut.model_validate(service.review_item(db, meeting_id, principal, key, change))


@router.post(
    "/meetings/{meeting_id}/review/items", status_code=status.HTTP_201_CREATED, response_model=ReviewItemOut
)
def add_review_item(
    principal: PrincipalDep, db: DatabaseDep, meeting_id: str, body: ReviewItemNewIn
) -> ReviewItemOut:
    """Add a decision or action the draft missed; it is marked as added."""
    change = service.ItemChange("added", body.text, body.who, body.deadline)
    item = service.add_review_item(db, meeting_id, principal, body.kind, body.section, change, body.segment)
    return ReviewItemOut.model_validate(item)


@router.post("/meetings/{meeting_id}/approve", response_model=MeetingOut)
def approve_meeting(
    principal: PrincipalDep, db: DatabaseDep, meeting_id: str, body: ApproveIn | None = None
) -> MeetingOut:
    review_seconds = body.review_seconds if body else None
    meeting = service.approve_meeting(db, meeting_id, principal, review_seconds=review_seconds)
    return _meeting_out(meeting, None)


@router.delete("/meetings/{meeting_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_meeting(
    principal: PrincipalDep, db: DatabaseDep, settings: SettingsDep, runner: RunnerDep, meeting_id: str
) -> Response:
    service.delete_meeting(db, settings, runner, meeting_id, principal)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
