"""Web login: passwords, sessions, CSRF, back-off after failed logins, logout and the admin bootstrap."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Literal

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import select, text, update
from typer.testing import CliRunner

from kai_cli import KAI, kai_env
from servers import running_kai
from services.app import create_app
from services.common import auth, users_cli
from services.common.audit import AuditEvent
from services.common.auth import Role, User, passwords
from services.common.config import Settings
from services.common.db import Database, utcnow
from services.common.errors import InvalidInput, Unauthorized
from services.common.login_backoff import LoginBackoff

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
    with pytest.raises(InvalidInput):
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


def test_wrong_password_and_unknown_user_get_the_same_generic_answer(client: TestClient, mette: str) -> None:
    wrong = _login(client, mette, "forkert-adgangskode")
    unknown = _login(client, "ukendt", "forkert-adgangskode")
    assert wrong.status_code == unknown.status_code == 401
    assert auth.LOGIN_FAILED in wrong.text and auth.LOGIN_FAILED in unknown.text
    assert auth.SESSION_COOKIE not in client.cookies


# --- back-off after failed logins -------------------------------------------------------------------------

# Two free failures per account, four per address, waits doubling from 1 s up to 4 s.
QUICK = {"login_free_failures": 2, "login_free_failures_per_address": 4, "login_max_wait_minutes": 4 / 60}


@contextmanager
def _browser(settings: Settings, address: str) -> Iterator[TestClient]:
    """A browser at ``address`` (the app sees it as the client's address)."""
    with TestClient(create_app(settings), client=(address, 50000)) as browser:
        yield browser


def _expire_waits(db: Database, scope: str | None = None) -> None:
    """Let time pass: every wait (of one scope, 'user' or 'address') has run out."""
    with db.session() as session:
        rows = update(LoginBackoff).values(wait_until=utcnow() - timedelta(seconds=1))
        session.execute(rows if scope is None else rows.where(LoginBackoff.scope == scope))


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The password hashes checked (an argon2 run each), in order; the real check still runs."""
    checked: list[str] = []

    class CountingHasher(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
            checked.append(str(hash))
            return super().verify(hash, password)

    monkeypatch.setattr(passwords, "_hasher", CountingHasher())
    return checked


def test_failures_make_the_next_attempt_wait_and_a_waiting_attempt_costs_no_hash(
    settings: Settings, db: Database, mette: str, hashes: list[str]
) -> None:
    with _browser(settings.model_copy(update=QUICK), "192.0.2.10") as client:
        for _ in range(4):  # the 2nd failure makes the next attempt wait 1 s, the 3rd 2 s, the 4th 4 s
            assert _login(client, mette, "forkert-1").status_code == 401
            _expire_waits(db)  # (as if the user had waited)
        assert _login(client, mette, "forkert-1").status_code == 401
        waiting = _login(client, mette, PASSWORD)  # even the right password must wait
        wait = int(waiting.headers["retry-after"])
        assert waiting.status_code == 429 and 2 <= wait <= 4  # 4 s, less the last guess's hash time
        assert f"Vent {wait} sekunder" in waiting.text and auth.SESSION_COOKIE not in client.cookies
        assert len(hashes) == 5
        time.sleep(wait)
        assert _login(client, mette, PASSWORD).status_code == 303
        # A success starts the count afresh.
        assert _login(client, mette, "forkert-2").status_code == 401
        assert _login(client, mette, PASSWORD).status_code == 303
    outcomes = [(e.action, e.outcome) for e in _events(db)]
    assert outcomes == [
        *[("login_failed", "failed")] * 5,
        ("login_failed", "denied"),
        ("login", "ok"),
        ("login_failed", "failed"),
        ("login", "ok"),
    ]


def test_the_wait_doubles_with_each_failure_up_to_the_longest(
    settings: Settings, db: Database, mette: str
) -> None:
    quick = settings.model_copy(update=QUICK | {"login_free_failures_per_address": 100})
    assert auth.authenticate(db, quick, mette, "forkert", "192.0.2.10").retry_after is None  # free
    waits = []
    for _ in range(4):
        assert auth.authenticate(db, quick, mette, "forkert", "192.0.2.10").retry_after is None
        waits.append(auth.authenticate(db, quick, mette, "forkert", "192.0.2.10").retry_after)
        _expire_waits(db)
    assert waits == [1, 2, 4, 4]


def test_an_attackers_failures_keep_the_user_out_only_for_the_accounts_wait(
    settings: Settings, db: Database, mette: str
) -> None:
    quick = settings.model_copy(update=QUICK)
    attacker, colleague = "203.0.113.7", "198.51.100.9"
    for _ in range(6):  # the attacker guesses on, as often as the waits let him
        auth.authenticate(db, quick, mette, "gæt", attacker)
        _expire_waits(db)
    assert auth.authenticate(db, quick, mette, "gæt", attacker).retry_after is None
    # Both the account and the attacker's address wait now (4 s, the longest; less what the last guess's hash
    # took); the user elsewhere waits for the account only.
    assert 2 <= (auth.authenticate(db, quick, mette, PASSWORD, colleague).retry_after or 0) <= 4
    _expire_waits(db, "user")
    assert auth.authenticate(db, quick, mette, PASSWORD, colleague).principal is not None
    assert 2 <= (auth.authenticate(db, quick, mette, PASSWORD, attacker).retry_after or 0) <= 4


def test_unknown_names_wait_like_known_ones(settings: Settings, db: Database, mette: str) -> None:
    quick = settings.model_copy(update=QUICK)
    for name in (mette, "ukendt"):
        outcomes = [auth.authenticate(db, quick, name, "forkert", f"192.0.2.{len(name)}") for _ in range(3)]
        assert [o.retry_after for o in outcomes] == [None, None, 1]


def test_parallel_guesses_get_no_more_hashes_than_the_free_failures(
    settings: Settings, db: Database, mette: str, hashes: list[str]
) -> None:
    quick = settings.model_copy(update=QUICK)
    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(
            pool.map(lambda n: auth.authenticate(db, quick, mette, "forkert", f"192.0.2.{n}"), range(16))
        )
    assert sum(o.retry_after is None for o in outcomes) == len(hashes) == 2


def test_a_trusted_proxys_client_address_counts_for_the_address_back_off(
    settings: Settings, db: Database, mette: str, tmp_path: Path
) -> None:
    auth.add_user(db, "ali", Role.MEDARBEJDER)
    auth.set_password(db, "ali", PASSWORD)
    env = kai_env(settings) | {
        "KAI_TRUST_PROXY_HEADERS": "true",
        "KAI_LOGIN_FREE_FAILURES_PER_ADDRESS": "2",
        "KAI_LOG_FORMAT": "text",
    }
    with running_kai(KAI, env, tmp_path / "kai.log") as (url, _):

        def login_from(address: str, name: str, password: str) -> int:
            with httpx.Client(base_url=url, headers={"X-Forwarded-For": address}) as browser:
                return _login(browser, name, password).status_code  # type: ignore[arg-type]

        # One address tries one password on many accounts; it must wait, the colleague elsewhere need not.
        assert [login_from("203.0.113.7", user, "forkert") for user in ("mette", "ali")] == [401, 401]
        assert login_from("203.0.113.7", "ali", PASSWORD) == 429
        assert login_from("198.51.100.9", "ali", PASSWORD) == 303


def test_admin_can_end_the_wait(settings: Settings, db: Database, mette: str) -> None:
    quick = settings.model_copy(update=QUICK)
    for _ in range(5):
        auth.authenticate(db, quick, mette, "forkert-adgangskode", "192.0.2.10")
        _expire_waits(db)
    auth.authenticate(db, quick, mette, "forkert-adgangskode", "192.0.2.11")
    assert auth.authenticate(db, quick, mette, PASSWORD, "192.0.2.12").retry_after is not None
    auth.unlock_user(db, mette)
    assert auth.authenticate(db, quick, mette, PASSWORD, "192.0.2.11").principal == auth.Principal(
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
    with pytest.raises(Unauthorized):
        auth.principal_for_session(db, secret)


def test_new_password_ends_open_sessions(settings: Settings, db: Database, mette: str) -> None:
    secret = auth.create_session(db, settings, mette)
    auth.set_password(db, mette, "en-helt-ny-adgangskode")
    with pytest.raises(Unauthorized):
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
    monkeypatch.setattr(users_cli, "open_cli_database", lambda: (db, Settings()))
    runner = CliRunner()
    first = runner.invoke(users_cli.users_app, ["ensure-admin"])
    assert first.exit_code == 0, first.output
    password = first.output.strip().splitlines()[-1]
    assert auth.authenticate(db, Settings(), "admin", password, "192.0.2.1").principal == auth.Principal(
        "admin", Role.ADMIN
    )
    second = runner.invoke(users_cli.users_app, ["ensure-admin"])
    assert second.exit_code == 0 and "findes allerede" in second.output
    assert password not in second.output
    assert auth.ensure_admin(db) is None


def test_cli_adds_a_user_with_a_prompted_password(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(users_cli, "open_cli_database", lambda: (db, Settings()))
    runner = CliRunner()
    result = runner.invoke(
        users_cli.users_app, ["add", "jens", "--role", "it", "--password"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    assert auth.authenticate(db, Settings(), "jens", PASSWORD, "192.0.2.1").principal is not None
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
    assert auth.authenticate(db, Settings(), "jens", "ny-adgangskode-1", "192.0.2.1").principal is not None
