"""Run the installed `kai` command as a user (or an outside check) would, against a test's own data dir."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from services.common.config import Settings

KAI = Path(__file__).resolve().parents[1] / ".venv" / "bin" / "kai"


def kai_env(settings: Settings) -> dict[str, str]:
    """The environment of a `kai` process with ``settings``' data dir, model cache, database and Redis."""
    env = os.environ | {
        "KAI_DATA_DIR": str(settings.data_dir),
        "KAI_MODEL_CACHE_DIR": str(settings.model_cache_dir),
        "KAI_DATABASE_URL": settings.resolved_database_url,
    }
    if settings.redis_url:
        env["KAI_REDIS_URL"] = settings.redis_url
    return env


def run_kai(settings: Settings, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """`kai ARGS` with KAI_DATA_DIR and KAI_MODEL_CACHE_DIR from ``settings``, run from the data dir's parent
    (so relative paths in ``args`` land in the test's temp folder)."""
    return subprocess.run(
        [str(KAI), *args],
        capture_output=True,
        text=True,
        env=kai_env(settings),
        timeout=timeout,
        check=False,
        cwd=settings.data_dir.parent,
    )
