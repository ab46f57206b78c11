"""Web sessions: a browser that logged in holds a random secret in a cookie, the database its sha256, so
logging out (or a new password) revokes it at once."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import delete, select

from services.common.auth.models import Principal, Role, User, WebSession, secret_sha256, user_named
from services.common.config import Settings
from services.common.db import Database, as_utc, utcnow
from services.common.errors import Unauthorized

SESSION_COOKIE = "kai_session"


def create_session(db: Database, settings: Settings, name: str) -> str:
    """A new web session for ``name``; returns the cookie secret (only its hash is stored)."""
    secret = secrets.token_urlsafe(32)
    now = utcnow()
    with db.session() as session:
        user = user_named(session, name)
        # Tidy the user's dead sessions here rather than in a background job.
        session.execute(delete(WebSession).where(WebSession.user_id == user.id, WebSession.expires_at < now))
        session.add(
            WebSession(
                secret_sha256=secret_sha256(secret),
                user_id=user.id,
                expires_at=now + timedelta(hours=settings.session_hours),
            )
        )
    return secret


def revoke_session(db: Database, secret: str) -> Principal | None:
    """End a session (logout); the principal it belonged to, or None for an unknown or dead one."""
    with db.session() as session:
        row = session.scalar(select(WebSession).where(WebSession.secret_sha256 == secret_sha256(secret)))
        if row is None or row.revoked_at is not None:
            return None
        row.revoked_at = utcnow()
        user = session.get(User, row.user_id)
        return Principal(user.name, Role(user.role)) if user else None


def principal_for_session(db: Database, secret: str) -> Principal:
    with db.session() as session:
        row = session.scalar(select(WebSession).where(WebSession.secret_sha256 == secret_sha256(secret)))
        if row is None or row.revoked_at is not None or as_utc(row.expires_at) <= utcnow():
            raise Unauthorized("Din session er udløbet. Log ind igen.")
        user = session.get(User, row.user_id)
        if user is None:
            raise Unauthorized("Sessionens bruger findes ikke længere.")
        # The user's current role, so a changed role takes effect without a new login.
        return Principal(user.name, Role(user.role))
