"""Users, roles and API tokens, and the FastAPI dependencies that check them.

Roles are the municipality's kinds of users. A token is scoped to a role (never above its user's) and can be
revoked; only its sha256 is stored, since tokens are long random secrets.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from services.common.db import Base, Database, utcnow
from services.common.deps import get_db
from services.common.errors import Conflict, InvalidInput, KaiError, NotFound


class Role(StrEnum):
    MEDARBEJDER = "medarbejder"  # staff
    SAGSBEHANDLER = "sagsbehandler"  # caseworker
    IT = "it"
    LEDELSE = "ledelse"  # management
    ADMIN = "admin"


class Unauthorized(KaiError):
    status_code = 401


class Forbidden(KaiError):
    status_code = 403


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128), unique=True, index=True)
    role: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


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


def _aware(moment: datetime) -> datetime:
    """SQLite returns naive datetimes for timezone-aware columns; kai stores UTC throughout."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _user(session: Session, name: str) -> User:
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise NotFound(f"Brugeren '{name}' findes ikke.")
    return user


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


def create_token(
    db: Database, user_name: str, role: Role | None = None, label: str = ""
) -> tuple[ApiToken, str]:
    """A new token for ``user_name``; the secret is returned once and never stored."""
    with db.session() as session:
        user = _user(session, user_name)
        scope = role or Role(user.role)
        if scope != Role(user.role) and Role(user.role) != Role.ADMIN:
            raise Forbidden(f"Et token kan ikke få rollen '{scope}', når brugeren har rollen '{user.role}'.")
        secret = "kai_" + secrets.token_urlsafe(32)
        token = ApiToken(token_sha256=_token_hash(secret), label=label, user_id=user.id, role=scope)
        session.add(token)
    return token, secret


def revoke_token(db: Database, token_id: int) -> ApiToken:
    with db.session() as session:
        token = session.get(ApiToken, token_id)
        if token is None:
            raise NotFound(f"Token {token_id} findes ikke.")
        token.revoked_at = token.revoked_at or utcnow()
    return token


def principal_for_token(db: Database, secret: str) -> Principal:
    with db.session() as session:
        token = session.scalar(select(ApiToken).where(ApiToken.token_sha256 == _token_hash(secret)))
        if token is None or token.revoked_at is not None:
            raise Unauthorized("Ugyldigt eller tilbagekaldt API-token.")
        user = session.get(User, token.user_id)
        if user is None:
            raise Unauthorized("Tokenets bruger findes ikke længere.")
        now = utcnow()
        # Touch the row at most once a minute: a write per request would slow every question down.
        if token.last_used_at is None or (now - _aware(token.last_used_at)).total_seconds() > 60:
            token.last_used_at = now
        return Principal(user.name, Role(token.role))


def current_principal(request: Request, db: Annotated[Database, Depends(get_db)]) -> Principal:
    """The caller, from ``Authorization: Bearer <token>``; 401 without valid credentials."""
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise Unauthorized("Log ind, eller send et API-token som 'Authorization: Bearer <token>'.")
    return principal_for_token(db, credentials.strip())


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: Role) -> Callable[[Principal], Principal]:
    """A dependency that lets only ``roles`` through (403 for the rest)."""

    def check(principal: PrincipalDep) -> Principal:
        if principal.role not in roles:
            allowed = ", ".join(r.value for r in roles)
            raise Forbidden(f"Din rolle ({principal.role}) må ikke dette; det kræver en af: {allowed}.")
        return principal

    return check
