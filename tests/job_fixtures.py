"""Waiting for a background job in tests: poll its row until it reaches one of the statuses asked for."""

from __future__ import annotations

import time

from services.common.db import Database
from services.common.jobs import Job, get_job


def wait_for_job(
    db: Database, job_id: str, statuses: tuple[str, ...], timeout: float = 10.0, poll: float = 0.02
) -> Job:
    """The job once its status is one of ``statuses``; AssertionError (with its status) after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = get_job(db, job_id)
        if job.status in statuses:
            return job
        time.sleep(poll)
    job = get_job(db, job_id)
    raise AssertionError(f"job {job_id} is still {job.status} after {timeout} s: {job.message}")
