"""User accounts: adding users, setting passwords, the first admin, and checking a login.

A login that fails too often makes the account or the address wait (``services.common.login_backoff``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select

from services.common import login_backoff
from services.common.auth.models import Principal, Role, User, WebSession, user_named
from services.common.auth.passwords import hash_password, password_matches
from services.common.config import Settings
from services.common.db import Database
from services.common.errors import Conflict, InvalidInput

# One message for every failed login, so the answer never tells whether the user exists.
LOGIN_FAILED = "Forkert brugernavn eller adgangskode. Prøv igen, eller kontakt IT."


def add_user(db: Database, name: str, role: Role) -> User:
    name = name.strip()
    if not name:
        raise InvalidInput("Brugernavnet må ikke være tomt.")
    with db.session() as session:
        if session.scalar(select(User).where(User.name == name)) is not None:
            raise Conflict(f"Brugeren '{name}' findes allerede.")
        user = User(name=name, role=role)
        session.add(user)
    return user


def set_password(db: Database, name: str, password: str) -> None:
    """Set a user's password, end the account's wait after failed logins and every session it has open."""
    password_hash = hash_password(password)
    with db.session() as session:
        user = user_named(session, name)
        user.password_hash = password_hash
        session.execute(delete(WebSession).where(WebSession.user_id == user.id))
        login_backoff.end_wait(session, user.name)


def unlock_user(db: Database, name: str) -> None:
    """End the account's wait after failed logins (its user may try again at once)."""
    with db.session() as session:
        login_backoff.end_wait(session, user_named(session, name).name)


def ensure_admin(db: Database, name: str = "admin") -> str | None:
    """Create ``name`` as admin with a random password when kai has no admin yet; the password, or None."""
    with db.session() as session:
        if session.scalar(select(User.id).where(User.role == Role.ADMIN).limit(1)) is not None:
            return None
    password = secrets.token_urlsafe(12)
    add_user(db, name, Role.ADMIN)
    set_password(db, name, password)
    return password


@dataclass(frozen=True)
class LoginAttempt:
    """The outcome of a login: ``principal`` on success; ``known_user`` for the audit log either way;
    ``retry_after``: the seconds the attempt must wait (refused unchecked), after too many failures."""

    principal: Principal | None
    known_user: Principal | None
    retry_after: int | None = None


def authenticate(db: Database, settings: Settings, name: str, password: str, address: str) -> LoginAttempt:
    """Check a password from the client at ``address``, unless the account or the address must wait after
    failed logins first (``services.common.login_backoff``)."""
    name = name.strip()
    with db.session() as session:
        user = session.scalar(select(User).where(User.name == name))
    who = Principal(user.name, Role(user.role)) if user else None
    wait = login_backoff.claim_attempt(db, settings, name, address)
    if wait is not None:
        return LoginAttempt(None, who, retry_after=wait)
    if not password_matches(user.password_hash if user else None, password):
        return LoginAttempt(None, who)
    login_backoff.forget(db, name, address)
    return LoginAttempt(who, who)
