"""Every page asks the one page dependency: without a session a redirect to the login page, with a role the
page's service does not allow the Danish 403 page naming the roles it needs; the API and the page of a
service refuse and admit the same roles (one policy each)."""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from evaluation.policy import SAVINGS_ROLES
from services.chatbot.policy import GAP_EDITOR_ROLES
from services.common import auth
from services.common.auth import Role
from services.common.config import Settings
from services.common.db import open_database
from services.mailsort.policy import CLERK_ROLES
from services.web.router import router as web_router

PUBLIC = {"/login", "/logout"}


def _routes(routes: list) -> list[APIRoute]:
    """The web layer's routes, those of its included page routers too (which FastAPI keeps apart)."""
    found = []
    for route in routes:
        included = getattr(route, "original_router", None)
        found += _routes(included.routes) if included is not None else [route]
    return [route for route in found if isinstance(route, APIRoute)]


PAGES = sorted(
    route.path.replace("{meeting_id}", "m-1")
    for route in _routes(web_router.routes)
    if "GET" in route.methods and route.path not in PUBLIC
)
# Pages for some roles only, and the API route of the same service that must agree.
POLICIES = [
    ("/post", CLERK_ROLES, "/api/mail/mails"),
    ("/post/modeller", CLERK_ROLES, "/api/mail/review"),
    ("/gevinster", SAVINGS_ROLES, "/api/evaluation/savings"),
    ("/gevinster/rapport.xlsx", SAVINGS_ROLES, "/api/evaluation/savings"),
    ("/vejledning/huller", GAP_EDITOR_ROLES, None),
]


def test_the_pages_are_found() -> None:
    assert {"/", "/referat", "/referat/m-1", "/vejledning", "/post", "/gevinster"} <= set(PAGES)


@pytest.mark.parametrize("path", PAGES)
def test_without_a_session_every_page_redirects_to_login(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303, path
    assert response.headers["location"] == f"/login?next={path}"


def _log_in(client: TestClient, settings: Settings, role: Role) -> None:
    db = open_database(settings.resolved_database_url)
    try:
        auth.add_user(db, role.value, role)
        client.cookies.set(auth.SESSION_COOKIE, auth.create_session(db, settings, role.value))
    finally:
        db.dispose()


@pytest.mark.parametrize(("path", "roles", "api"), POLICIES)
@pytest.mark.parametrize("role", list(Role))
def test_a_page_and_its_api_admit_the_same_roles(
    client: TestClient, settings: Settings, path: str, roles: frozenset[Role], api: str | None, role: Role
) -> None:
    _log_in(client, settings, role)
    page = client.get(path, follow_redirects=False)
    if role in roles:
        assert page.status_code == 200, (path, role, page.text[:300])
    else:
        assert page.status_code == 403, (path, role)
        assert "Adgang nægtet" in page.text
        assert ", ".join(sorted(r.value for r in roles)) in page.text
        assert page.headers["cache-control"] == "no-store"
    if api is not None:
        assert (client.get(api).status_code == 200) == (role in roles), (api, role)
