"""Users, roles, passwords, web sessions and API tokens, and the FastAPI dependencies that check them.

Roles are the municipality's kinds of users. A token is scoped to a role (never above its user's) and can be
revoked; only its sha256 is stored, since tokens are long random secrets. People in a browser log in with a
password (argon2) and get a server-side session: the cookie holds a random secret, the database its sha256, so
logging out (or a new password) revokes it at once. Requests that change state with the session cookie must
carry the session's CSRF token; bearer-token calls need none, as a browser never adds that header by itself.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Depends, Request
from sqlalchemy import ForeignKey, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column
from starlette.requests import HTTPConnection

from services.common import login_backoff
from services.common.config import Settings
from services.common.db import Base, Database, as_utc, utcnow
from services.common.deps import get_db
from services.common.errors import Conflict, InvalidInput, KaiError, NotFound, get_or_not_found


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
        token = get_or_not_found(session, ApiToken, token_id, f"Token {token_id} findes ikke.")
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
        if token.last_used_at is None or (now - as_utc(token.last_used_at)).total_seconds() > 60:
            token.last_used_at = now
        return Principal(user.name, Role(token.role))


SESSION_COOKIE = "kai_session"
CSRF_HEADER = "X-CSRF-Token"
MIN_PASSWORD_LENGTH = 10
# One message for every failed login, so the answer never tells whether the user exists.
LOGIN_FAILED = "Forkert brugernavn eller adgangskode. Prøv igen, eller kontakt IT."
CSRF_FAILED = "Formularen er udløbet eller mangler sit sikkerhedstoken (CSRF). Genindlæs siden, og prøv igen."
LOGIN_REQUIRED = "Log ind, eller send et API-token som 'Authorization: Bearer <token>'."
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Where the middleware leaves the principal it found for a request (``request.state.principal``).
PRINCIPAL_STATE = "principal"
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified against for unknown user names, so a failed login takes as long whether the user exists or not.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"Adgangskoden skal have mindst {MIN_PASSWORD_LENGTH} tegn.")
    return _hasher.hash(password)


def _password_matches(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def set_password(db: Database, name: str, password: str) -> None:
    """Set a user's password, end the account's wait after failed logins and every session it has open."""
    password_hash = hash_password(password)
    with db.session() as session:
        user = _user(session, name)
        user.password_hash = password_hash
        session.execute(delete(WebSession).where(WebSession.user_id == user.id))
        login_backoff.end_wait(session, user.name)


def unlock_user(db: Database, name: str) -> None:
    """End the account's wait after failed logins (its user may try again at once)."""
    with db.session() as session:
        login_backoff.end_wait(session, _user(session, name).name)


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
    if not _password_matches(user.password_hash if user else None, password):
        return LoginAttempt(None, who)
    login_backoff.forget(db, name, address)
    return LoginAttempt(who, who)


def create_session(db: Database, settings: Settings, name: str) -> str:
    """A new web session for ``name``; returns the cookie secret (only its hash is stored)."""
    secret = secrets.token_urlsafe(32)
    now = utcnow()
    with db.session() as session:
        user = _user(session, name)
        # Tidy the user's dead sessions here rather than in a background job.
        session.execute(delete(WebSession).where(WebSession.user_id == user.id, WebSession.expires_at < now))
        session.add(
            WebSession(
                secret_sha256=_token_hash(secret),
                user_id=user.id,
                expires_at=now + timedelta(hours=settings.session_hours),
            )
        )
    return secret


def revoke_session(db: Database, secret: str) -> Principal | None:
    """End a session (logout); the principal it belonged to, or None for an unknown or dead one."""
    with db.session() as session:
        row = session.scalar(select(WebSession).where(WebSession.secret_sha256 == _token_hash(secret)))
        if row is None or row.revoked_at is not None:
            return None
        row.revoked_at = utcnow()
        user = session.get(User, row.user_id)
        return Principal(user.name, Role(user.role)) if user else None


def principal_for_session(db: Database, secret: str) -> Principal:
    with db.session() as session:
        row = session.scalar(select(WebSession).where(WebSession.secret_sha256 == _token_hash(secret)))
        if row is None or row.revoked_at is not None or as_utc(row.expires_at) <= utcnow():
            raise Unauthorized("Din session er udløbet. Log ind igen.")
        user = session.get(User, row.user_id)
        if user is None:
            raise Unauthorized("Sessionens bruger findes ikke længere.")
        # The user's current role, so a changed role takes effect without a new login.
        return Principal(user.name, Role(user.role))


def csrf_token(session_secret: str) -> str:
    """The session's CSRF token: derived from its secret, so it is bound to it and needs no storage."""
    return hashlib.sha256(b"kai-csrf:" + session_secret.encode()).hexdigest()


def csrf_matches(session_secret: str, candidate: str | None) -> bool:
    return bool(candidate) and hmac.compare_digest(csrf_token(session_secret), candidate or "")


def authenticate_request(db: Database, request: HTTPConnection) -> Principal:
    """The caller, from ``Authorization: Bearer <token>`` or the session cookie, read from the headers alone
    (no body byte is needed); ``Unauthorized`` without either.

    A state-changing request authenticated by the cookie must send the CSRF token in the X-CSRF-Token header.
    """
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return principal_for_token(db, credentials.strip())
    session_secret = request.cookies.get(SESSION_COOKIE)
    if not session_secret:
        raise Unauthorized(LOGIN_REQUIRED)
    principal = principal_for_session(db, session_secret)
    if request.scope["method"] not in SAFE_METHODS and not csrf_matches(
        session_secret, request.headers.get(CSRF_HEADER)
    ):
        raise Forbidden(CSRF_FAILED)
    return principal


def current_principal(request: Request, db: Annotated[Database, Depends(get_db)]) -> Principal:
    """The caller (401/403 as ``authenticate_request``). For a request with a body the middleware has already
    asked, before reading the body (``services.common.middleware``); its answer is reused."""
    known: Principal | None = getattr(request.state, PRINCIPAL_STATE, None)
    return known if known is not None else authenticate_request(db, request)


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: Role) -> Callable[[Principal], Principal]:
    """A dependency that lets only ``roles`` through (403 for the rest)."""

    def check(principal: PrincipalDep) -> Principal:
        if principal.role not in roles:
            allowed = ", ".join(r.value for r in Role if r in roles)
            raise Forbidden(f"Din rolle ({principal.role}) må ikke dette; det kræver en af: {allowed}.")
        return principal

    return check
