"""Web login, logout and the front page; the pages themselves live in ``services.web.pages``.

Forms post with a CSRF token; sessions are server-side.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response, status
from fastapi.responses import HTMLResponse, RedirectResponse

from services.common import auth
from services.common.audit import Action, Outcome, audit
from services.common.config import Settings
from services.common.danish import danish_wait
from services.common.deps import DatabaseDep, SettingsDep
from services.common.errors import Forbidden
from services.web.pages import gevinster, post, referat, vejledning
from services.web.rendering import STATIC_DIR, PageRoute, PageUser, render

router = APIRouter(tags=["web"], include_in_schema=False, route_class=PageRoute)
for page in (referat, vejledning, post, gevinster):
    router.include_router(page.router)
__all__ = ["STATIC_DIR", "router"]

# Before login there is no session to bind a CSRF token to: the login form uses a double-submit cookie.
LOGIN_CSRF_COOKIE = "kai_login_csrf"


def is_https(request: Request, settings: Settings) -> bool:
    """Whether the browser talks HTTPS to us; a proxy's X-Forwarded-Proto counts only when trusted."""
    if request.url.scheme == "https":
        return True
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return settings.trust_proxy_headers and forwarded == "https"


def _set_cookie(
    response: Response, request: Request, settings: Settings, name: str, value: str, age: int
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=is_https(request, settings),
    )


def safe_next(target: str | None) -> str:
    """Only a local path may be a redirect target after login (no open redirect to another site)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    return target


def _login_page(
    request: Request,
    settings: Settings,
    *,
    error: str | None = None,
    next_url: str = "/",
    status_code: int = 200,
) -> HTMLResponse:
    token = secrets.token_urlsafe(32)
    response = render(
        request,
        "login.html",
        None,
        status_code,
        error=error,
        login_csrf=token,
        next_url=safe_next(next_url),
    )
    _set_cookie(response, request, settings, LOGIN_CSRF_COOKIE, token, 3600)
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, settings: SettingsDep, next: str = "/") -> HTMLResponse:
    return _login_page(request, settings, next_url=next)


@router.post("/login", response_model=None)
def login(
    request: Request,
    db: DatabaseDep,
    settings: SettingsDep,
    username: Annotated[str, Form(max_length=128)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    next: Annotated[str, Form(max_length=2048)] = "/",
) -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(expected, csrf_token):
        return _login_page(request, settings, error=auth.CSRF_FAILED, next_url=next, status_code=403)
    address = request.client.host if request.client else ""
    attempt = auth.authenticate(db, settings, username, password, address)
    if attempt.retry_after is not None:
        audit(db, attempt.known_user, Action.LOGIN_FAILED, object_type="user", outcome=Outcome.DENIED)
        wait = f"For mange mislykkede forsøg. Vent {danish_wait(attempt.retry_after)}, og prøv igen."
        page = _login_page(request, settings, error=wait, next_url=next, status_code=429)
        page.headers["Retry-After"] = str(attempt.retry_after)
        return page
    if attempt.principal is None:
        audit(db, attempt.known_user, Action.LOGIN_FAILED, object_type="user", outcome=Outcome.FAILED)
        return _login_page(request, settings, error=auth.LOGIN_FAILED, next_url=next, status_code=401)
    secret = auth.create_session(db, settings, attempt.principal.name)
    audit(db, attempt.principal, Action.LOGIN, object_type="user")
    response = RedirectResponse(safe_next(next), status_code=status.HTTP_303_SEE_OTHER)
    _set_cookie(response, request, settings, auth.SESSION_COOKIE, secret, int(settings.session_hours * 3600))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


@router.post("/logout", response_model=None)
def logout(
    request: Request, db: DatabaseDep, csrf_token: Annotated[str, Form(max_length=128)] = ""
) -> Response:
    secret = request.cookies.get(auth.SESSION_COOKIE)
    if secret:
        if not auth.csrf_matches(secret, csrf_token or request.headers.get(auth.CSRF_HEADER)):
            raise Forbidden(auth.CSRF_FAILED)
        principal = auth.revoke_session(db, secret)
        if principal is not None:
            audit(db, principal, Action.LOGOUT, object_type="user")
    response = RedirectResponse("/login", status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie(auth.SESSION_COOKIE, path="/")
    return response


@router.get("/", response_model=None)
def front_page(request: Request, principal: PageUser) -> Response:
    return render(request, "front.html", principal)
