"""The audit log: who did what to which object, and how it went.

Only ids and fixed action names are recorded – never question texts, transcripts, passwords or CPR numbers –
so the log itself holds no personal data beyond user names.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from services.common.db import Base, Database, utcnow
from services.common.privacy import contains_cpr


class Action(StrEnum):
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOGOUT = "logout"
    UPLOADED = "uploaded"
    APPROVED = "approved"
    ASKED = "asked"
    CORRECTED = "corrected"
    DELETED = "deleted"
    EXPORTED = "exported"
    VIEWED = "viewed"
    SHARED = "shared"
    CANCELLED = "cancelled"


class Outcome(StrEnum):
    OK = "ok"
    FAILED = "failed"
    DENIED = "denied"


class Actor(Protocol):
    """Anything with a name and a role, such as ``auth.Principal`` (no import: auth may call the log)."""

    @property
    def name(self) -> str: ...

    @property
    def role(self) -> str: ...


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    role: Mapped[str | None] = mapped_column(String(32), nullable=True)
    action: Mapped[str] = mapped_column(String(32), index=True)
    object_type: Mapped[str | None] = mapped_column(String(64), nullable=True)
    object_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    outcome: Mapped[str] = mapped_column(String(16), default=Outcome.OK)


# An id is a short token (uuid, number, slug, path of a guidance source) – never free text.
_ID_PATTERN = re.compile(r"[\w.:/@+-]{1,128}")
_TYPE_PATTERN = re.compile(r"[a-z_]{1,64}")


def _checked_id(object_id: str | int | None) -> str | None:
    if object_id is None:
        return None
    value = str(object_id)
    if not _ID_PATTERN.fullmatch(value) or contains_cpr(value):
        raise ValueError("An audit object id must be a short id without spaces or CPR numbers.")
    return value


def audit(
    target: Session | Database,
    actor: Actor | None,
    action: Action | str,
    *,
    object_type: str | None = None,
    object_id: str | int | None = None,
    outcome: Outcome | str = Outcome.OK,
) -> AuditEvent:
    """Record one event, in ``target``'s transaction when it is a Session, else in its own."""
    if object_type is not None and not _TYPE_PATTERN.fullmatch(object_type):
        raise ValueError("An audit object type is a short lower-case name such as 'meeting'.")
    event = AuditEvent(
        actor=actor.name if actor else None,
        role=str(actor.role) if actor else None,
        action=Action(action).value,  # a fixed vocabulary: no room for free text
        object_type=object_type,
        object_id=_checked_id(object_id),
        outcome=Outcome(outcome).value,
    )
    if isinstance(target, Session):
        target.add(event)
    else:
        with target.session() as session:
            session.add(event)
    return event


def recent_events(db: Database, limit: int = 100, actor: str | None = None) -> list[AuditEvent]:
    """The newest events first, optionally for one user. No command or page lists them yet: tests and an
    operator at a Python shell read the trail here."""
    with db.session() as session:
        query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
        if actor is not None:
            query = query.where(AuditEvent.actor == actor)
        return list(session.scalars(query))
