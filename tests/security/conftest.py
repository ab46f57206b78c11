"""Security fixtures: one kai with several users, each with an API token and a password for the web pages.

``kai`` is shared by the security tests (its own data dir, SQLite); ``transcribed`` is a meeting its owner
uploaded and kai transcribed with the real models, so the review routes have something to refuse or allow.
``bearer`` makes users in a test's own kai instead (the ``client`` and ``db`` fixtures: a fresh database per
test, PostgreSQL in its pass), for tests that count what was stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from credentials import bearer_for
from fastapi.testclient import TestClient

from security_fixtures import JFK, MODEL_CACHE, OWNER, PASSWORD, USERS, Kai
from services.app import create_app
from services.common import auth
from services.common.config import Settings
from services.common.db import open_database


@pytest.fixture(scope="session")
def kai(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kai]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("security") / "var", model_cache_dir=MODEL_CACHE, max_upload_mb=20
    )
    settings.prepare_dirs()
    db = open_database(settings.resolved_database_url)
    headers = {}
    for name, role in USERS.items():
        auth.add_user(db, name, role)
        auth.set_password(db, name, PASSWORD)
        _, secret = auth.create_token(db, name, label="security tests")
        headers[name] = {"Authorization": f"Bearer {secret}"}
    with TestClient(create_app(settings)) as client:
        yield Kai(client, settings, db, headers)
    db.dispose()


@pytest.fixture(scope="session")
def transcribed(kai: Kai) -> str:
    """The id of a meeting ``OWNER`` uploaded, transcribed by the real models."""
    created = kai.upload(OWNER, JFK, language="en", title="Budgetmøde", agenda_text="Talen\nEventuelt")
    assert created.status_code == 202, created.text
    meeting_id = created.json()["id"]
    assert kai.wait_done(OWNER, meeting_id)["job"]["status"] == "done"
    return meeting_id


@pytest.fixture
def bearer(settings: Settings) -> Callable[..., dict[str, str]]:
    """``bearer(name, role)``: a new user of the test's own kai and a bearer header with its token."""

    def make(name: str, role: auth.Role = auth.Role.MEDARBEJDER) -> dict[str, str]:
        return bearer_for(settings, name, role)

    return make
