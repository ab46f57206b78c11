"""API tokens for integrations: scoped to a role (never above its user's), revocable, stored as sha256."""

from __future__ import annotations

import secrets

from sqlalchemy import select

from services.common.auth.models import ApiToken, Principal, Role, User, secret_sha256, user_named
from services.common.db import Database, as_utc, utcnow
from services.common.errors import Forbidden, Unauthorized, get_or_not_found


def create_token(
    db: Database, user_name: str, role: Role | None = None, label: str = ""
) -> tuple[ApiToken, str]:
    """A new token for ``user_name``; the secret is returned once and never stored."""
    with db.session() as session:
        user = user_named(session, user_name)
        scope = role or Role(user.role)
        if scope != Role(user.role) and Role(user.role) != Role.ADMIN:
            raise Forbidden(f"Et token kan ikke få rollen '{scope}', når brugeren har rollen '{user.role}'.")
        secret = "kai_" + secrets.token_urlsafe(32)
        token = ApiToken(token_sha256=secret_sha256(secret), label=label, user_id=user.id, role=scope)
        session.add(token)
    return token, secret


def revoke_token(db: Database, token_id: int) -> ApiToken:
    with db.session() as session:
        token = get_or_not_found(session, ApiToken, token_id, f"Token {token_id} findes ikke.")
        token.revoked_at = token.revoked_at or utcnow()
    return token


def principal_for_token(db: Database, secret: str) -> Principal:
    with db.session() as session:
        token = session.scalar(select(ApiToken).where(ApiToken.token_sha256 == secret_sha256(secret)))
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
