"""Shared fixtures: isolated settings per test, one prepared model cache for the whole run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from faster_whisper import WhisperModel

from models.registry import load_whisper
from services.common.app import create_app
from services.common.config import Settings
from services.common.db import Database, open_database

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
# `make models` prepares the bundled weights here; tests share it instead of joining 145 MB per test.
MODEL_CACHE = REPO / "var" / "models"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "var", model_cache_dir=MODEL_CACHE, max_upload_mb=20)


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
