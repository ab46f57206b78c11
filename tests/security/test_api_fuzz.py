"""The whole API fuzzed by schemathesis against a real ``kai serve``: no 5xx, every response as published.

Bounded by ``KAI_FUZZ_SECONDS`` (default 150 s); the seed is fixed so a failure in CI can be replayed here.
The server is a fresh `make run` in miniature: models prepared, shipped collections indexed, mail model
trained, an administrator's API token — so every operation is reachable with valid credentials.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from kai_cli import KAI, run_kai
from servers import running_kai
from services.common.config import Settings

FUZZ_SECONDS = os.environ.get("KAI_FUZZ_SECONDS", "150")
SEED = "20261206"
SCHEMATHESIS = Path(sys.executable).parent / "st"
HERE = Path(__file__).resolve().parent


def _admin_token(settings: Settings) -> str:
    for args in (("prepare-models",), ("users", "add", "fuzzer", "--role", "admin")):
        done = run_kai(settings, *args)
        assert done.returncode == 0, done.stdout + done.stderr
    created = run_kai(settings, "tokens", "create", "--user", "fuzzer", "--label", "fuzz")
    assert created.returncode == 0, created.stdout + created.stderr
    [token] = re.findall(r"kai_[\w-]+", created.stdout)
    return token


def test_fuzzed_api_gives_no_server_error_and_matches_its_schema(settings: Settings, tmp_path: Path) -> None:
    token = _admin_token(settings)
    env = os.environ | {
        "KAI_DATA_DIR": str(settings.data_dir),
        "KAI_MODEL_CACHE_DIR": str(settings.model_cache_dir),
        "KAI_DATABASE_URL": settings.resolved_database_url,
        "KAI_LOG_FORMAT": "text",
    }
    with running_kai(KAI, env, tmp_path / "api.log") as (url, _):
        run = subprocess.run(
            [
                str(SCHEMATHESIS),
                "run",
                f"{url}/openapi.json",
                "--header",
                f"Authorization: Bearer {token}",
                "--checks",
                "not_a_server_error,response_schema_conformance",
                "--max-time",
                FUZZ_SECONDS,
                "--seed",
                SEED,
                "--generation-database",
                "none",
                "--workers",
                "1",
                "--no-color",
                "--report",
                "junit",
                "--report-junit-path",
                str(tmp_path / "fuzz-junit.xml"),
            ],
            env=os.environ | {"SCHEMATHESIS_HOOKS": "fuzz_hooks", "PYTHONPATH": str(HERE)},
            cwd=tmp_path,  # schemathesis keeps a cache of crashes in its working directory
            capture_output=True,
            text=True,
            timeout=int(FUZZ_SECONDS) + 300,
            check=False,
        )
    server_log = (tmp_path / "api.log").read_text()
    assert run.returncode == 0, run.stdout[-12000:] + run.stderr[-2000:]
    assert "Traceback" not in server_log, server_log[-4000:]
