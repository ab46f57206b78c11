"""Request and response bodies of the minutes API."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from services.common.schemas import UtcDateTime
from services.minutes.pipeline.types import MinutesDraft, Transcript


class JobOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    status: str
    progress: float = Field(description="Percent done, 0–100.")
    message: str
    error: str | None
    attempts: int
    created_at: UtcDateTime
    started_at: UtcDateTime | None
    finished_at: UtcDateTime | None


class MeetingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    title: str
    meeting_date: date | None
    participants: list[str]
    agenda: list[str] | None
    language: str
    num_speakers: int | None
    audio_filename: str
    audio_bytes: int
    created_at: UtcDateTime
    approved_at: UtcDateTime | None
    processing_seconds: float | None
    failure: str | None
    job: JobOut | None = None


class ResultOut(BaseModel):
    transcript: Transcript
    minutes: MinutesDraft
    approved: bool


class SegmentEditIn(BaseModel):
    id: int
    text: str | None = Field(None, max_length=10_000)
    speaker: str | None = Field(None, max_length=128)


class TranscriptEditIn(BaseModel):
    segments: list[SegmentEditIn] = Field(min_length=1)


class SpeakerNamesIn(BaseModel):
    speakers: dict[str, str] = Field(
        min_length=1, description='Speaker label → name, e.g. {"Taler 1": "Mette Hansen"}.'
    )


class MeetingAccess(BaseModel):
    """Whom a meeting is shared with besides its owner; they may read, export, correct and approve it."""

    model_config = ConfigDict(from_attributes=True)

    users: list[Annotated[str, Field(max_length=128)]] = Field(
        max_length=200, description='User names, e.g. ["mette"]; an empty list shares with no one by name.'
    )
    roles: list[Annotated[str, Field(max_length=32)]] = Field(
        max_length=10, description='Roles whose users may open it, e.g. ["sagsbehandler"].'
    )


class ApproveIn(BaseModel):
    review_seconds: float | None = Field(None, ge=0, description="Active review time measured by the page.")
