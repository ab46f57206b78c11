"""Minutes fixtures: the API needs a login, so the shared client sends a bearer token."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from credentials import bearer_for
from fastapi.testclient import TestClient

from services.app import create_app
from services.common.config import Settings


@pytest.fixture
def api_headers(settings: Settings) -> dict[str, str]:
    """An Authorization header for a new staff user (every role may use minutes)."""
    return bearer_for(settings, "referent")


@pytest.fixture
def client(settings: Settings, api_headers: dict[str, str]) -> Iterator[TestClient]:
    with TestClient(create_app(settings), headers=api_headers) as test_client:
        yield test_client


@pytest.fixture
def headers_for(settings: Settings) -> Callable[[str], dict[str, str]]:
    """Authorization headers for another new user, by name (for access tests)."""
    return lambda name: bearer_for(settings, name)
