"""Fixtures for the scale tests: a clean Redis database and ``kai worker`` processes."""

from __future__ import annotations

import os
import signal
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from credentials import bearer
from redis import Redis
from redis.exceptions import RedisError

from servers import TEST_REDIS_URL, unavailable
from services.common.config import Settings
from services.common.db import Database

KAI = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "kai"


@pytest.fixture
def redis_url() -> Iterator[str]:
    connection = Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=2)
    try:
        connection.ping()
    except RedisError as exc:
        unavailable("Redis", str(exc))
    connection.flushdb()
    yield TEST_REDIS_URL
    connection.flushdb()
    connection.close()


@pytest.fixture
def queued_settings(settings: Settings, redis_url: str, tmp_path: Path) -> Settings:
    """An API that sends its jobs through Redis and keeps files on a shared volume; heartbeats every second,
    so dead workers show fast."""
    queue = f"kai-test-{uuid.uuid4().hex[:8]}"
    update = {
        "redis_url": redis_url,
        "job_queue": queue,
        "job_heartbeat_seconds": 1,
        "storage_dir": tmp_path / "shared",
    }
    return settings.model_copy(update=update)


def worker_env(settings: Settings, local_dir: Path) -> dict[str, str]:
    """The environment of a ``kai worker`` on another machine: its own local data dir, the same database,
    shared storage and queue."""
    return os.environ | {
        "KAI_DATA_DIR": str(local_dir),
        "KAI_STORAGE_DIR": str(settings.resolved_storage_dir),
        "KAI_DATABASE_URL": settings.resolved_database_url,
        "KAI_MODEL_CACHE_DIR": str(settings.model_cache_dir),
        "KAI_REDIS_URL": str(settings.redis_url),
        "KAI_JOB_QUEUE": settings.job_queue,
        "KAI_JOB_HEARTBEAT_SECONDS": str(settings.job_heartbeat_seconds),
        "KAI_LOG_FORMAT": "text",
    }


@pytest.fixture
def api_headers(db: Database) -> dict[str, str]:
    """The Authorization header of a staff member's API token (every role may upload recordings)."""
    return bearer(db, "referent")


StartWorker = Callable[..., subprocess.Popen[str]]


@pytest.fixture
def start_worker(queued_settings: Settings, tmp_path: Path) -> Iterator[StartWorker]:
    """Start ``kai worker`` processes (each in its own process group, so a kill takes its work-horse too)."""
    started: list[subprocess.Popen[str]] = []

    def start(name: str, *args: str) -> subprocess.Popen[str]:
        log = (tmp_path / f"{name}.log").open("w")
        process = subprocess.Popen(
            [str(KAI), "worker", "--name", name, *args],
            env=worker_env(queued_settings, tmp_path / f"{name}-local"),
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
