"""Chatbot fixtures: the shipped collections built once per run (embeddings from the shared cache)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services.app import create_app
from services.chatbot import service
from services.common.config import Settings
from services.common.db import Database, open_database


@pytest.fixture(scope="session")
def shipped(
    tmp_path_factory: pytest.TempPathFactory, model_cache_dir: Path
) -> Iterator[tuple[Database, Settings]]:
    """A data dir with barnets-lov and it-help built, shared by the tests that only read it."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("shipped") / "var", model_cache_dir=model_cache_dir)
    settings.prepare_dirs()
    db = open_database(settings.resolved_database_url)
    service.ensure_shipped_collections(db, settings)
    yield db, settings
    db.dispose()


@pytest.fixture(scope="session")
def shipped_client(shipped: tuple[Database, Settings]) -> Iterator[TestClient]:
    _, settings = shipped
    with TestClient(create_app(settings)) as client:
        yield client
