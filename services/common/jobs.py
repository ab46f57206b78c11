"""Persisted jobs for long work (transcription), and the runner interface that executes them.

A job row is the single source of truth for status and progress, so any process can report on any job, and a
replacement runner (a Redis-backed worker pool) only has to implement ``JobRunner`` — services never see which
runner they get. The in-process runner here is the embedded default.
"""

from __future__ import annotations

import logging
import threading
import traceback
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import JSON, ColumnElement, Float, Integer, String, Text, and_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from services.common.config import Settings
from services.common.db import Base, Database, utcnow
from services.common.errors import KaiError, get_or_not_found

log = logging.getLogger(__name__)


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINISHED = (JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED)


class Job(Base):
    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: uuid.uuid4().hex)
    kind: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.QUEUED, index=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)  # percent, 0..100
    message: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    user: Mapped[str | None] = mapped_column(String(128), nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True)


class JobCancelled(Exception):
    """Raised inside a handler when its job was cancelled, or taken over by a newer attempt on another worker.

    Either way this attempt must stop without writing anything more; the runner leaves the job row alone.
    """


class JobInterrupted(Exception):
    """Raised inside a handler when the runner shuts down; the job goes back to the queue."""


@dataclass
class JobContext:
    """What a handler gets besides its payload: where to report progress, whether to stop, how to finish.

    ``attempt`` is the job's attempt counter when this run claimed it: every write is conditional on it, so a
    run that lost its job (to a cancel, or to a retry after its worker was presumed dead) cannot overwrite the
    newer attempt's state or finish the job a second time.
    """

    job_id: str
    attempt: int
    db: Database
    settings: Settings
    stopping: threading.Event

    def _owned(self) -> ColumnElement[bool]:
        return and_(Job.id == self.job_id, Job.status == JobStatus.RUNNING, Job.attempts == self.attempt)

    def report(self, percent: float, message: str = "") -> None:
        """Store progress; raise if the job was cancelled or taken over, or the runner is stopping."""
        if self.stopping.is_set():
            raise JobInterrupted(self.job_id)
        with self.db.session() as session:
            changed = session.execute(
                update(Job)
                .where(self._owned())
                .values(progress=max(0.0, min(100.0, percent)), message=message)
            ).rowcount
        if not changed:
            raise JobCancelled(self.job_id)

    def requeue(self) -> None:
        """Put the job back in the queue (the runner is shutting down), unless it is no longer ours."""
        with self.db.session() as session:
            session.execute(
                update(Job)
                .where(self._owned())
                .values(status=JobStatus.QUEUED, message="Afbrudt; genoptages ved næste start")
            )

    def finish(
        self, session: Session, result: dict[str, Any] | None = None, error: str | None = None
    ) -> None:
        """Mark the job done (or failed, with ``error``) inside the handler's own transaction.

        A handler that stores results and a ledger row calls this in the same session, so results, ledger
        row and job status commit together or not at all: a worker killed before the commit leaves nothing
        behind, and the retry records the single row. Raises ``JobCancelled`` (rolling the session back) if
        the job is no longer this attempt's.
        """
        values: dict[str, Any] = {"finished_at": utcnow()}
        if error is None:
            values |= {"status": JobStatus.DONE, "progress": 100.0, "message": "Færdig", "result": result}
        else:
            values |= {"status": JobStatus.FAILED, "error": error, "message": error}
        if not session.execute(update(Job).where(self._owned()).values(**values)).rowcount:
            raise JobCancelled(self.job_id)


JobHandler = Callable[[JobContext, dict[str, Any]], dict[str, Any] | None]


class JobRunner(Protocol):
    """How services hand work off: ``InProcessJobRunner`` (default) or ``queue.RedisJobRunner``."""

    def submit(self, kind: str, payload: dict[str, Any], user: str | None = None) -> Job: ...

    def cancel(self, job_id: str) -> Job: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...


def create_job(
    db: Database, handlers: dict[str, JobHandler], kind: str, payload: dict[str, Any], user: str | None
) -> Job:
    """The queued job row every runner starts from."""
    if kind not in handlers:
        raise KaiError(f"Ukendt jobtype: {kind}")
    with db.session() as session:
        job = Job(kind=kind, payload=payload, user=user, status=JobStatus.QUEUED, message="I kø")
        session.add(job)
    return job


def get_job(db: Database, job_id: str) -> Job:
    with db.session() as session:
        return get_or_not_found(session, Job, job_id, f"Job {job_id} findes ikke.")


def cancel_job(db: Database, job_id: str) -> Job:
    """Mark a queued or running job cancelled; a running handler notices at its next progress report."""
    with db.session() as session:
        job = get_or_not_found(session, Job, job_id, f"Job {job_id} findes ikke.")
        if job.status not in FINISHED:
            job.status = JobStatus.CANCELLED
            job.message = "Annulleret"
            job.finished_at = utcnow()
        return job


def delete_jobs(db: Database, job_ids: list[str]) -> None:
    with db.session() as session:
        for job in session.scalars(select(Job).where(Job.id.in_(job_ids))):
            session.delete(job)


def _claim(db: Database, job_id: str, claimable: tuple[JobStatus, ...]) -> Job | None:
    """Move a claimable job to running as a new attempt; None when it was cancelled or finished meanwhile."""
    with db.session() as session:
        claimed = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status.in_(claimable))
            .values(status=JobStatus.RUNNING, started_at=utcnow(), attempts=Job.attempts + 1, progress=0.0)
        ).rowcount
        return session.get(Job, job_id) if claimed else None


def execute_job(
    db: Database,
    settings: Settings,
    handlers: dict[str, JobHandler],
    job_id: str,
    stopping: threading.Event,
    claimable: tuple[JobStatus, ...] = (JobStatus.QUEUED,),
) -> JobStatus | None:
    """Claim a job, run its handler and record the outcome; the status it ended in (None: not claimed).

    Every runner executes jobs through here, so progress, cancellation and failure reporting are the same
    whichever runner a deployment uses. ``claimable`` lets a queue worker take over a job left ``running`` by
    a worker that died (the queue redelivers a job only after its worker is presumed dead).
    """
    job = _claim(db, job_id, claimable)
    if job is None:
        return None
    context = JobContext(job_id, job.attempts, db, settings, stopping)
    try:
        result = handlers[job.kind](context, job.payload)
    except JobCancelled:
        log.info("Job cancelled or taken over", extra={"job_id": job_id})
        return JobStatus.CANCELLED
    except JobInterrupted:
        context.requeue()
        return JobStatus.QUEUED
    except KaiError as exc:
        return _finish_unless_finished(context, error=exc.message)
    except Exception as exc:  # a bug or a broken model: keep the job's reason, log the trace
        log.error("Job failed:\n%s", traceback.format_exc(), extra={"job_id": job_id})
        return _finish_unless_finished(
            context, error=f"Intern fejl under behandlingen ({type(exc).__name__})."
        )
    return _finish_unless_finished(context, result=result)


def _finish_unless_finished(
    context: JobContext, result: dict[str, Any] | None = None, error: str | None = None
) -> JobStatus:
    """Finish the job unless its handler already did (``JobContext.finish``) or it was taken from us."""
    try:
        with context.db.session() as session:
            context.finish(session, result=result, error=error)
    except JobCancelled:
        return get_job(context.db, context.job_id).status  # type: ignore[return-value]
    return JobStatus.FAILED if error is not None else JobStatus.DONE


class InProcessJobRunner:
    """Runs jobs on a thread pool inside the API (or CLI) process.

    At start it requeues jobs left ``running`` by a process that died and runs everything still queued, so no
    accepted upload is lost to a crash or restart. A job that may itself have killed the process is resumed
    ``job_retries`` times, then failed, so it cannot take the API down at every start.
    """

    def __init__(
        self, db: Database, settings: Settings, handlers: dict[str, JobHandler], workers: int = 1
    ) -> None:
        self.db = db
        self.settings = settings
        self.handlers = handlers
        self._stopping = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="kai-job")

    def start(self) -> None:
        tries = self.settings.job_retries + 1
        gave_up = f"Opgivet efter {tries} forsøg: behandlingen stoppede uventet hver gang. Kontakt IT."
        with self.db.session() as session:
            orphaned = Job.status == JobStatus.RUNNING
            session.execute(
                update(Job)
                .where(orphaned, Job.attempts >= tries)
                .values(status=JobStatus.FAILED, error=gave_up, message=gave_up, finished_at=utcnow())
            )
            resumed = {"status": JobStatus.QUEUED, "message": "Genoptaget efter genstart"}
            session.execute(update(Job).where(orphaned).values(**resumed))
            pending = list(
                session.scalars(select(Job.id).where(Job.status == JobStatus.QUEUED).order_by(Job.created_at))
            )
        for job_id in pending:
            self._pool.submit(self._run, job_id)

    def submit(self, kind: str, payload: dict[str, Any], user: str | None = None) -> Job:
        job = create_job(self.db, self.handlers, kind, payload, user)
        self._pool.submit(self._run, job.id)
        return job

    def cancel(self, job_id: str) -> Job:
        return cancel_job(self.db, job_id)

    def stop(self) -> None:
        self._stopping.set()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _run(self, job_id: str) -> None:
        if not self._stopping.is_set():
            execute_job(self.db, self.settings, self.handlers, job_id, self._stopping)
