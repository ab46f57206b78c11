"""Minutes jobs through a real Redis to real ``kai worker`` processes: one, two competing, one killed."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import StartWorker
from fastapi.testclient import TestClient
from job_fixtures import wait_for_job
from rq.job import Job as QueuedJob
from sqlalchemy import select

from services.app import create_app
from services.common.config import Settings, shared_data_dir
from services.common.db import Database
from services.common.jobs import JobStatus, get_job
from services.common.ledger import UsageEvent
from services.common.queue import kai_worker, redis_connection
from services.minutes import store

JFK = shared_data_dir() / "audio_en" / "jfk.flac"
JOB_TIMEOUT_S = 240.0


@pytest.fixture
def api(queued_settings: Settings, api_headers: dict[str, str]) -> Iterator[TestClient]:
    """The API with KAI_REDIS_URL set: it only enqueues; nothing runs jobs in its process."""
    with TestClient(create_app(queued_settings), headers=api_headers) as client:
        yield client


def _upload(api: TestClient) -> str:
    with JFK.open("rb") as audio:
        response = api.post(
            "/api/minutes/meetings",
            files={"file": ("jfk.flac", audio, "audio/flac")},
            data={"language": "en", "speakers": "1"},
        )
    assert response.status_code == 202, response.text
    return response.json()["id"]


def _job_id(db: Database, meeting_id: str) -> str:
    with db.session() as session:
        job_id = store.get_meeting(session, meeting_id).job_id
    assert job_id
    return job_id


def _transcriptions(db: Database, meeting_id: str) -> list[UsageEvent]:
    with db.session() as session:
        return list(
            session.scalars(
                select(UsageEvent).where(UsageEvent.reference == meeting_id, UsageEvent.task == "transcribe")
            )
        )


def _transcript_text(db: Database, meeting_id: str) -> str:
    with db.session() as session:
        transcript = store.get_meeting(session, meeting_id).transcript or {}
    return " ".join(segment["text"] for segment in transcript.get("segments", []))


def _children(pid: int) -> list[int]:
    """The direct child processes of ``pid`` (Linux /proc)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


def test_api_only_enqueues_and_a_separate_worker_transcribes(
    api: TestClient, db: Database, queued_settings: Settings, start_worker: StartWorker
) -> None:
    meeting_id = _upload(api)
    job_id = _job_id(db, meeting_id)
    time.sleep(1.0)
    assert get_job(db, job_id).status == JobStatus.QUEUED  # no worker yet: the API process runs nothing
    assert redis_connection(queued_settings).llen(f"rq:queue:{queued_settings.job_queue}") == 1

    worker = start_worker("worker-a", "--burst")
    assert worker.wait(timeout=JOB_TIMEOUT_S) == 0
    job = get_job(db, job_id)
    assert job.status == JobStatus.DONE and job.progress == 100.0 and job.attempts == 1
    assert "country" in _transcript_text(db, meeting_id).lower()
    assert len(_transcriptions(db, meeting_id)) == 1
    # Progress and results are read through the API exactly as with the in-process runner.
    body = api.get(f"/api/minutes/meetings/{meeting_id}").json()
    assert body["job"]["status"] == "done"
    assert api.get(f"/api/minutes/meetings/{meeting_id}/result").status_code == 200


def test_two_workers_share_the_queue_and_each_job_runs_once(
    api: TestClient, db: Database, queued_settings: Settings, start_worker: StartWorker
) -> None:
    meeting_ids = [_upload(api) for _ in range(4)]
    workers = [start_worker(name, "--burst") for name in ("worker-a", "worker-b")]
    assert [worker.wait(timeout=JOB_TIMEOUT_S) for worker in workers] == [0, 0]

    connection = redis_connection(queued_settings)
    ran_on = set()
    for meeting_id in meeting_ids:
        job = get_job(db, _job_id(db, meeting_id))
        assert job.status == JobStatus.DONE and job.attempts == 1
        assert len(_transcriptions(db, meeting_id)) == 1
        ran_on.add(QueuedJob.fetch(job.id, connection=connection).worker_name)
    assert ran_on == {"worker-a", "worker-b"}


def test_cancelled_job_is_skipped_by_the_worker(
    api: TestClient, db: Database, start_worker: StartWorker
) -> None:
    meeting_id = _upload(api)
    job_id = _job_id(db, meeting_id)
    assert api.post(f"/api/minutes/meetings/{meeting_id}/cancel").json()["status"] == "cancelled"
    later = _upload(api)
    assert start_worker("worker-a", "--burst").wait(timeout=JOB_TIMEOUT_S) == 0
    assert get_job(db, job_id).status == JobStatus.CANCELLED and get_job(db, job_id).attempts == 0
    assert _transcriptions(db, meeting_id) == []
    assert get_job(db, _job_id(db, later)).status == JobStatus.DONE


def test_killed_worker_job_is_retried_elsewhere_and_counted_once(
    api: TestClient, db: Database, start_worker: StartWorker
) -> None:
    meeting_id = _upload(api)
    job_id = _job_id(db, meeting_id)
    doomed = start_worker("worker-doomed")
    wait_for_job(db, job_id, (JobStatus.RUNNING,), timeout=60, poll=0.2)
    # The worker and the work-horse it forked for the job (RQ gives the horse its own session), as a power cut
    # would: nothing gets to clean up.
    for pid in (*_children(doomed.pid), doomed.pid):
        os.kill(pid, signal.SIGKILL)
    doomed.wait(timeout=30)
    interrupted = get_job(db, job_id)
    assert interrupted.status == JobStatus.RUNNING and interrupted.attempts == 1

    rescuer = start_worker("worker-rescuer")
    # Presumed dead after heartbeat (1 s) + 60 s, then retried by the rescuer's maintenance.
    done = wait_for_job(db, job_id, (JobStatus.DONE, JobStatus.FAILED), timeout=JOB_TIMEOUT_S, poll=0.2)
    assert done.status == JobStatus.DONE, done.message
    assert done.attempts == 2
    assert len(_transcriptions(db, meeting_id)) == 1
    assert "country" in _transcript_text(db, meeting_id).lower()
    rescuer.send_signal(signal.SIGTERM)
    try:
        rescuer.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(rescuer.pid, signal.SIGKILL)


def test_burst_worker_on_an_empty_queue_exits_cleanly(start_worker: StartWorker) -> None:
    assert start_worker("worker-idle", "--burst").wait(timeout=60) == 0


def test_worker_shutdown_does_not_wait_a_minute_for_its_command_listener(queued_settings: Settings) -> None:
    """The race that made ``kai worker --burst`` on an empty queue take 70 s now and then, made certain: the
    command listener (RQ's pubsub thread) has read the unsubscribe reply before the worker's teardown stops
    it, so redis-py waits for a new subscription until its wait runs out, and the teardown's join with it."""
    connection = redis_connection(queued_settings)
    worker = kai_worker(queued_settings, connection, "worker-teardown")
    worker.subscribe()
    assert worker.pubsub is not None
    worker.pubsub.unsubscribe()
    deadline = time.monotonic() + 10
    while worker.pubsub.subscribed and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not worker.pubsub.subscribed
    time.sleep(0.2)  # the listener is waiting for a subscription again
    started = time.monotonic()
    worker.unsubscribe()
    assert time.monotonic() - started < 5
    connection.close()


def test_a_failing_job_reports_its_failure_through_the_api(
    api: TestClient, db: Database, queued_settings: Settings, start_worker: StartWorker
) -> None:
    meeting_id = _upload(api)
    # The shared volume lost the recording before a worker got to it.
    for stored in (queued_settings.resolved_storage_dir / "minutes" / meeting_id).glob("recording.*"):
        stored.unlink()
    assert start_worker("worker-a", "--burst").wait(timeout=JOB_TIMEOUT_S) == 0
    job = api.get(f"/api/minutes/meetings/{meeting_id}").json()["job"]
    assert job["status"] == "failed"
    assert job["error"].startswith("Intern fejl under behandlingen")
    assert _transcriptions(db, meeting_id) == []
