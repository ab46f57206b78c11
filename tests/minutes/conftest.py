"""Minutes fixtures: the API needs a login, so the shared client sends a bearer token."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from services.common import auth
from services.common.app import create_app
from services.common.config import Settings
from services.common.db import open_database


def bearer_headers(settings: Settings, name: str = "referent") -> dict[str, str]:
    """An Authorization header for a new staff user (every role may use minutes)."""
    settings.prepare_dirs()
    db = open_database(settings.resolved_database_url)
    try:
        auth.add_user(db, name, auth.Role.MEDARBEJDER)
        _, secret = auth.create_token(db, name, label="tests")
    finally:
        db.dispose()
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def api_headers(settings: Settings) -> dict[str, str]:
    return bearer_headers(settings)


@pytest.fixture
def client(settings: Settings, api_headers: dict[str, str]) -> Iterator[TestClient]:
    with TestClient(create_app(settings), headers=api_headers) as test_client:
        yield test_client


@pytest.fixture
def headers_for(settings: Settings) -> Callable[[str], dict[str, str]]:
    """Authorization headers for another new user, by name (for access tests)."""
    return lambda name: bearer_headers(settings, name)
