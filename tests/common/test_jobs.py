import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from job_fixtures import wait_for_job
from sqlalchemy import update

from services.common.config import Settings
from services.common.db import Database
from services.common.errors import InvalidInput
from services.common.jobs import (
    InProcessJobRunner,
    Job,
    JobCancelled,
    JobContext,
    JobStatus,
    create_job,
    execute_job,
    get_job,
)


def test_job_runs_reports_progress_and_stores_result(db: Database, settings: Settings) -> None:
    seen: list[float] = []

    def handler(context: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
        for step in (25, 50, 75):
            context.report(step, f"trin {step}")
            seen.append(get_job(db, context.job_id).progress)
        return {"double": payload["n"] * 2}

    runner = InProcessJobRunner(db, settings, {"double": handler})
    runner.start()
    job = runner.submit("double", {"n": 21})
    done = wait_for_job(db, job.id, (JobStatus.DONE,))
    runner.stop()
    assert done.result == {"double": 42}
    assert done.progress == 100.0
    assert seen == [25, 50, 75]
    assert done.attempts == 1


def test_failed_job_says_why(db: Database, settings: Settings) -> None:
    def handler(context: JobContext, payload: dict[str, Any]) -> None:
        raise InvalidInput("Optagelsen indeholder kun stilhed.")

    runner = InProcessJobRunner(db, settings, {"bad": handler})
    runner.start()
    job = runner.submit("bad", {})
    failed = wait_for_job(db, job.id, (JobStatus.FAILED,))
    runner.stop()
    assert failed.error == "Optagelsen indeholder kun stilhed."


def test_cancel_stops_a_running_job(db: Database, settings: Settings) -> None:
    started = threading.Event()

    def handler(context: JobContext, payload: dict[str, Any]) -> None:
        started.set()
        for step in range(1000):
            context.report(step / 10)
            time.sleep(0.01)

    runner = InProcessJobRunner(db, settings, {"slow": handler})
    runner.start()
    job = runner.submit("slow", {})
    assert started.wait(5)
    runner.cancel(job.id)
    time.sleep(0.1)
    runner.stop()
    assert get_job(db, job.id).status == JobStatus.CANCELLED


def test_jobs_left_running_by_a_dead_process_are_resumed(db: Database, settings: Settings) -> None:
    # A process died while the job ran: its row says "running" and nobody is working on it.
    with db.session() as session:
        orphan = Job(kind="double", payload={"n": 5}, status=JobStatus.RUNNING, progress=40.0, attempts=1)
        queued = Job(kind="double", payload={"n": 7}, status=JobStatus.QUEUED)
        session.add_all([orphan, queued])

    runner = InProcessJobRunner(db, settings, {"double": lambda ctx, p: {"double": p["n"] * 2}})
    runner.start()
    resumed = wait_for_job(db, orphan.id, (JobStatus.DONE,))
    other = wait_for_job(db, queued.id, (JobStatus.DONE,))
    runner.stop()
    assert resumed.result == {"double": 10}
    assert resumed.attempts == 2
    assert other.result == {"double": 14}


def test_stopping_runner_puts_the_running_job_back_in_the_queue(db: Database, settings: Settings) -> None:
    started = threading.Event()

    def handler(context: JobContext, payload: dict[str, Any]) -> None:
        started.set()
        while True:
            context.report(10)
            time.sleep(0.01)

    runner = InProcessJobRunner(db, settings, {"endless": handler})
    runner.start()
    job = runner.submit("endless", {})
    assert started.wait(5)
    runner.stop()
    assert get_job(db, job.id).status == JobStatus.QUEUED


@pytest.mark.parametrize("kind", ["nope"])
def test_unknown_job_kind_is_refused(db: Database, settings: Settings, kind: str) -> None:
    runner = InProcessJobRunner(db, settings, {})
    with pytest.raises(Exception, match="Ukendt jobtype"):
        runner.submit(kind, {})


def test_concurrent_claims_run_a_job_once(db: Database, settings: Settings) -> None:
    # Several processes (API workers, queue workers) reaching for the same job: the database lets one win.
    runs: list[str] = []
    handlers = {"once": lambda ctx, p: runs.append(threading.current_thread().name) or {"ok": True}}
    job = create_job(db, handlers, "once", {}, None)
    barrier = threading.Barrier(4)

    def claim() -> JobStatus | None:
        own = Database(settings.resolved_database_url)  # its own engine and connections, as another process
        try:
            barrier.wait()
            return execute_job(own, settings, handlers, job.id, threading.Event())
        finally:
            own.dispose()

    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(lambda _: claim(), range(4)))
    assert outcomes.count(JobStatus.DONE) == 1 and outcomes.count(None) == 3
    assert len(runs) == 1
    assert get_job(db, job.id).attempts == 1


def test_a_superseded_attempt_cannot_finish_or_report(db: Database, settings: Settings) -> None:
    # A worker presumed dead comes back after its job was retried: its writes must not land.
    job = create_job(db, {"k": lambda ctx, p: None}, "k", {}, None)
    with db.session() as session:
        session.execute(update(Job).where(Job.id == job.id).values(status=JobStatus.RUNNING, attempts=2))
    stale = JobContext(job.id, 1, db, settings, threading.Event())
    with pytest.raises(JobCancelled):
        stale.report(50.0)
    with pytest.raises(JobCancelled), db.session() as session:
        stale.finish(session, {"from": "stale"})
    current = get_job(db, job.id)
    assert current.status == JobStatus.RUNNING and current.result is None and current.progress == 0.0


# A process whose only job kills it: it resumes (or fails) what the last one left, submitting the job first
# when asked to, and exits 0 once the job has failed instead of being run again.
CRASHING_PROCESS = """
import os, sys, time
from services.common.config import Settings
from services.common.db import open_database
from services.common.jobs import InProcessJobRunner, JobStatus, get_job

url, retries, job_id = sys.argv[1], int(sys.argv[2]), sys.argv[3]
db = open_database(url)
runner = InProcessJobRunner(db, Settings(job_retries=retries), {"crash": lambda ctx, p: os._exit(3)})
runner.start()
if job_id == "new":
    print(runner.submit("crash", {}).id, flush=True)
    time.sleep(30)
while get_job(db, job_id).status != JobStatus.FAILED:
    time.sleep(0.05)
runner.stop()
"""


def test_a_job_that_kills_its_process_fails_after_the_configured_retries(
    db: Database, settings: Settings
) -> None:
    retries = 2

    def start_process(job_id: str) -> subprocess.CompletedProcess[str]:
        url = settings.resolved_database_url
        command = [sys.executable, "-c", CRASHING_PROCESS, url, str(retries), job_id]
        return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)

    first = start_process("new")
    assert first.returncode == 3, first.stderr
    job_id = first.stdout.strip()
    for _ in range(retries):  # every restart resumes the job, and the job kills the process again
        assert start_process(job_id).returncode == 3
    last = start_process(job_id)
    assert last.returncode == 0, last.stderr
    job = get_job(db, job_id)
    assert job.status == JobStatus.FAILED and job.attempts == 1 + retries
    assert job.error is not None and "3 forsøg" in job.error
