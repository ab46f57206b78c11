"""Web pages: login, logout, front page, Gevinster. Forms post with a CSRF token; sessions are server-side."""

from __future__ import annotations

import secrets
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response, status
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from starlette.background import BackgroundTask

from evaluation.report import SIMULATED_MARK, budget_chart, danish_number, write_report
from evaluation.savings import compute_savings, year_dicts
from services.common import auth
from services.common.audit import Action, Outcome, audit
from services.common.config import Settings
from services.common.deps import DatabaseDep, SettingsDep
from services.common.errors import KaiError

WEB_DIR = Path(__file__).resolve().parent
STATIC_DIR = WEB_DIR / "static"
templates = Jinja2Templates(directory=WEB_DIR / "templates")
templates.env.filters["dk"] = danish_number
router = APIRouter(tags=["web"], include_in_schema=False)

# Before login there is no session to bind a CSRF token to: the login form uses a double-submit cookie.
LOGIN_CSRF_COOKIE = "kai_login_csrf"
_PAGE_HEADERS = {"Cache-Control": "no-store", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin"}


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


def _session_principal(request: Request, db: DatabaseDep) -> auth.Principal | None:
    secret = request.cookies.get(auth.SESSION_COOKIE)
    if not secret:
        return None
    try:
        return auth.principal_for_session(db, secret)
    except KaiError:
        return None


def _login_page(
    request: Request,
    settings: Settings,
    *,
    error: str | None = None,
    next_url: str = "/",
    status_code: int = 200,
) -> HTMLResponse:
    token = secrets.token_urlsafe(32)
    response = templates.TemplateResponse(
        request,
        "login.html",
        {"error": error, "login_csrf": token, "next_url": safe_next(next_url), "principal": None},
        status_code=status_code,
        headers=_PAGE_HEADERS,
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
    attempt = auth.authenticate(db, settings, username, password)
    if attempt.principal is None:
        outcome = Outcome.DENIED if attempt.locked else Outcome.FAILED
        audit(db, attempt.known_user, Action.LOGIN_FAILED, object_type="user", outcome=outcome)
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
            raise auth.Forbidden(auth.CSRF_FAILED)
        principal = auth.revoke_session(db, secret)
        if principal is not None:
            audit(db, principal, Action.LOGOUT, object_type="user")
    response = RedirectResponse("/login", status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie(auth.SESSION_COOKIE, path="/")
    return response


@router.get("/", response_model=None)
def front_page(request: Request, db: DatabaseDep) -> Response:
    principal = _session_principal(request, db)
    if principal is None:
        return RedirectResponse("/login", status_code=status.HTTP_303_SEE_OTHER)
    return templates.TemplateResponse(
        request,
        "base.html",
        {"principal": principal, "csrf_token": auth.csrf_token(request.cookies[auth.SESSION_COOKIE])},
        headers=_PAGE_HEADERS,
    )


# --- Gevinster: the management view of the budget targets vs the measured/projected savings ---------------

SAVINGS_ROLES = frozenset({auth.Role.LEDELSE, auth.Role.ADMIN})
_XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _savings_access(request: Request, db: DatabaseDep) -> tuple[auth.Principal | None, Response | None]:
    """The principal, or the response to give instead: a redirect to login or a Danish 403 page."""
    principal = _session_principal(request, db)
    if principal is None:
        target = f"/login?next={request.url.path}"
        return None, RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)
    if principal.role not in SAVINGS_ROLES:
        response = templates.TemplateResponse(
            request,
            "gevinster.html",
            {
                "principal": principal,
                "csrf_token": auth.csrf_token(request.cookies[auth.SESSION_COOKIE]),
                "forbidden": True,
            },
            status_code=status.HTTP_403_FORBIDDEN,
            headers=_PAGE_HEADERS,
        )
        return principal, response
    return principal, None


@router.get("/gevinster", response_model=None)
def savings_page(request: Request, db: DatabaseDep, simulated: bool = False) -> Response:
    principal, denied = _savings_access(request, db)
    if denied is not None:
        return denied
    report = compute_savings(db, simulated=simulated)
    return templates.TemplateResponse(
        request,
        "gevinster.html",
        {
            "principal": principal,
            "csrf_token": auth.csrf_token(request.cookies[auth.SESSION_COOKIE]),
            "simulated": simulated,
            "mark": SIMULATED_MARK,
            "years": year_dicts(report),
            "chart": budget_chart(report),
        },
        headers=_PAGE_HEADERS,
    )


def _report_file(request: Request, db: DatabaseDep, simulated: bool, suffix: str) -> Response:
    _, denied = _savings_access(request, db)
    if denied is not None:
        return denied
    tmp = tempfile.TemporaryDirectory(prefix="kai-rapport-")
    try:
        html_path, xlsx_path = write_report(db, Path(tmp.name), simulated=simulated)
    except BaseException:
        tmp.cleanup()
        raise
    if suffix == "html":
        path, media_type = html_path, "text/html; charset=utf-8"
    else:
        path, media_type = xlsx_path, _XLSX_TYPE
    name = f"gevinster{'-simuleret' if simulated else ''}.{suffix}"
    return FileResponse(
        path,
        media_type=media_type,
        filename=name,
        headers={"Cache-Control": "no-store"},
        background=BackgroundTask(tmp.cleanup),
    )


@router.get("/gevinster/rapport.html", response_model=None)
def savings_report_html(request: Request, db: DatabaseDep, simulated: bool = False) -> Response:
    return _report_file(request, db, simulated, "html")


@router.get("/gevinster/rapport.xlsx", response_model=None)
def savings_report_xlsx(request: Request, db: DatabaseDep, simulated: bool = False) -> Response:
    return _report_file(request, db, simulated, "xlsx")
