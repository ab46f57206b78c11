"""What every page shares: the templates, the session principal, role checks and the Danish 403 page."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request, Response, status
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from evaluation.report import danish_number
from services.common import auth
from services.common.db import Database
from services.common.errors import KaiError

WEB_DIR = Path(__file__).resolve().parent
STATIC_DIR = WEB_DIR / "static"
templates = Jinja2Templates(directory=WEB_DIR / "templates")
templates.env.filters["dk"] = danish_number
# The municipality's clock; the database stores UTC.
LOCAL_TIME = ZoneInfo("Europe/Copenhagen")
# Pages show personal data: never kept by the browser (other security headers: services.common.middleware).
PAGE_HEADERS = {"Cache-Control": "no-store"}


def danish_time(moment: datetime | str | None) -> str:
    """A stored time (or its ISO text) in Danish local time, ``20.11.2026 kl. 14.05``; naive means UTC."""
    if moment is None or moment == "":
        return ""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(LOCAL_TIME).strftime("%d.%m.%Y kl. %H.%M")


templates.env.filters["danish_time"] = danish_time

# The pages in the site navigation: (path, label, roles allowed; empty = every logged-in user).
NAVIGATION: tuple[tuple[str, str, frozenset[auth.Role]], ...] = (
    ("/referat", "Referat", frozenset()),
    ("/vejledning", "Spørg vejledningen", frozenset()),
    ("/post", "Postsortering", frozenset({auth.Role.IT, auth.Role.ADMIN})),
    ("/gevinster", "Gevinster", frozenset({auth.Role.LEDELSE, auth.Role.ADMIN})),
)


def session_principal(request: Request, db: Database) -> auth.Principal | None:
    """The logged-in user of this browser, or None (no cookie, expired or revoked session)."""
    secret = request.cookies.get(auth.SESSION_COOKIE)
    if not secret:
        return None
    try:
        return auth.principal_for_session(db, secret)
    except KaiError:
        return None


def render(
    request: Request,
    template: str,
    principal: auth.Principal | None,
    status_code: int = status.HTTP_200_OK,
    **context: Any,
) -> HTMLResponse:
    """A page for ``principal``: the navigation they may use and the CSRF token their scripts send."""
    secret = request.cookies.get(auth.SESSION_COOKIE)
    navigation = [
        (path, label)
        for path, label, roles in NAVIGATION
        if principal is not None and (not roles or principal.role in roles)
    ]
    return templates.TemplateResponse(
        request,
        template,
        {
            "principal": principal,
            "csrf_token": auth.csrf_token(secret) if secret and principal else None,
            "navigation": navigation,
            "current_path": request.url.path,
            **context,
        },
        status_code=status_code,
        headers=PAGE_HEADERS,
    )


def page_access(
    request: Request, db: Database, roles: Collection[auth.Role] = ()
) -> tuple[auth.Principal | None, Response | None]:
    """The principal, or the response to give instead: a redirect to login or the Danish 403 page.

    ``roles`` empty lets every logged-in user in.
    """
    principal = session_principal(request, db)
    if principal is None:
        target = f"/login?next={request.url.path}"
        return None, RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)
    if roles and principal.role not in roles:
        allowed = ", ".join(sorted(role.value for role in roles))
        denied = render(
            request, "forbidden.html", principal, status.HTTP_403_FORBIDDEN, allowed_roles=allowed
        )
        return principal, denied
    return principal, None
