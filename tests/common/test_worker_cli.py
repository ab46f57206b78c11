"""`kai serve --workers` and `kai worker` refuse configurations that cannot work, in one line."""

from __future__ import annotations

from kai_cli import run_kai
from servers import free_port
from services.common.config import Settings


def test_several_api_workers_need_redis(settings: Settings) -> None:
    # Each API process would run its own in-process job runner and take the others' jobs.
    result = run_kai(settings, "serve", "--workers", "2", "--port", str(free_port()))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "Fejl: --workers > 1 kræver KAI_REDIS_URL, så jobs kører i 'kai worker'."
    ]


def test_worker_needs_redis(settings: Settings) -> None:
    result = run_kai(settings, "worker", "--burst")
    assert result.returncode == 1
    assert "KAI_REDIS_URL" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_worker_says_when_redis_does_not_answer(settings: Settings) -> None:
    closed = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"})
    result = run_kai(closed, "worker", "--burst")
    assert result.returncode == 1
    assert "Redis (KAI_REDIS_URL) svarer ikke" in result.stderr
    assert "Traceback" not in result.stderr
