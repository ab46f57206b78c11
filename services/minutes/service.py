"""Minutes use cases over stored meetings: who may do what, reading and changing them, item review.

The other concerns have their own modules: ``intake`` (parsing and checking what a person sends),
``processing`` (recording → transcript → draft), ``job`` (the job handler), ``folder`` (the CLI's
file-in, folder-out use case) and ``formatting``; callers import those names from there.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO

from rapidfuzz.distance import Levenshtein
from sqlalchemy import select

from services.common import ledger
from services.common.audit import Action, Outcome, audit
from services.common.auth import Principal, Role, User, parse_role
from services.common.config import Settings
from services.common.db import Database, utcnow
from services.common.errors import Conflict, Forbidden, InvalidInput, NotFound
from services.common.files import format_of
from services.common.jobs import Job, JobRunner, delete_jobs, get_job
from services.common.privacy import mask_cpr
from services.minutes import review, store
from services.minutes.intake import (
    MeetingRequest,
    check_audio,
    recording_format,
    store_upload,
    validate_request,
)
from services.minutes.job import JOB_KIND
from services.minutes.pipeline.audio import RECORDING_FORMATS
from services.minutes.pipeline.export import masked_draft, minutes_text, render_export
from services.minutes.pipeline.types import MinutesDraft, Transcript

# --- use cases over stored meetings ------------------------------------------------------------------


def create_meeting(
    db: Database,
    settings: Settings,
    runner: JobRunner,
    filename: str,
    upload: BinaryIO,
    request: MeetingRequest,
    actor: Principal,
) -> tuple[store.Meeting, Job]:
    """Store an uploaded recording, check that it is usable audio, and queue its transcription.

    ``actor`` owns the meeting. The recording is stored under a name kai chooses, by its format.
    """
    request = validate_request(settings, request)
    fmt = recording_format(filename)
    meeting = store.Meeting(
        id=uuid.uuid4().hex,
        title=request.title,
        meeting_date=request.meeting_date,
        participants=request.participants,
        agenda=request.agenda,
        glossary=request.glossary,
        language=request.language,
        num_speakers=request.num_speakers,
        audio_filename=mask_cpr(Path(filename).name)[:300],
        audio_file=f"recording.{fmt}",
        created_by=actor.name,
    )
    folder = store.meeting_dir(settings.resolved_storage_dir, meeting.id)
    folder.mkdir(parents=True)
    try:
        meeting.audio_bytes = store_upload(upload, folder / meeting.audio_file, settings.max_upload_bytes)
        check_audio(folder / meeting.audio_file)
        with db.session() as session:
            session.add(meeting)
            audit(session, actor, Action.UPLOADED, object_type="meeting", object_id=meeting.id)
        job = runner.submit(JOB_KIND, {"meeting_id": meeting.id}, user=actor.name)
        with db.session() as session:
            store.get_meeting(session, meeting.id).job_id = job.id
        meeting.job_id = job.id
    except BaseException:
        store.remove_meeting_files(settings.resolved_storage_dir, meeting.id)
        with db.session() as session:
            if (stored := session.get(store.Meeting, meeting.id)) is not None:
                session.delete(stored)
        raise
    return meeting, job


# --- who may do what with a meeting ------------------------------------------------------------------
# The owner (who uploaded it) and admin may do everything. The users and roles the owner shares it with may
# read, listen, export, correct and approve it; only the owner and admin may cancel, delete and change the
# sharing. Anyone else gets the same 404 as for a meeting that does not exist, so ids reveal nothing.


def may_manage(meeting: store.Meeting, actor: Principal) -> bool:
    """Whether ``actor`` is the meeting's owner or an administrator."""
    return actor.role == Role.ADMIN or (meeting.created_by is not None and meeting.created_by == actor.name)


def _permitted(
    db: Database, meeting_id: str, actor: Principal, action: Action, manage: str | None = None
) -> store.Meeting:
    """The meeting, if ``actor`` may do ``action`` with it; ``manage`` names an act for its owner only.

    A refusal is audited (the meeting exists, so its id is one of kai's own).
    """
    with db.session() as session:
        meeting = store.get_meeting(session, meeting_id)
        if may_manage(meeting, actor):
            return meeting
        shared = store.is_shared_with(session, meeting_id, actor.name, actor.role)
    if shared and manage is None:
        return meeting
    audit(db, actor, action, object_type="meeting", object_id=meeting_id, outcome=Outcome.DENIED)
    if shared:
        raise Forbidden(f"Kun mødets ejer eller en administrator kan {manage}.")
    raise store.meeting_not_found(meeting_id)


@dataclass
class Sharing:
    """Whom a meeting is shared with besides its owner: users by name, and roles."""

    users: list[str]
    roles: list[str]


def get_access(db: Database, meeting_id: str, actor: Principal) -> Sharing:
    _permitted(db, meeting_id, actor, Action.VIEWED, manage="se, hvem mødet er delt med")
    with db.session() as session:
        return Sharing(*store.shares_of(session, meeting_id))


def _unique(names: list[str]) -> list[str]:
    return sorted(set(names))


def _checked_users(session: Any, names: list[str]) -> list[str]:
    users = _unique([name.strip() for name in names])
    if "" in users:
        raise InvalidInput("Brugernavnet må ikke være tomt.")
    known = set(session.scalars(select(User.name).where(User.name.in_(users))))
    unknown = [f"'{name}'" for name in users if name not in known]
    if len(unknown) == 1:
        raise InvalidInput(f"Brugeren {unknown[0]} findes ikke.")
    if unknown:
        raise InvalidInput(f"Brugerne {', '.join(unknown)} findes ikke.")
    return users


def set_access(db: Database, meeting_id: str, actor: Principal, sharing: Sharing) -> Sharing:
    """Share the meeting with exactly these users and roles (empty lists: with no one)."""
    _permitted(db, meeting_id, actor, Action.SHARED, manage="ændre, hvem mødet er delt med")
    roles = _unique([parse_role(role).value for role in sharing.roles])
    with db.session() as session:
        users = _checked_users(session, sharing.users)
        store.set_shares(session, meeting_id, users, roles)
        audit(session, actor, Action.SHARED, object_type="meeting", object_id=meeting_id)
    return Sharing(users, roles)


# --- reading and changing a stored meeting ---------------------------------------------------------------


def _audited(db: Database, actor: Principal, action: Action, meeting_id: str) -> None:
    audit(db, actor, action, object_type="meeting", object_id=meeting_id)


def get_meeting(db: Database, meeting_id: str, actor: Principal) -> tuple[store.Meeting, Job | None]:
    """A meeting and its transcription job (the status a page polls: not audited as a read)."""
    meeting = _permitted(db, meeting_id, actor, Action.VIEWED)
    job = get_job(db, meeting.job_id) if meeting.job_id else None
    return meeting, job


def list_meetings(db: Database, actor: Principal) -> list[tuple[store.Meeting, Job | None]]:
    """Recent meetings ``actor`` may see, each with its transcription job (one query, for list views)."""
    visible = None if actor.role == Role.ADMIN else store.visible_to(actor.name, actor.role)
    with db.session() as session:
        meetings = store.list_meetings(session, visible)
        job_ids = [m.job_id for m in meetings if m.job_id]
        jobs = {job.id: job for job in session.scalars(select(Job).where(Job.id.in_(job_ids)))}
    return [(meeting, jobs.get(meeting.job_id or "")) for meeting in meetings]


def audio_file(
    db: Database, settings: Settings, meeting_id: str, actor: Principal, audited: bool = True
) -> tuple[Path, str]:
    """The stored recording of a meeting and its format; ``audited``: this request starts a listen."""
    meeting = _permitted(db, meeting_id, actor, Action.VIEWED)
    path = store.audio_path(settings.resolved_storage_dir, meeting)
    if not path.is_file():
        raise NotFound(f"Optagelsen til mødet {meeting_id} findes ikke længere.")
    if audited:
        _audited(db, actor, Action.VIEWED, meeting_id)
    # A recording stored before kai chose the names may have any suffix: only a recording format counts.
    return path, format_of(path, RECORDING_FORMATS)


def _working_copy(meeting: store.Meeting) -> tuple[Transcript, MinutesDraft]:
    if meeting.transcript is None or meeting.minutes is None:
        raise Conflict("Mødet er ikke færdigbehandlet endnu; prøv igen, når jobbet er færdigt.")
    return Transcript.from_dict(meeting.transcript), MinutesDraft.from_dict(meeting.minutes)


def get_result(db: Database, meeting_id: str, actor: Principal) -> tuple[Transcript, MinutesDraft, bool]:
    """The current transcript and minutes (final once approved) and whether they are approved."""
    meeting = _permitted(db, meeting_id, actor, Action.VIEWED)
    transcript, minutes = _working_copy(meeting)
    _audited(db, actor, Action.VIEWED, meeting_id)
    return transcript, minutes, meeting.approved_at is not None


def export_meeting(
    db: Database, meeting_id: str, actor: Principal, fmt: str, version: str = "current"
) -> tuple[bytes, str, str]:
    """One export of the meeting: ``version`` is current (working copy), draft (machine) or final.

    (content, format, file name), as ``render_export``.
    """
    meeting = _permitted(db, meeting_id, actor, Action.EXPORTED)
    if version == "draft":
        data = (meeting.draft_transcript, meeting.draft_minutes)
    elif version == "final":
        if meeting.final_transcript is None:
            raise Conflict("Referatet er ikke godkendt endnu.")
        data = (meeting.final_transcript, meeting.final_minutes)
    elif version == "current":
        data = (meeting.transcript, meeting.minutes)
    else:
        raise InvalidInput("Version skal være 'current', 'draft' eller 'final'.")
    if data[0] is None or data[1] is None:
        raise Conflict("Mødet er ikke færdigbehandlet endnu; prøv igen, når jobbet er færdigt.")
    final = version == "final" or (version == "current" and meeting.approved_at is not None)
    export = render_export(fmt, Transcript.from_dict(data[0]), MinutesDraft.from_dict(data[1]), final=final)
    _audited(db, actor, Action.EXPORTED, meeting_id)
    return export


def _editable(session: Any, meeting_id: str) -> store.Meeting:
    meeting = store.get_meeting_to_change(session, meeting_id)
    if meeting.approved_at is not None:
        raise Conflict("Referatet er godkendt og kan ikke længere redigeres.")
    _working_copy(meeting)
    return meeting


@dataclass
class SegmentEdit:
    id: int
    text: str | None = None
    speaker: str | None = None


def edit_transcript(db: Database, meeting_id: str, actor: Principal, edits: list[SegmentEdit]) -> Transcript:
    _permitted(db, meeting_id, actor, Action.CORRECTED)
    with db.session() as session:
        meeting = _editable(session, meeting_id)
        transcript = Transcript.from_dict(meeting.transcript or {})
        by_id = {segment.id: segment for segment in transcript.segments}
        for edit in edits:
            segment = by_id.get(edit.id)
            if segment is None:
                raise NotFound(f"Segment {edit.id} findes ikke i transskriptionen.")
            text = mask_cpr(edit.text.strip()) if edit.text is not None else segment.text
            if text != segment.text:
                segment.text = text
                segment.words = []  # the word timings no longer match the corrected text
            if edit.speaker is not None:
                segment.speaker = mask_cpr(edit.speaker.strip()) or None
                for word in segment.words:
                    word.speaker = segment.speaker
        meeting.transcript = transcript.to_dict()
        audit(session, actor, Action.CORRECTED, object_type="meeting", object_id=meeting_id)
    return transcript


def rename_speakers(db: Database, meeting_id: str, actor: Principal, names: dict[str, str]) -> Transcript:
    """Give speaker labels ("Taler 1") participants' names; the minutes' action owners follow."""
    _permitted(db, meeting_id, actor, Action.CORRECTED)
    with db.session() as session:
        meeting = _editable(session, meeting_id)
        transcript = Transcript.from_dict(meeting.transcript or {})
        minutes = MinutesDraft.from_dict(meeting.minutes or {})
        labels = {s.speaker for s in transcript.segments if s.speaker}
        unknown = sorted(set(names) - labels)
        if unknown:
            raise NotFound(f"Ukendt taler: {', '.join(unknown)}. Kendte talere: {', '.join(sorted(labels))}.")
        for label, name in names.items():
            old_name = transcript.speaker_name(label)
            new_name = mask_cpr(name.strip()) or label
            transcript.speakers[label] = new_name
            for section in minutes.sections:
                for action in section.actions:
                    if action.who == old_name:
                        action.who = new_name
        meeting.transcript = transcript.to_dict()
        meeting.minutes = minutes.to_dict()
        audit(session, actor, Action.CORRECTED, object_type="meeting", object_id=meeting_id)
    return transcript


def update_minutes(db: Database, meeting_id: str, actor: Principal, minutes: MinutesDraft) -> MinutesDraft:
    if not minutes.sections:
        raise InvalidInput("Referatet skal have mindst ét punkt.")
    _permitted(db, meeting_id, actor, Action.CORRECTED)
    minutes = masked_draft(minutes)
    with db.session() as session:
        meeting = _editable(session, meeting_id)
        verdicts = _verdicts(session, meeting_id)
        # Item review owns the decisions and actions once it has begun; only it marks items as reviewed.
        minutes = _applied(meeting, minutes, verdicts) if verdicts else review.without_marks(minutes)
        meeting.minutes = minutes.to_dict()
        audit(session, actor, Action.CORRECTED, object_type="meeting", object_id=meeting_id)
    return minutes


def approve_meeting(
    db: Database, meeting_id: str, actor: Principal, review_seconds: float | None = None
) -> store.Meeting:
    """Store the reviewed version as final and record how much the person had to change.

    The ledger's review row carries the edit amount, the measured review time and the item counts (see
    ``_item_counts``). Only the request that turns the meeting from unapproved to approved writes it: a
    retried or concurrent approve waits for the meeting's lock (``_editable``), finds it approved and gets
    409, so a meeting is never counted twice.
    """
    _permitted(db, meeting_id, actor, Action.APPROVED)
    with db.session() as session:
        meeting = _editable(session, meeting_id)
        draft_minutes = MinutesDraft.from_dict(meeting.draft_minutes or {})
        draft_doc = minutes_text(Transcript.from_dict(meeting.draft_transcript or {}), draft_minutes)
        final_transcript, final_minutes = _working_copy(meeting)
        # The edit amount is the text's: the review marks an export shows are not edits.
        final_doc = minutes_text(final_transcript, review.without_marks(final_minutes))
        distance = Levenshtein.distance(draft_doc, final_doc)
        meeting.final_transcript, meeting.final_minutes = meeting.transcript, meeting.minutes
        meeting.approved_at, meeting.approved_by = utcnow(), actor.name
        decisions, actions, item_review = _item_counts(session, meeting, draft_minutes, final_minutes)
        ledger.record_review(
            session,
            audio_seconds=final_transcript.duration,
            user=actor.name,
            reference=meeting_id,
            quality=ledger.ReviewQuality(
                edit_distance_chars=distance,
                draft_chars=len(draft_doc),
                final_chars=len(final_doc),
                edit_ratio=round(distance / max(len(draft_doc), 1), 4),
                review_seconds=None if review_seconds is None else round(review_seconds, 1),
                decisions=decisions,
                actions=actions,
                item_review=item_review,
            ),
        )
        audit(session, actor, Action.APPROVED, object_type="meeting", object_id=meeting_id)
    return meeting


# --- item review: the reviewer's verdict on each decision and action of the draft -------------------------
# Each verdict is applied at once to the working copy (its decisions and actions are rebuilt from the draft's
# items and the verdicts), so the result, the exports and the approval show the reviewed minutes.
# PUT /minutes still replaces the working copy (titles, summaries, participants); once a meeting has a
# verdict, the decisions and actions in its body are replaced by the reviewed ones: item review owns them.
# Without any verdict PUT /minutes sets them as before, and approval measures the review by comparing the
# draft's items with the approved ones (``review.counts_by_comparison``). POST /approve is unchanged for its
# callers; it adds the counts to its ledger row.


def _verdicts(session: Any, meeting_id: str) -> list[review.Verdict]:
    return [
        review.Verdict(r.key, r.kind, r.section, r.segment, r.status, r.text, r.who, r.deadline)
        for r in store.review_items(session, meeting_id)
    ]


def _review_items(meeting: store.Meeting, verdicts: list[review.Verdict]) -> list[review.Item]:
    transcript, _ = _working_copy(meeting)
    if meeting.draft_minutes is None:  # the job stores it with the working copy; that copy is no stand-in
        raise Conflict("Mødet har intet maskinelt udkast at gennemse; behandl optagelsen igen.")
    draft = MinutesDraft.from_dict(meeting.draft_minutes)
    return review.reviewed_items(draft, verdicts, [segment.start for segment in transcript.segments])


def _applied(meeting: store.Meeting, minutes: MinutesDraft, verdicts: list[review.Verdict]) -> MinutesDraft:
    speakers = Transcript.from_dict(meeting.transcript or {}).speakers
    return review.apply_review(minutes, _review_items(meeting, verdicts), speakers)


def _item_counts(
    session: Any, meeting: store.Meeting, draft: MinutesDraft, final: MinutesDraft
) -> tuple[ledger.ItemCounts, ledger.ItemCounts, bool]:
    """The review's counts of decisions and of actions, and whether they come from item review."""
    verdicts = _verdicts(session, meeting.id)
    kinds = (review.DECISION, review.ACTION)
    if verdicts:
        items = _review_items(meeting, verdicts)
        counts = {kind: review.counts_of(items, kind) for kind in kinds}
    else:
        counts = {kind: review.counts_by_comparison(draft, final, kind) for kind in kinds}
    return counts[review.DECISION], counts[review.ACTION], bool(verdicts)


@dataclass
class ReviewState:
    items: list[review.Item]
    decisions: ledger.ItemCounts
    actions: ledger.ItemCounts
    approved: bool


def get_review(db: Database, meeting_id: str, actor: Principal, audited: bool = True) -> ReviewState:
    """Every decision and action of the draft with the reviewer's verdict, and the counts so far.

    ``audited`` False: the page shows it beside the result, whose read is audited already."""
    _permitted(db, meeting_id, actor, Action.VIEWED)
    with db.session() as session:
        meeting = store.get_meeting(session, meeting_id)
        items = _review_items(meeting, _verdicts(session, meeting_id))
    if audited:
        _audited(db, actor, Action.VIEWED, meeting_id)
    return ReviewState(
        items, review.counts_of(items, review.DECISION), review.counts_of(items, review.ACTION),
        meeting.approved_at is not None,
    )  # fmt: skip


@dataclass
class ItemChange:
    """What a reviewer sends for one item; ``status`` is accepted, edited, removed or proposed (undo)."""

    status: str
    text: str | None = None
    who: str | None = None
    deadline: str | None = None


def _clean(text: str | None, limit: int, what: str) -> str | None:
    """A reviewer's text stripped and CPR-masked; None when empty. Over ``limit`` → 422."""
    if text is None:
        return None
    cleaned = mask_cpr(text.strip())
    if len(cleaned) > limit:
        raise InvalidInput(f"{what} må højst være {limit} tegn.")
    return cleaned or None


def _typed_fields(kind: str, change: ItemChange) -> tuple[str, str | None, str | None]:
    text = _clean(change.text, review.MAX_TEXT_CHARS, "Teksten")
    if text is None:
        raise InvalidInput("Teksten må ikke være tom.")
    who = _clean(change.who, review.MAX_WHO_CHARS, "Den ansvarlige")
    deadline = _clean(change.deadline, review.MAX_DEADLINE_CHARS, "Fristen")
    if kind == review.DECISION and (who or deadline):
        raise InvalidInput("En beslutning har ingen ansvarlig eller frist; det har et handlingspunkt.")
    return text, who, deadline


def _store_verdict(session: Any, meeting: store.Meeting, item: review.Item, actor: Principal) -> None:
    row = session.get(store.ReviewItem, (meeting.id, item.key))
    if row is None:
        row = store.ReviewItem(meeting_id=meeting.id, key=item.key, kind=item.kind, section=item.section)
        session.add(row)
    row.segment, row.status, row.updated_by = item.segment, item.status, actor.name
    row.text, row.who, row.deadline = item.text, item.who, item.deadline
    row.original_text, row.original_who, row.original_deadline = (
        item.original_text, item.original_who, item.original_deadline,
    )  # fmt: skip


def _after_change(session: Any, meeting: store.Meeting, actor: Principal) -> None:
    session.flush()
    minutes = MinutesDraft.from_dict(meeting.minutes or {})
    meeting.minutes = _applied(meeting, minutes, _verdicts(session, meeting.id)).to_dict()
    audit(session, actor, Action.CORRECTED, object_type="meeting", object_id=meeting.id)


def review_item(db: Database, meeting_id: str, actor: Principal, key: str, change: ItemChange) -> review.Item:
    """Accept, edit, remove (or return to proposed) one item; the working copy follows at once."""
    _permitted(db, meeting_id, actor, Action.CORRECTED)
    with db.session() as session:
        meeting = _editable(session, meeting_id)
        items = {item.key: item for item in _review_items(meeting, _verdicts(session, meeting_id))}
        item = items.get(key)
        if item is None:
            raise NotFound(f"Punktet {key} findes ikke i referatets gennemsyn.")
        row = session.get(store.ReviewItem, (meeting_id, key))
        if change.status == review.PROPOSED and item.status == review.ADDED:
            # "proposed" undoes a verdict on a draft item; an added item has no draft wording to go back to.
            raise InvalidInput(
                "Et tilføjet punkt kan ikke sættes tilbage til forslag; brug 'removed' for at fjerne det."
            )
        if change.status == review.ACCEPTED and item.status == review.ADDED and change.text is None:
            return item  # the reviewer's own item needs no acceptance
        if change.status == review.ACCEPTED and item.status != review.ADDED:
            item = replace(
                item, status=review.ACCEPTED, text=item.original_text or item.text,
                who=item.original_who, deadline=item.original_deadline,
            )  # fmt: skip
        elif change.status in (review.ACCEPTED, review.EDITED):
            text, who, deadline = _typed_fields(item.kind, change)
            item = replace(item, text=text, who=who, deadline=deadline)
            item = replace(item, status=review.verdict_status(item, text, who, deadline))
        elif change.status == review.REMOVED and item.status != review.ADDED:
            item = replace(item, status=review.REMOVED)
        elif change.status in (review.REMOVED, review.PROPOSED):
            # Undo: a draft item is proposed again; an added item that is removed is gone (only "removed" gets
            # here for one: "proposed" on it is refused above).
            if row is not None:
                session.delete(row)
            item = replace(
                item, status=review.REMOVED if item.status == review.ADDED else review.PROPOSED,
                text=item.original_text or item.text, who=item.original_who, deadline=item.original_deadline,
            )  # fmt: skip
            _after_change(session, meeting, actor)
            return item
        else:
            raise InvalidInput("Status skal være 'accepted', 'edited', 'removed' eller 'proposed'.")
        _store_verdict(session, meeting, item, actor)
        _after_change(session, meeting, actor)
    return item


def add_review_item(
    db: Database,
    meeting_id: str,
    actor: Principal,
    kind: str,
    section: int,
    change: ItemChange,
    segment: int | None = None,
) -> review.Item:
    """A decision or action the draft missed, added by the reviewer (counted as added)."""
    if kind not in review.KIND_PREFIX:
        raise InvalidInput("Art skal være 'decision' eller 'action'.")
    _permitted(db, meeting_id, actor, Action.CORRECTED)
    text, who, deadline = _typed_fields(kind, change)
    with db.session() as session:
        meeting = _editable(session, meeting_id)
        transcript, minutes = _working_copy(meeting)
        if not 0 <= section < len(minutes.sections):
            raise InvalidInput(f"Punkt {section} findes ikke; referatet har {len(minutes.sections)} punkter.")
        if segment is not None and not 0 <= segment < len(transcript.segments):
            raise InvalidInput(f"Segment {segment} findes ikke i transskriptionen.")
        verdicts = _verdicts(session, meeting_id)
        if sum(v.status == review.ADDED for v in verdicts) >= review.MAX_ADDED_ITEMS:
            raise InvalidInput(f"Der kan højst tilføjes {review.MAX_ADDED_ITEMS} punkter til et referat.")
        start = transcript.segments[segment].start if segment is not None else minutes.sections[section].start
        key = f"{review.KIND_PREFIX[kind]}+{uuid.uuid4().hex[:12]}"
        item = review.Item(key, kind, section, segment, start, review.ADDED, text, who, deadline)
        _store_verdict(session, meeting, item, actor)
        _after_change(session, meeting, actor)
    return item


def delete_meeting(
    db: Database, settings: Settings, runner: JobRunner, meeting_id: str, actor: Principal
) -> None:
    """Delete a meeting with its job, sharing, audio and everything derived from it."""
    _permitted(db, meeting_id, actor, Action.DELETED, manage="slette mødet")
    with db.session() as session:
        meeting = store.get_meeting(session, meeting_id)
        job_id = meeting.job_id
        session.delete(meeting)
        audit(session, actor, Action.DELETED, object_type="meeting", object_id=meeting_id)
    if job_id:
        runner.cancel(job_id)
        delete_jobs(db, [job_id])
    store.remove_meeting_files(settings.resolved_storage_dir, meeting_id)


def cancel_meeting(db: Database, runner: JobRunner, meeting_id: str, actor: Principal) -> Job:
    meeting = _permitted(db, meeting_id, actor, Action.CANCELLED, manage="annullere behandlingen")
    if not meeting.job_id:
        raise Conflict("Mødet har intet job at annullere.")
    job = runner.cancel(meeting.job_id)
    _audited(db, actor, Action.CANCELLED, meeting_id)
    return job
