"""Who kai knows: the roles, the user, web-session and API-token tables, and the principal a request acts as.

Only a secret's sha256 is stored (``secret_sha256``): session cookies and API tokens are long random secrets,
so a leaked table row cannot be used to log in.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from services.common.db import Base, utcnow
from services.common.errors import InvalidInput, NotFound


class Role(StrEnum):
    MEDARBEJDER = "medarbejder"  # staff
    SAGSBEHANDLER = "sagsbehandler"  # caseworker
    IT = "it"
    LEDELSE = "ledelse"  # management
    ADMIN = "admin"


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128), unique=True, index=True)
    role: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # argon2id hash; None: the user cannot log in on the web (API tokens only).
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True, default=None)


class WebSession(Base):
    """A browser login. Only the cookie secret's sha256 is stored, like API tokens."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    secret_sha256: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    label: Mapped[str] = mapped_column(String(128), default="")
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(nullable=True)


@dataclass(frozen=True)
class Principal:
    """Who is asking, and in which role."""

    name: str
    role: Role


# The operator at the machine's shell already has the data; the CLI acts with full rights.
LOCAL_OPERATOR = Principal("lokal", Role.ADMIN)


def parse_role(value: str) -> Role:
    try:
        return Role(value.strip().lower())
    except ValueError:
        raise InvalidInput(
            f"Ukendt rolle '{value}'. Gyldige roller: {', '.join(r.value for r in Role)}."
        ) from None


def secret_sha256(secret: str) -> str:
    """What is stored of a session cookie or an API token."""
    return hashlib.sha256(secret.encode()).hexdigest()


def user_named(session: Session, name: str) -> User:
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise NotFound(f"Brugeren '{name}' findes ikke.")
    return user
