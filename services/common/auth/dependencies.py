"""The FastAPI dependencies that find the caller of a request and let only some roles through."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from starlette.requests import HTTPConnection

from services.common.auth.csrf import CSRF_FAILED, CSRF_HEADER, SAFE_METHODS, csrf_matches
from services.common.auth.models import Principal, Role
from services.common.auth.sessions import SESSION_COOKIE, principal_for_session
from services.common.auth.tokens import principal_for_token
from services.common.db import Database
from services.common.deps import get_db
from services.common.errors import Forbidden, Unauthorized

LOGIN_REQUIRED = "Log ind, eller send et API-token som 'Authorization: Bearer <token>'."
# Where the middleware leaves the principal it found for a request (``request.state.principal``).
PRINCIPAL_STATE = "principal"


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
