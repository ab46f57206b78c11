"""What every page shares: the templates, the session principal, role checks and the Danish 403 page."""

from __future__ import annotations

from collections.abc import Callable, Collection, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates

from evaluation.policy import SAVINGS_ROLES
from evaluation.report import danish_number
from services.common import auth
from services.common.db import Database
from services.common.deps import DatabaseDep
from services.common.errors import KaiError
from services.mailsort.policy import CLERK_ROLES

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
    ("/post", "Postsortering", CLERK_ROLES),
    ("/gevinster", "Gevinster", SAVINGS_ROLES),
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


class PageDenied(Exception):
    """Not a page for this caller: ``response`` (a redirect to login, or the 403 page) is given instead."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


class PageRoute(APIRoute):
    """A page's route: a ``PageDenied`` raised while its dependencies are solved becomes the response."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except PageDenied as denied:
                return denied.response

        return handle


def page_router() -> APIRouter:
    """The router every page module declares its pages on."""
    return APIRouter(include_in_schema=False, route_class=PageRoute)


def page_user(roles: Collection[auth.Role] = ()) -> Callable[[Request, Database], auth.Principal]:
    """The dependency that lets the logged-in users with one of ``roles`` (empty: any role) see a page: the
    others get a redirect to the login page, or the Danish 403 page that names the roles it needs."""

    def check(request: Request, db: DatabaseDep) -> auth.Principal:
        principal = session_principal(request, db)
        if principal is None:
            target = f"/login?next={request.url.path}"
            raise PageDenied(RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER))
        if roles and principal.role not in roles:
            allowed = ", ".join(sorted(role.value for role in roles))
            raise PageDenied(
                render(request, "forbidden.html", principal, status.HTTP_403_FORBIDDEN, allowed_roles=allowed)
            )
        return principal

    return check


# A page for every logged-in user; a page for some roles: ``Annotated[Principal, Depends(page_user(roles))]``.
PageUser = Annotated[auth.Principal, Depends(page_user())]
