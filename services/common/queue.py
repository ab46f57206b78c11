"""Jobs through Redis: the API puts job ids on an RQ queue; ``kai worker`` processes on any machine run them.

Why RQ: our handlers are plain synchronous, CPU- or GPU-bound Python functions, and RQ runs exactly
those, with no async rewrite (arq) and far fewer moving parts than Celery. Its forking worker heartbeats
while a job runs, so a killed worker is presumed dead after ``KAI_JOB_HEARTBEAT_SECONDS`` + 60 s and its
job is retried on another worker (``Retry``). The job row in the database stays the single source of
truth for status, progress and results; Redis only carries job ids. ``execute_job`` finishes a job in
the transaction that stores its results and ledger row, and only the newest attempt may finish it, so a
retried job is counted exactly once.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
from typing import Any

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Retry, Worker
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job as QueuedJob

from services.common.config import Settings, get_settings
from services.common.db import Database, open_database
from services.common.errors import KaiError
from services.common.jobs import (
    InProcessJobRunner,
    Job,
    JobHandler,
    JobRunner,
    JobStatus,
    cancel_job,
    create_job,
    execute_job,
)

log = logging.getLogger(__name__)


class QueueUnavailable(KaiError):
    status_code = 503


def redis_connection(settings: Settings) -> Redis:
    if not settings.redis_url:
        raise KaiError("KAI_REDIS_URL er ikke sat.")
    # Bounded timeouts: a missing or hanging Redis must give an error, not a hanging request (an RQ worker
    # raises the socket timeout above its own blocking wait).
    return Redis.from_url(
        settings.redis_url, socket_connect_timeout=5, socket_timeout=5, health_check_interval=30
    )


def job_queue(settings: Settings, connection: Redis) -> Queue:
    return Queue(settings.job_queue, connection=connection)


class RedisJobRunner:
    """Puts jobs on the RQ queue; ``kai worker`` processes (see ``run_worker``) execute them."""

    def __init__(self, db: Database, settings: Settings, handlers: dict[str, JobHandler]) -> None:
        self.db = db
        self.settings = settings
        self.handlers = handlers
        self.connection = redis_connection(settings)
        self.queue = job_queue(settings, self.connection)

    def start(self) -> None:
        """Nothing to recover here: jobs of dead workers are retried by the other workers' maintenance."""

    def submit(self, kind: str, payload: dict[str, Any], user: str | None = None) -> Job:
        job = create_job(self.db, self.handlers, kind, payload, user)
        try:
            self.queue.enqueue(
                perform_job,
                job.id,
                job_id=job.id,
                retry=Retry(max=self.settings.job_retries) if self.settings.job_retries else None,
                job_timeout=self.settings.job_timeout_seconds,
                description=f"kai {kind} {job.id}",
            )
        except RedisError as exc:
            reason = "Jobkøen (Redis) svarer ikke; prøv igen om lidt."
            with self.db.session() as session:
                stored = session.get(Job, job.id)
                if stored is not None:
                    stored.status, stored.error, stored.message = JobStatus.FAILED, reason, reason
            raise QueueUnavailable(reason) from exc
        return job

    def cancel(self, job_id: str) -> Job:
        job = cancel_job(self.db, job_id)
        # A running job notices the cancel at its next progress report; a queued one leaves the queue now.
        with contextlib.suppress(NoSuchJobError, InvalidJobOperation, RedisError):
            QueuedJob.fetch(job_id, connection=self.connection).cancel()
        return job

    def stop(self) -> None:
        self.connection.close()


def create_job_runner(db: Database, settings: Settings, handlers: dict[str, JobHandler]) -> JobRunner:
    """The Redis runner when ``KAI_REDIS_URL`` is set, else the embedded in-process runner."""
    if settings.redis_url:
        return RedisJobRunner(db, settings, handlers)
    return InProcessJobRunner(db, settings, handlers, workers=settings.job_workers)


# The job handlers of this worker process, set by ``run_worker`` before RQ forks a work-horse per job (the
# horse inherits them). The composition root supplies them (``services/registry.py: job_handlers``).
_worker_handlers: dict[str, JobHandler] | None = None


def perform_job(job_id: str) -> str | None:
    """What an RQ work-horse runs: one kai job, configured from the worker's environment (``KAI_*``).

    The horse is a fresh process per job, so it opens its own database connection; ``running`` is claimable
    because RQ hands a job to a second worker only after the first one was presumed dead.
    """
    if _worker_handlers is None:
        raise RuntimeError("perform_job runs in a kai worker only (run_worker sets the job handlers).")
    settings = get_settings()
    db = open_database(settings.resolved_database_url)
    try:
        status = execute_job(
            db,
            settings,
            _worker_handlers,
            job_id,
            threading.Event(),
            claimable=(JobStatus.QUEUED, JobStatus.RUNNING),
        )
    finally:
        db.dispose()
    return status.value if status else None


def run_worker(
    settings: Settings, handlers: dict[str, JobHandler], burst: bool = False, name: str | None = None
) -> None:
    """Work on the queue until stopped (or, with ``burst``, until it is empty), running jobs with
    ``handlers``. A job's failure is recorded on its job row, not in the worker's exit status."""
    global _worker_handlers
    # The handlers' modules (and their heavy libraries) are imported once, here in the parent: every forked
    # work-horse starts with them.
    _worker_handlers = handlers

    connection = redis_connection(settings)
    try:
        connection.ping()
    except RedisError as exc:
        raise QueueUnavailable(f"Redis (KAI_REDIS_URL) svarer ikke: {exc}") from exc
    worker = kai_worker(settings, connection, name or f"kai-{socket.gethostname()}-{os.getpid()}")
    worker.work(burst=burst, with_scheduler=False, logging_level=settings.log_level)


# How long the worker's command listener (RQ's pubsub thread) waits for a message before it looks again
# whether the worker stops: the longest a worker's shutdown waits for it.
PUBSUB_WAIT_SECONDS = 1.0


class KaiWorker(Worker):
    """RQ's worker, with a command listener that stops within ``PUBSUB_WAIT_SECONDS``.

    RQ (3.0) runs it with a 60 s wait and, at shutdown, unsubscribes and then joins it. When the thread has
    read the unsubscribe reply before the stop flag is set, redis-py's ``get_message`` waits the whole 60 s
    for a new subscription, and the join with it: ``kai worker --burst`` on an empty queue sometimes took
    70 s. Upstream's workaround (rq#2170, frappe#28957) is a shorter wait; the thread then wakes once a
    second, which costs nothing measurable."""

    def subscribe(self) -> None:
        self.log.info("Worker %s: subscribing to channel %s", self.name, self.pubsub_channel_name)
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(
            sleep_time=PUBSUB_WAIT_SECONDS, daemon=True, exception_handler=self._pubsub_exception_handler
        )


def kai_worker(settings: Settings, connection: Redis, name: str) -> KaiWorker:
    """An RQ worker on kai's queue, with kai's heartbeat and maintenance intervals."""
    heartbeat = settings.job_heartbeat_seconds
    return KaiWorker(
        [job_queue(settings, connection)],
        connection=connection,
        name=name,
        job_monitoring_interval=heartbeat,
        # Idle workers wake every heartbeat + a little to look for jobs of dead workers.
        worker_ttl=2 * heartbeat + 15,
        maintenance_interval=heartbeat,
        log_job_description=False,
    )
