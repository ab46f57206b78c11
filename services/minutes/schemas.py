"""Request and response bodies of the minutes API."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

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


class ReviewItemOut(BaseModel):
    """One decision or action of the draft with the reviewer's verdict, or one she added."""

    model_config = ConfigDict(from_attributes=True)

    key: str = Field(description='"d<section>.<n>"/"a<section>.<n>": the draft\'s; "d+…"/"a+…": added.')
    kind: Literal["decision", "action"]
    section: int = Field(description="Index of the agenda item in the minutes' sections (0-based).")
    segment: int | None = Field(description="The transcript segment it was said in (the link to the audio).")
    start: float = Field(description="Seconds into the recording where it was said.")
    status: Literal["proposed", "accepted", "edited", "removed", "added"]
    text: str
    who: str | None
    deadline: str | None = Field(description="An ISO date, or the deadline as said when it is not a date.")
    original_text: str | None = Field(description="The draft's wording; null for an added item.")
    original_who: str | None
    original_deadline: str | None


class ReviewCountsOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    proposed: int = Field(description="Items the draft proposed.")
    accepted: int = Field(description="Kept unchanged (also unmarked ones: approval keeps them as proposed).")
    edited: int
    removed: int
    added: int = Field(description="Items the reviewer added (the draft missed them).")
    unmarked: int = Field(description="Proposed items the reviewer has not marked yet.")


class ReviewOut(BaseModel):
    approved: bool
    items: list[ReviewItemOut]
    decisions: ReviewCountsOut
    actions: ReviewCountsOut


class ReviewItemIn(BaseModel):
    """A verdict: accepted (keep the draft's wording), edited (with the new wording), removed, or proposed
    (undo the verdict). An edit identical to the draft's wording counts as accepted."""

    status: Literal["accepted", "edited", "removed", "proposed"]
    text: str | None = Field(None, max_length=2000)
    who: str | None = Field(None, max_length=128, description="Actions only: who does it.")
    deadline: str | None = Field(None, max_length=64, description="Actions only: an ISO date or as said.")


class ReviewItemNewIn(BaseModel):
    kind: Literal["decision", "action"]
    section: int = Field(ge=0, le=1000, description="Index of the agenda item in the minutes' sections.")
    text: str = Field(min_length=1, max_length=2000)
    who: str | None = Field(None, max_length=128)
    deadline: str | None = Field(None, max_length=64)
    segment: int | None = Field(None, ge=0, description="The transcript segment it was said in, if known.")
