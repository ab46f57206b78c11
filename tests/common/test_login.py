"""Web login: passwords, sessions, CSRF, lock-out, logout and the admin bootstrap."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from typer.testing import CliRunner

from services.common import auth, users_cli
from services.common.app import create_app
from services.common.audit import AuditEvent
from services.common.auth import Role, User
from services.common.config import Settings
from services.common.db import Database

PASSWORD = "korrekt-hest-batteri"


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """A browser without credentials (overrides any shared client that sends a bearer token)."""
    with TestClient(create_app(settings)) as browser:
        yield browser


@pytest.fixture
def mette(db: Database) -> str:
    auth.add_user(db, "mette", Role.SAGSBEHANDLER)
    auth.set_password(db, "mette", PASSWORD)
    return "mette"


def _login_csrf(client: TestClient) -> str:
    page = client.get("/login")
    assert page.status_code == 200
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match is not None
    return match.group(1)


def _login(client: TestClient, name: str, password: str, next_url: str = "/"):  # type: ignore[no-untyped-def]
    form = {"username": name, "password": password, "csrf_token": _login_csrf(client), "next": next_url}
    return client.post("/login", data=form, follow_redirects=False)


def _session(client: TestClient) -> str:
    return client.cookies[auth.SESSION_COOKIE]


def _events(db: Database) -> list[AuditEvent]:
    with db.session() as session:
        return list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def test_password_is_stored_as_argon2_hash(db: Database, mette: str) -> None:
    with db.session() as session:
        stored = session.scalar(select(User.password_hash).where(User.name == mette))
    assert stored is not None and stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    with pytest.raises(auth.InvalidInput):
        auth.set_password(db, mette, "kort")


def test_login_sets_a_safe_cookie_and_the_session_authenticates_the_api(
    client: TestClient, mette: str
) -> None:
    assert client.get("/api/minutes/meetings").status_code == 401
    response = _login(client, mette, PASSWORD, next_url="/api/minutes/meetings")
    assert response.status_code == 303
    assert response.headers["location"] == "/api/minutes/meetings"
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith(auth.SESSION_COOKIE))
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    assert "secure" not in cookie.lower()  # plain http in the test; see the https test
    assert client.get("/api/minutes/meetings").json() == []
    assert client.get("/api/chat/collections").status_code == 200
    front = client.get("/")
    assert front.status_code == 200 and "Logget ind som" in front.text and "mette" in front.text


def test_cookie_is_secure_over_https_and_behind_a_trusted_proxy(settings: Settings, db: Database) -> None:
    auth.add_user(db, "ali", Role.MEDARBEJDER)
    auth.set_password(db, "ali", PASSWORD)
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        response = _login(client, "ali", PASSWORD)
        cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith(auth.SESSION_COOKIE))
        assert "secure" in cookie.lower()

    # Both cookies are set by one function; the login form's shows whether X-Forwarded-Proto is believed.
    def login_cookie(app_settings: Settings) -> str:
        with TestClient(create_app(app_settings), headers={"X-Forwarded-Proto": "https"}) as client:
            return client.get("/login").headers["set-cookie"].lower()

    assert "secure" not in login_cookie(settings)
    assert "secure" in login_cookie(settings.model_copy(update={"trust_proxy_headers": True}))


def test_open_redirects_are_refused(client: TestClient, mette: str) -> None:
    for target in ("https://ond.example", "//ond.example", "/\\ond.example"):
        assert _login(client, mette, PASSWORD, next_url=target).headers["location"] == "/"


def test_wrong_password_and_unknown_user_get_the_same_generic_answer(
    client: TestClient, db: Database, mette: str
) -> None:
    wrong = _login(client, mette, "forkert-adgangskode")
    unknown = _login(client, "ukendt", "forkert-adgangskode")
    assert wrong.status_code == unknown.status_code == 401
    assert auth.LOGIN_FAILED in wrong.text and auth.LOGIN_FAILED in unknown.text
    assert auth.SESSION_COOKIE not in client.cookies
    with db.session() as session:
        assert session.scalar(select(User.failed_logins).where(User.name == mette)) == 1
    # A success resets the count.
    assert _login(client, mette, PASSWORD).status_code == 303
    with db.session() as session:
        assert session.scalar(select(User.failed_logins).where(User.name == mette)) == 0


def test_lock_out_after_repeated_failures_and_unlock_after_the_lock_time(
    settings: Settings, db: Database, mette: str
) -> None:
    quick = settings.model_copy(update={"login_max_failures": 3, "login_lock_minutes": 1.5 / 60})
    with TestClient(create_app(quick)) as client:
        for _ in range(3):
            assert _login(client, mette, "forkert-adgangskode").status_code == 401
        locked = _login(client, mette, PASSWORD)
        assert locked.status_code == 401 and auth.LOGIN_FAILED in locked.text
        time.sleep(1.6)
        assert _login(client, mette, PASSWORD).status_code == 303
    outcomes = [(e.action, e.outcome) for e in _events(db)]
    assert outcomes == [("login_failed", "failed")] * 2 + [("login_failed", "denied")] * 2 + [("login", "ok")]


def test_admin_can_unlock(settings: Settings, db: Database, mette: str) -> None:
    for _ in range(settings.login_max_failures):
        auth.authenticate(db, settings, mette, "forkert-adgangskode")
    assert auth.authenticate(db, settings, mette, PASSWORD).locked
    auth.unlock_user(db, mette)
    assert auth.authenticate(db, settings, mette, PASSWORD).principal == auth.Principal(
        mette, Role.SAGSBEHANDLER
    )


def test_login_form_needs_its_csrf_token(client: TestClient, mette: str) -> None:
    _login_csrf(client)  # sets the login cookie
    for token in ("", "forkert"):
        form = {"username": mette, "password": PASSWORD, "csrf_token": token}
        response = client.post("/login", data=form, follow_redirects=False)
        assert response.status_code == 403 and "CSRF" in response.text
    assert auth.SESSION_COOKIE not in client.cookies


def test_state_changes_with_the_session_cookie_need_the_csrf_token(client: TestClient, mette: str) -> None:
    _login(client, mette, PASSWORD)
    url = "/api/minutes/meetings/findes-ikke"
    missing = client.delete(url)
    wrong = client.delete(url, headers={auth.CSRF_HEADER: "forkert"})
    assert missing.status_code == wrong.status_code == 403
    assert "CSRF" in missing.json()["detail"]
    right = client.delete(url, headers={auth.CSRF_HEADER: auth.csrf_token(_session(client))})
    assert right.status_code == 404  # past the login and CSRF checks
    assert client.get(url).status_code == 404  # reading needs no token


def test_bearer_tokens_need_no_csrf_token(client: TestClient, db: Database, mette: str) -> None:
    _, secret = auth.create_token(db, mette)
    client.cookies.clear()
    response = client.delete(
        "/api/minutes/meetings/findes-ikke", headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 404


def test_logout_revokes_the_session(client: TestClient, db: Database, mette: str) -> None:
    _login(client, mette, PASSWORD)
    secret = _session(client)
    assert client.post("/logout", data={"csrf_token": "forkert"}).status_code == 403
    response = client.post("/logout", data={"csrf_token": auth.csrf_token(secret)}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"
    client.cookies.set(auth.SESSION_COOKIE, secret)  # a copied cookie is dead server-side too
    assert client.get("/api/minutes/meetings").status_code == 401
    assert client.get("/", follow_redirects=False).headers["location"].startswith("/login")


def test_session_expires(settings: Settings, db: Database, mette: str) -> None:
    short = settings.model_copy(update={"session_hours": 1 / 3600})
    secret = auth.create_session(db, short, mette)
    assert auth.principal_for_session(db, secret).name == mette
    time.sleep(1.1)
    with pytest.raises(auth.Unauthorized):
        auth.principal_for_session(db, secret)


def test_new_password_ends_open_sessions(settings: Settings, db: Database, mette: str) -> None:
    secret = auth.create_session(db, settings, mette)
    auth.set_password(db, mette, "en-helt-ny-adgangskode")
    with pytest.raises(auth.Unauthorized):
        auth.principal_for_session(db, secret)


def test_audit_rows_for_login_failure_and_logout_hold_no_password(
    client: TestClient, db: Database, mette: str
) -> None:
    _login(client, "ukendt", "hemmelig-1")
    _login(client, mette, "hemmelig-2")
    _login(client, mette, PASSWORD)
    client.post("/logout", data={"csrf_token": auth.csrf_token(_session(client))})
    rows = [(e.actor, e.role, e.action, e.outcome) for e in _events(db)]
    assert rows == [
        (None, None, "login_failed", "failed"),
        ("mette", "sagsbehandler", "login_failed", "failed"),
        ("mette", "sagsbehandler", "login", "ok"),
        ("mette", "sagsbehandler", "logout", "ok"),
    ]
    with db.engine.connect() as connection:
        dump = str(connection.execute(text("SELECT * FROM audit_events")).all())
    for secret in ("hemmelig-1", "hemmelig-2", PASSWORD, "ukendt"):
        assert secret not in dump


def test_ensure_admin_is_idempotent(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(users_cli, "_db", lambda: db)
    runner = CliRunner()
    first = runner.invoke(users_cli.users_app, ["ensure-admin"])
    assert first.exit_code == 0, first.output
    password = first.output.strip().splitlines()[-1]
    assert auth.authenticate(db, Settings(), "admin", password).principal == auth.Principal(
        "admin", Role.ADMIN
    )
    second = runner.invoke(users_cli.users_app, ["ensure-admin"])
    assert second.exit_code == 0 and "findes allerede" in second.output
    assert password not in second.output
    assert auth.ensure_admin(db) is None


def test_cli_adds_a_user_with_a_prompted_password(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(users_cli, "_db", lambda: db)
    runner = CliRunner()
    result = runner.invoke(
        users_cli.users_app, ["add", "jens", "--role", "it", "--password"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    assert auth.authenticate(db, Settings(), "jens", PASSWORD).principal is not None
    short = runner.invoke(
        users_cli.users_app, ["add", "kim", "--role", "it", "--password"], input="kort\nkort\n"
    )
    assert short.exit_code != 0
    with db.session() as session:
        assert session.scalar(select(User).where(User.name == "kim")) is None
    changed = runner.invoke(
        users_cli.users_app, ["passwd", "jens"], input="ny-adgangskode-1\nny-adgangskode-1\n"
    )
    assert changed.exit_code == 0, changed.output
    assert auth.authenticate(db, Settings(), "jens", "ny-adgangskode-1").principal is not None
