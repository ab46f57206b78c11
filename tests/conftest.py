"""Shared fixtures: isolated settings per test, one prepared model cache for the whole run.

With ``KAI_TEST_DATABASE_URL=postgresql+psycopg://...`` (``make test`` sets it for its second pass) the
tests that use a database (the ``db`` or ``client`` fixtures) run on PostgreSQL instead, each in a fresh
database copied from a migrated template; the other tests are deselected in that pass. The scale tests
(tests/scale: Redis-backed workers) run only in the PostgreSQL pass.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from faster_whisper import WhisperModel
from sqlalchemy import make_url
from sqlalchemy.engine import URL
from sqlalchemy.exc import OperationalError

from models.registry import load_whisper
from servers import create_database, drop_database, unavailable
from services.app import create_app
from services.common.config import Settings, shared_data_dir
from services.common.db import Database, open_database

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = shared_data_dir()
# `make models` prepares the bundled weights here; tests share it instead of joining 145 MB per test.
MODEL_CACHE = REPO / "var" / "models"


TEST_DATABASE_URL = os.environ.get("KAI_TEST_DATABASE_URL")
DATABASE_FIXTURES = frozenset({"db", "client"})
SCALE_TESTS = REPO / "tests" / "scale"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """SQLite pass: everything but tests/scale. PostgreSQL pass: the tests that use a database, tests/scale
    included (Redis-backed workers on several machines only make sense with a server database)."""

    def is_scale_test(item: pytest.Item) -> bool:
        return SCALE_TESTS in Path(str(item.path)).parents

    if TEST_DATABASE_URL:
        keep = [
            item
            for item in items
            if is_scale_test(item) or DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))
        ]
    else:
        keep = [item for item in items if not is_scale_test(item)]
    config.hook.pytest_deselected(items=[item for item in items if item not in keep])
    items[:] = keep


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[tuple[URL, str]]:
    """A migrated database to copy for each test (copying is much faster than migrating)."""
    assert TEST_DATABASE_URL
    server = make_url(TEST_DATABASE_URL)
    name = f"kai_template_{uuid.uuid4().hex[:8]}"
    try:
        template = create_database(server, name)
    except OperationalError as exc:
        unavailable("PostgreSQL", str(exc).splitlines()[0])
    open_database(template.render_as_string(hide_password=False)).dispose()
    yield server, name
    drop_database(server, name)


@pytest.fixture
def database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """None (SQLite in the test's data dir), or a fresh PostgreSQL database for this test."""
    if not TEST_DATABASE_URL:
        yield None
        return
    server, template = request.getfixturevalue("postgres_template")
    name = f"kai_test_{uuid.uuid4().hex[:12]}"
    yield create_database(server, name, template).render_as_string(hide_password=False)
    drop_database(server, name)


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None) -> Settings:
    return Settings(
        data_dir=tmp_path / "var", database_url=database_url, model_cache_dir=MODEL_CACHE, max_upload_mb=20
    )


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    settings.prepare_dirs()
    database = open_database(settings.resolved_database_url)
    yield database
    database.dispose()


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def whisper() -> WhisperModel:
    """The bundled Whisper model, loaded once for the whole test run (as kai loads it once per process)."""
    return load_whisper(Settings(model_cache_dir=MODEL_CACHE))


@pytest.fixture(scope="session")
def model_cache_dir() -> Path:
    return MODEL_CACHE
