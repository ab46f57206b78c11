"""The usage ledger: one row per unit of work, in every service. Evaluation reads only this table.

A row says what was done (service, task), how much (volume + unit), how long kai took, for whom, and how it
ended (outcome plus quality figures such as edit distance or confidence). Savings are computed from these rows
later, so a row records facts, never minutes saved.

This module is the ledger's contract: the names of services, tasks, units and outcomes (``StrEnum``s whose
values are the strings stored), one typed quality record per task kind, and one ``record_*`` function per
task kind, the only way a row is written. Readers turn a row's stored quality back into its record with the
record's ``from_dict``, which tolerates rows written before a field existed (a missing or malformed field
reads as its default).
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from dataclasses import asdict, astuple, dataclass, fields, is_dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Self, get_args, get_origin, get_type_hints

from sqlalchemy import JSON, Boolean, Float, Integer, String, insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from services.common.db import Base, utcnow


class UsageEvent(Base):
    __tablename__ = "usage_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    service: Mapped[str] = mapped_column(String(32), index=True)  # a Service
    task: Mapped[str] = mapped_column(String(64), index=True)  # a Task
    volume: Mapped[float] = mapped_column(Float, default=1.0)  # e.g. audio seconds, mails, questions
    volume_unit: Mapped[str] = mapped_column(String(32), default="items")  # a Unit
    processing_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    user: Mapped[str | None] = mapped_column(String(128), nullable=True)
    outcome: Mapped[str] = mapped_column(String(32), default="ok")  # an Outcome
    quality: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reference: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)  # e.g. meeting id
    simulated: Mapped[bool] = mapped_column(Boolean, default=False, index=True)


# --- names: the values are the strings stored in the table ----------------------------------------------


class Service(StrEnum):
    MINUTES = "minutes"
    CHATBOT = "chatbot"
    MAILSORT = "mailsort"


class Task(StrEnum):
    TRANSCRIBE = "transcribe"  # a recording became a transcript and a minutes draft
    REVIEW = "review"  # a person approved the reviewed minutes
    ASK = "ask"  # a question answered (or abstained from)
    FEEDBACK = "feedback"  # a person's verdict on an answer
    ROUTE = "route"  # a mail routed, automatically or to review
    CORRECTION = "correction"  # a person moved an automatically routed mail
    DECISION = "decision"  # a person chose the queue of a mail in review


class Unit(StrEnum):
    AUDIO_SECONDS = "audio_seconds"
    QUESTIONS = "questions"
    ANSWERS = "answers"
    MAILS = "mails"


class Outcome(StrEnum):
    OK = "ok"
    FAILED = "failed"
    ANSWERED = "answered"
    ABSTAINED = "abstained"
    HELPFUL = "helpful"
    UNHELPFUL = "unhelpful"
    AUTO = "auto"
    MANUAL = "manual"
    MISROUTED = "misrouted"
    DECIDED = "decided"


# Each task belongs to one service and counts its volume in one unit.
TASKS: dict[Task, tuple[Service, Unit]] = {
    Task.TRANSCRIBE: (Service.MINUTES, Unit.AUDIO_SECONDS),
    Task.REVIEW: (Service.MINUTES, Unit.AUDIO_SECONDS),
    Task.ASK: (Service.CHATBOT, Unit.QUESTIONS),
    Task.FEEDBACK: (Service.CHATBOT, Unit.ANSWERS),
    Task.ROUTE: (Service.MAILSORT, Unit.MAILS),
    Task.CORRECTION: (Service.MAILSORT, Unit.MAILS),
    Task.DECISION: (Service.MAILSORT, Unit.MAILS),
}


# --- quality records --------------------------------------------------------------------------------------


class Quality:
    """A task kind's quality figures: stored as a JSON object (fields that are None are left out) and read
    back with ``from_dict``, where a missing or malformed field takes its default."""

    def to_dict(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value is not None}  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any] | None) -> Self:
        return _parsed(cls, raw or {})


_INVALID = object()


def _parsed(cls: type[Any], raw: Mapping[str, Any]) -> Any:
    hints = get_type_hints(cls)
    values = {}
    for field in fields(cls):
        if field.name in raw and (value := _value(hints[field.name], raw[field.name])) is not _INVALID:
            values[field.name] = value
    return cls(**values)


def _value(hint: Any, value: Any) -> Any:
    """``value`` as type ``hint`` (a count is a non-negative int; a bool is never a number), or _INVALID."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    for option in get_args(hint) if get_origin(hint) is types.UnionType else (hint,):
        if (option is type(None) and value is None) or (option in (bool, str) and isinstance(value, option)):
            return value
        if option is int and number and isinstance(value, int) and value >= 0:
            return value
        if option is float and number:
            return float(value)
        if get_origin(option) is tuple and isinstance(value, list | tuple):
            return tuple(str(item) for item in value)
        if is_dataclass(option) and isinstance(value, Mapping):
            return _parsed(option, value)  # type: ignore[arg-type]
    return _INVALID


@dataclass(frozen=True)
class TranscriptionQuality(Quality):
    language: str = ""
    language_probability: float = 0.0
    segments: int = 0
    words: int = 0
    speakers: int = 0
    model: str = ""
    agenda_items: int = 0
    summary_source: str = ""


@dataclass(frozen=True)
class ItemCounts:
    """What a review did to one kind of draft item. ``accepted`` counts items approved unchanged, also those
    the reviewer never marked (she approved them as proposed); ``unmarked`` says how many of them that was."""

    proposed: int = 0
    accepted: int = 0
    edited: int = 0
    removed: int = 0
    added: int = 0
    unmarked: int = 0

    def __add__(self, other: ItemCounts) -> ItemCounts:
        return ItemCounts(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))


class ItemKind(StrEnum):
    """The kinds of draft item a review counts: the names of ``ReviewQuality``'s count fields."""

    DECISIONS = "decisions"
    ACTIONS = "actions"


@dataclass(frozen=True)
class ReviewQuality(Quality):
    """How much the approved minutes differ from the draft. ``review_seconds`` is None when the client did not
    measure it; the counts are None in rows approved before item review existed."""

    edit_distance_chars: int = 0
    draft_chars: int = 0
    final_chars: int = 0
    edit_ratio: float = 0.0
    review_seconds: float | None = None
    decisions: ItemCounts | None = None
    actions: ItemCounts | None = None
    item_review: bool = False  # the counts come from the reviewer's verdicts, not from comparing texts

    def counts(self, kind: ItemKind) -> ItemCounts | None:
        return self.decisions if kind is ItemKind.DECISIONS else self.actions


@dataclass(frozen=True)
class AnswerQuality(Quality):
    confidence: float = 0.0
    citations: int = 0
    answer_source: str = ""
    collections: tuple[str, ...] = ()


@dataclass(frozen=True)
class FeedbackQuality(Quality):
    """``manual_minutes``: how long the person says the lookup takes without kai (None: not stated)."""

    helpful: bool = True
    abstained: bool = False
    manual_minutes: float | None = None


@dataclass(frozen=True)
class RoutingQuality(Quality):
    """The model's routing; an unreadable mail has no queue, confidence or model."""

    queue: str | None = None
    confidence: float | None = None
    model: str | None = None
    contains_cpr: bool = False
    urgent: bool = False
    unreadable: bool = False


@dataclass(frozen=True)
class QueueChoiceQuality(Quality):
    """A person's queue for a mail (a correction or a decision) beside the model's."""

    queue: str = ""
    model_queue: str | None = None
    confidence: float | None = None


# --- writing: one function per task kind ------------------------------------------------------------------


class Rows:
    """Rows collected as column dicts instead of added to a session, then written with one bulk insert: for
    the simulator's tens of thousands of rows, where one ORM object per row is about three times slower."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def insert(self, session: Session) -> int:
        """Insert the collected rows in ``session``'s transaction; returns how many."""
        if self.rows:
            session.execute(insert(UsageEvent), self.rows)
        return len(self.rows)


def _add(
    session: Session | Rows,
    task: Task,
    quality: Quality | None,
    user: str | None,
    reference: str | None,
    volume: float = 1.0,
    seconds: float = 0.0,
    outcome: Outcome = Outcome.OK,
) -> dict[str, Any]:
    """One row's column values (``seconds``: kai's processing time; the table's defaults fill the rest), added
    to ``session`` (written with its transaction) or collected in ``Rows``."""
    service, unit = TASKS[task]
    row = {
        "service": service,
        "task": task,
        "volume": volume,
        "volume_unit": unit,
        "processing_seconds": seconds,
        "user": user,
        "outcome": outcome,
        "quality": quality.to_dict() if quality else {},
        "reference": reference,
    }
    if isinstance(session, Rows):
        session.rows.append(row)
    else:
        session.add(UsageEvent(**row))
    return row


# Each takes a session (the services) or a Rows (the simulator) and returns the row's column dict; a dict
# collected in Rows is the one inserted, so the simulator dates it and marks it simulated there.


def record_transcription(
    session: Session | Rows,
    *,
    audio_seconds: float,
    processing_seconds: float,
    user: str | None,
    reference: str | None,
    quality: TranscriptionQuality,
) -> dict[str, Any]:
    return _add(session, Task.TRANSCRIBE, quality, user, reference, audio_seconds, processing_seconds)


def record_failed_transcription(
    session: Session | Rows, *, user: str | None, reference: str | None
) -> dict[str, Any]:
    return _add(session, Task.TRANSCRIBE, None, user, reference, volume=0.0, outcome=Outcome.FAILED)


def record_review(
    session: Session | Rows, *, audio_seconds: float, user: str | None, reference: str, quality: ReviewQuality
) -> dict[str, Any]:
    """The approval of a meeting's minutes; the volume is the meeting's length."""
    return _add(session, Task.REVIEW, quality, user, reference, volume=audio_seconds)


def record_answer(
    session: Session | Rows,
    *,
    abstained: bool,
    processing_seconds: float,
    user: str | None,
    reference: str,
    quality: AnswerQuality,
) -> dict[str, Any]:
    """A question answered from the collections, or abstained from (no passage was close enough)."""
    outcome = Outcome.ABSTAINED if abstained else Outcome.ANSWERED
    return _add(session, Task.ASK, quality, user, reference, seconds=processing_seconds, outcome=outcome)


def record_feedback(
    session: Session | Rows, *, user: str | None, reference: str, quality: FeedbackQuality
) -> dict[str, Any]:
    outcome = Outcome.HELPFUL if quality.helpful else Outcome.UNHELPFUL
    return _add(session, Task.FEEDBACK, quality, user, reference, outcome=outcome)


def record_routing(
    session: Session | Rows,
    *,
    auto: bool,
    processing_seconds: float,
    user: str | None,
    reference: str,
    quality: RoutingQuality,
) -> dict[str, Any]:
    """A mail routed: ``auto`` to its queue, else to the review queue."""
    outcome = Outcome.AUTO if auto else Outcome.MANUAL
    return _add(session, Task.ROUTE, quality, user, reference, seconds=processing_seconds, outcome=outcome)


def record_correction(
    session: Session | Rows, *, user: str | None, reference: str, quality: QueueChoiceQuality
) -> dict[str, Any]:
    """A person moved an automatically routed mail to another queue: the model misrouted it."""
    return _add(session, Task.CORRECTION, quality, user, reference, outcome=Outcome.MISROUTED)


def record_decision(
    session: Session | Rows, *, user: str | None, reference: str, quality: QueueChoiceQuality
) -> dict[str, Any]:
    """A person chose the queue of a mail the model left for review."""
    return _add(session, Task.DECISION, quality, user, reference, outcome=Outcome.DECIDED)
