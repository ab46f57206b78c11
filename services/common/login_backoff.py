"""Back-off after failed logins, per account and per client address.

Every attempt counts as a failure *before* its password is checked (a right password clears the count again),
so a burst of parallel guesses cannot all get past the check before the first failure is stored. After the
free failures, each further failure makes the next attempt wait twice as long — 1 s, 2 s, 4 s, … up to the
longest wait. A waiting attempt is refused at once, costs no argon2 hash and does not lengthen the wait.
Account and address wait separately: an attacker's address goes on waiting, while the user, from another
address, waits only for the account's current wait. A count without a failure for a day is forgotten.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import String, delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from services.common.config import Settings
from services.common.db import Base, Database, as_utc, utcnow

FORGET_AFTER = timedelta(days=1)


class Scope(StrEnum):
    USER = "user"  # the user name as typed (unknown names wait like known ones)
    ADDRESS = "address"  # the client's IP address


class LoginBackoff(Base):
    __tablename__ = "login_backoffs"

    scope: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    wait_until: Mapped[datetime | None] = mapped_column(nullable=True, default=None)
    last_failure_at: Mapped[datetime] = mapped_column(index=True)


class _Waiting(Exception):
    """Rolls the attempt's counting back: it must wait ``seconds`` first."""

    def __init__(self, seconds: int) -> None:
        super().__init__(seconds)
        self.seconds = seconds


def _count_failure(
    session: Session, scope: Scope, key: str, free: int, longest: float, now: datetime
) -> int | None:
    """One more failure for ``key`` (and its next wait, past the free ones); or, while ``key`` waits, the
    seconds left (nothing counted)."""
    mine = (LoginBackoff.scope == scope, LoginBackoff.key == key)
    failures = session.execute(
        update(LoginBackoff)
        .where(*mine, or_(LoginBackoff.wait_until.is_(None), LoginBackoff.wait_until <= now))
        .values(failures=LoginBackoff.failures + 1, last_failure_at=now)
        .returning(LoginBackoff.failures)
    ).scalar_one_or_none()
    if failures is None:
        waiting_until = session.scalar(select(LoginBackoff.wait_until).where(*mine))
        if waiting_until is not None:
            return math.ceil((as_utc(waiting_until) - now).total_seconds())
        session.add(LoginBackoff(scope=scope, key=key, failures=1, last_failure_at=now))
        failures = 1
    if failures >= free:
        wait = timedelta(seconds=min(2.0 ** (failures - free), longest))
        session.execute(update(LoginBackoff).where(*mine).values(wait_until=now + wait))
    return None


def _claim(db: Database, settings: Settings, name: str, address: str) -> int | None:
    now, longest = utcnow(), settings.login_max_wait_minutes * 60
    try:
        with db.session() as session:
            session.execute(delete(LoginBackoff).where(LoginBackoff.last_failure_at < now - FORGET_AFTER))
            free_per_address = settings.login_free_failures_per_address
            waits = [
                _count_failure(session, Scope.ADDRESS, address, free_per_address, longest, now),
                _count_failure(session, Scope.USER, name, settings.login_free_failures, longest, now),
            ]
            if any(waits):
                raise _Waiting(max(wait or 0 for wait in waits))
    except _Waiting as waiting:  # the session rolled back: nothing was counted
        return waiting.seconds
    return None


def claim_attempt(db: Database, settings: Settings, name: str, address: str) -> int | None:
    """Count a login attempt as failed until ``forget`` says otherwise; or the seconds it must wait first
    (nothing counted then)."""
    try:
        return _claim(db, settings, name, address)
    except IntegrityError:  # a parallel attempt stored the first failure at the same moment: count again
        return _claim(db, settings, name, address)


def forget(db: Database, name: str, address: str) -> None:
    """A right password: the account's and the address's counts start afresh."""
    with db.session() as session:
        session.execute(
            delete(LoginBackoff).where(
                or_(
                    (LoginBackoff.scope == Scope.USER) & (LoginBackoff.key == name),
                    (LoginBackoff.scope == Scope.ADDRESS) & (LoginBackoff.key == address),
                )
            )
        )


def end_wait(session: Session, name: str) -> None:
    """An administrator's unlock or a new password: the account no longer waits."""
    session.execute(delete(LoginBackoff).where(LoginBackoff.scope == Scope.USER, LoginBackoff.key == name))
