"""Persistence for meetings: one row per uploaded recording, its files in ``<data dir>/minutes/<id>/``."""

from __future__ import annotations

import shutil
import uuid
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Date, Float, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from services.common.db import Base, utcnow
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
    audio_filename: Mapped[str] = mapped_column(String(300))  # the name it was uploaded with
    audio_file: Mapped[str] = mapped_column(String(300))  # stored file name inside the meeting folder
    audio_bytes: Mapped[int] = mapped_column(default=0)
    job_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    created_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
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


def get_meeting(session: Session, meeting_id: str) -> Meeting:
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise NotFound(f"Mødet {meeting_id} findes ikke.")
    return meeting


def list_meetings(session: Session, limit: int = 100) -> list[Meeting]:
    return list(session.scalars(select(Meeting).order_by(Meeting.created_at.desc()).limit(limit)))


def remove_meeting_files(storage_dir: Path, meeting_id: str) -> None:
    shutil.rmtree(meeting_dir(storage_dir, meeting_id), ignore_errors=True)
