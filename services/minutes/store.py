"""Persistence for meetings: one row per uploaded recording, its files in ``<data dir>/minutes/<id>/``."""

from __future__ import annotations

import shutil
import uuid
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Date,
    Float,
    ForeignKey,
    String,
    Text,
    and_,
    delete,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from services.common.db import Base, as_utc, utcnow
from services.common.errors import NotFound


class Meeting(Base):
    __tablename__ = "minutes_meetings"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: uuid.uuid4().hex)
    title: Mapped[str] = mapped_column(String(300))
    meeting_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    participants: Mapped[list[str]] = mapped_column(JSON, default=list)
    agenda: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    glossary: Mapped[list[str]] = mapped_column(JSON, default=list)
    language: Mapped[str] = mapped_column(String(8), default="da")  # requested: a code or "auto"
    num_speakers: Mapped[int | None] = mapped_column(nullable=True)
    audio_filename: Mapped[str] = mapped_column(String(300))  # the name it was uploaded with (CPR-masked)
    audio_file: Mapped[str] = mapped_column(String(300))  # stored file name inside the meeting folder
    audio_bytes: Mapped[int] = mapped_column(default=0)
    job_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    created_by: Mapped[str | None] = mapped_column(String(128), nullable=True)  # the owner
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    processing_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    # The machine's output, kept unchanged so the review's edit amount can be measured against it.
    draft_transcript: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    draft_minutes: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # The working copy a person edits; becomes final on approval.
    transcript: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    minutes: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    final_transcript: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    final_minutes: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(nullable=True)
    approved_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    failure: Mapped[str | None] = mapped_column(Text, nullable=True)


def meeting_dir(storage_dir: Path, meeting_id: str) -> Path:
    return storage_dir / "minutes" / meeting_id


def audio_path(storage_dir: Path, meeting: Meeting) -> Path:
    return meeting_dir(storage_dir, meeting.id) / meeting.audio_file


class MeetingShare(Base):
    """One user, or every user with one role, whom the owner shares a meeting with."""

    __tablename__ = "minutes_meeting_shares"

    meeting_id: Mapped[str] = mapped_column(
        ForeignKey("minutes_meetings.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)  # SHARE_USER or SHARE_ROLE
    name: Mapped[str] = mapped_column(String(128), primary_key=True, index=True)  # a user or role name


SHARE_USER, SHARE_ROLE = "user", "role"


class ReviewItem(Base):
    """The reviewer's verdict on one decision or action of a meeting's draft, or one she added.

    ``key`` names the item: ``d<section>.<n>`` / ``a<section>.<n>`` for the n-th decision/action of a section
    of the machine draft (``draft_minutes``, which never changes), ``d+<hex>`` / ``a+<hex>`` for an added one.
    A draft item without a row is still ``proposed``. The draft's own wording is kept beside the edited one.
    """

    __tablename__ = "minutes_review_items"

    meeting_id: Mapped[str] = mapped_column(
        ForeignKey("minutes_meetings.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # decision | action
    section: Mapped[int] = mapped_column()  # index into the minutes' sections
    segment: Mapped[int | None] = mapped_column(nullable=True)
    status: Mapped[str] = mapped_column(String(10))  # accepted | edited | removed | added
    original_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    original_who: Mapped[str | None] = mapped_column(String(128), nullable=True)
    original_deadline: Mapped[str | None] = mapped_column(String(64), nullable=True)
    text: Mapped[str] = mapped_column(Text)
    who: Mapped[str | None] = mapped_column(String(128), nullable=True)
    deadline: Mapped[str | None] = mapped_column(String(64), nullable=True)
    updated_by: Mapped[str] = mapped_column(String(128))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)  # added items are shown in this order


def review_items(session: Session, meeting_id: str) -> list[ReviewItem]:
    """The stored verdicts of one meeting's review, in a stable order: by section, then in the order they were
    stored (an added item's key is random, so sorting by it would shuffle the items added to one section)."""
    query = select(ReviewItem).where(ReviewItem.meeting_id == meeting_id)
    return sorted(session.scalars(query), key=lambda item: (item.section, as_utc(item.created_at), item.key))


def meeting_not_found(meeting_id: str) -> NotFound:
    return NotFound(f"Mødet {meeting_id} findes ikke.")


def get_meeting(session: Session, meeting_id: str) -> Meeting:
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise meeting_not_found(meeting_id)
    return meeting


def get_meeting_to_change(session: Session, meeting_id: str) -> Meeting:
    """The meeting, locked until the transaction ends: its working copy and review verdicts are read, changed
    and written by one request at a time, so a concurrent save neither inserts the same verdict twice nor
    writes a working copy without the other's verdict. Call it first in the session.

    PostgreSQL locks the row (SELECT ... FOR UPDATE). SQLite has no row locks: BEGIN IMMEDIATE takes its
    write lock now (waiting out the busy timeout), so every read after it is the newest."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("BEGIN IMMEDIATE"))
    meeting = session.get(Meeting, meeting_id, with_for_update=True, populate_existing=True)
    if meeting is None:
        raise meeting_not_found(meeting_id)
    return meeting


def _shared_with(user: str, role: str) -> ColumnElement[bool]:
    return or_(
        and_(MeetingShare.kind == SHARE_USER, MeetingShare.name == user),
        and_(MeetingShare.kind == SHARE_ROLE, MeetingShare.name == role),
    )


def visible_to(user: str, role: str) -> ColumnElement[bool]:
    """Meetings ``user`` owns, or that are shared with them or with ``role``."""
    shared = select(MeetingShare.meeting_id).where(_shared_with(user, role))
    return or_(Meeting.created_by == user, Meeting.id.in_(shared))


def is_shared_with(session: Session, meeting_id: str, user: str, role: str) -> bool:
    query = select(MeetingShare.meeting_id).where(
        MeetingShare.meeting_id == meeting_id, _shared_with(user, role)
    )
    return session.scalar(query.limit(1)) is not None


def shares_of(session: Session, meeting_id: str) -> tuple[list[str], list[str]]:
    """The users and the roles a meeting is shared with, each sorted by name."""
    rows = session.scalars(
        select(MeetingShare).where(MeetingShare.meeting_id == meeting_id).order_by(MeetingShare.name)
    )
    shares = list(rows)
    return (
        [share.name for share in shares if share.kind == SHARE_USER],
        [share.name for share in shares if share.kind == SHARE_ROLE],
    )


def set_shares(session: Session, meeting_id: str, users: list[str], roles: list[str]) -> None:
    """Share a meeting with exactly ``users`` and ``roles`` (replacing what it was shared with)."""
    session.execute(delete(MeetingShare).where(MeetingShare.meeting_id == meeting_id))
    session.add_all(MeetingShare(meeting_id=meeting_id, kind=SHARE_USER, name=name) for name in users)
    session.add_all(MeetingShare(meeting_id=meeting_id, kind=SHARE_ROLE, name=name) for name in roles)


def list_meetings(
    session: Session, where: ColumnElement[bool] | None = None, limit: int = 100
) -> list[Meeting]:
    """The newest meetings, those matching ``where`` when given (see ``visible_to``)."""
    query = select(Meeting).order_by(Meeting.created_at.desc()).limit(limit)
    if where is not None:
        query = query.where(where)
    return list(session.scalars(query))


def remove_meeting_files(storage_dir: Path, meeting_id: str) -> None:
    shutil.rmtree(meeting_dir(storage_dir, meeting_id), ignore_errors=True)
