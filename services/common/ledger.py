"""The usage ledger: one row per unit of work, in every service. Evaluation reads only this table.

A row says what was done (service, task), how much (volume + unit), how long kai took, for whom, and how it
ended (outcome plus quality figures such as edit distance or confidence). Savings are computed from these rows
later, so a row records facts, never minutes saved.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, Integer, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from services.common.db import Base, utcnow


class UsageEvent(Base):
    __tablename__ = "usage_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    service: Mapped[str] = mapped_column(String(32), index=True)  # minutes | chatbot | mailsort
    task: Mapped[str] = mapped_column(String(64), index=True)  # e.g. transcribe, review, ask, route
    volume: Mapped[float] = mapped_column(Float, default=1.0)  # e.g. audio seconds, mails, questions
    volume_unit: Mapped[str] = mapped_column(String(32), default="items")
    processing_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    user: Mapped[str | None] = mapped_column(String(128), nullable=True)
    outcome: Mapped[str] = mapped_column(String(32), default="ok")  # ok | failed | cancelled | ...
    quality: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reference: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)  # e.g. meeting id
    simulated: Mapped[bool] = mapped_column(Boolean, default=False, index=True)


def record(
    session: Session,
    *,
    service: str,
    task: str,
    volume: float = 1.0,
    volume_unit: str = "items",
    processing_seconds: float = 0.0,
    user: str | None = None,
    outcome: str = "ok",
    quality: dict[str, Any] | None = None,
    reference: str | None = None,
) -> UsageEvent:
    """Append one usage row; the only place usage is written (simulation has its own, marked, path)."""
    event = UsageEvent(
        service=service,
        task=task,
        volume=volume,
        volume_unit=volume_unit,
        processing_seconds=processing_seconds,
        user=user,
        outcome=outcome,
        quality=quality or {},
        reference=reference,
    )
    session.add(event)
    session.flush()
    return event
