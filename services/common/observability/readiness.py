"""The checks behind /readyz: can this instance serve? The database, Redis (when configured) and the
prepared models, whose checks the services contribute (``ReadinessCheck``)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from services.common.config import Settings
from services.common.db import Database
from services.common.plugin import ReadinessCheck
from services.common.queue import redis_connection

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Check:
    ok: bool
    detail: str  # "ok", "disabled", or why it failed (short, Danish)


@dataclass(frozen=True)
class Readiness:
    checks: dict[str, Check]

    @property
    def ready(self) -> bool:
        return all(check.ok for check in self.checks.values())

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "status": "ready" if self.ready else "not ready",
            "checks": {name: check.detail for name, check in self.checks.items()},
        }
        if not self.ready:
            body["failed"] = [name for name, check in self.checks.items() if not check.ok]
        return body


def readiness(db: Database, settings: Settings, model_checks: Sequence[ReadinessCheck] = ()) -> Readiness:
    """Can this instance serve: database, Redis (when configured) and the prepared models on disk."""
    return Readiness(
        {
            "database": check_database(db),
            "redis": check_redis(settings),
            "models": check_models(db, settings, model_checks),
        }
    )


def check_database(db: Database) -> Check:
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        log.warning("Readiness: the database does not answer: %s", exc)
        return Check(False, f"Databasen svarer ikke ({type(exc).__name__}).")
    return Check(True, "ok")


def check_redis(settings: Settings) -> Check:
    if not settings.redis_url:
        return Check(True, "disabled")
    try:
        with redis_connection(settings) as connection:
            connection.ping()
    except RedisError as exc:
        log.warning("Readiness: Redis does not answer: %s", exc)
        return Check(False, f"Redis svarer ikke ({type(exc).__name__}).")
    return Check(True, "ok")


def check_models(db: Database, settings: Settings, model_checks: Sequence[ReadinessCheck]) -> Check:
    """Cheap file checks, nothing is loaded, one per service: Whisper prepared, every collection's index and
    the active mail model present (on the shared storage, where a missing mount shows up here)."""
    try:
        problems = [problem for check in model_checks for problem in check(db, settings)]
    except SQLAlchemyError:
        return Check(False, "Kan ikke kontrolleres uden database.")
    return Check(not problems, " ".join(problems) or "ok")
