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

from sqlalchemy import JSON, Float, Integer, String, Text, select, update
from sqlalchemy.orm import Mapped, mapped_column

from services.common.config import Settings
from services.common.db import Base, Database, utcnow
from services.common.errors import KaiError, NotFound

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
    """Raised inside a handler when its job was cancelled; the runner marks the job cancelled."""


class JobInterrupted(Exception):
    """Raised inside a handler when the runner shuts down; the job goes back to the queue."""


@dataclass
class JobContext:
    """What a handler gets besides its payload: where to report progress and whether to stop."""

    job_id: str
    db: Database
    settings: Settings
    stopping: threading.Event

    def report(self, percent: float, message: str = "") -> None:
        """Store progress; raise if the job was cancelled or the runner is stopping."""
        if self.stopping.is_set():
            raise JobInterrupted(self.job_id)
        with self.db.session() as session:
            changed = session.execute(
                update(Job)
                .where(Job.id == self.job_id, Job.status == JobStatus.RUNNING)
                .values(progress=max(0.0, min(100.0, percent)), message=message)
            ).rowcount
        if not changed:
            raise JobCancelled(self.job_id)


JobHandler = Callable[[JobContext, dict[str, Any]], dict[str, Any] | None]


class JobRunner(Protocol):
    """How services hand work off. Implementations: ``InProcessJobRunner`` (default), a Redis one later."""

    def submit(self, kind: str, payload: dict[str, Any], user: str | None = None) -> Job: ...

    def cancel(self, job_id: str) -> Job: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...


def get_job(db: Database, job_id: str) -> Job:
    with db.session() as session:
        job = session.get(Job, job_id)
        if job is None:
            raise NotFound(f"Job {job_id} findes ikke.")
        return job


def cancel_job(db: Database, job_id: str) -> Job:
    """Mark a queued or running job cancelled; a running handler notices at its next progress report."""
    with db.session() as session:
        job = session.get(Job, job_id)
        if job is None:
            raise NotFound(f"Job {job_id} findes ikke.")
        if job.status not in FINISHED:
            job.status = JobStatus.CANCELLED
            job.message = "Annulleret"
            job.finished_at = utcnow()
        return job


def delete_jobs(db: Database, job_ids: list[str]) -> None:
    with db.session() as session:
        for job in session.scalars(select(Job).where(Job.id.in_(job_ids))):
            session.delete(job)


class InProcessJobRunner:
    """Runs jobs on a thread pool inside the API (or CLI) process.

    At start it requeues jobs left ``running`` by a process that died and runs everything still queued, so no
    accepted upload is lost to a crash or restart.
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
        with self.db.session() as session:
            session.execute(
                update(Job)
                .where(Job.status == JobStatus.RUNNING)
                .values(status=JobStatus.QUEUED, message="Genoptaget efter genstart")
            )
            pending = list(
                session.scalars(select(Job.id).where(Job.status == JobStatus.QUEUED).order_by(Job.created_at))
            )
        for job_id in pending:
            self._pool.submit(self._run, job_id)

    def submit(self, kind: str, payload: dict[str, Any], user: str | None = None) -> Job:
        if kind not in self.handlers:
            raise KaiError(f"Ukendt jobtype: {kind}")
        with self.db.session() as session:
            job = Job(kind=kind, payload=payload, user=user, status=JobStatus.QUEUED, message="I kø")
            session.add(job)
        self._pool.submit(self._run, job.id)
        return job

    def cancel(self, job_id: str) -> Job:
        return cancel_job(self.db, job_id)

    def stop(self) -> None:
        self._stopping.set()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _claim(self, job_id: str) -> Job | None:
        """Move a queued job to running; None when it was cancelled or taken meanwhile."""
        with self.db.session() as session:
            claimed = session.execute(
                update(Job)
                .where(Job.id == job_id, Job.status == JobStatus.QUEUED)
                .values(
                    status=JobStatus.RUNNING, started_at=utcnow(), attempts=Job.attempts + 1, progress=0.0
                )
            ).rowcount
            return session.get(Job, job_id) if claimed else None

    def _finish(self, job_id: str, **values: Any) -> None:
        with self.db.session() as session:
            session.execute(
                update(Job)
                .where(Job.id == job_id, Job.status == JobStatus.RUNNING)
                .values(finished_at=utcnow(), **values)
            )

    def _run(self, job_id: str) -> None:
        if self._stopping.is_set():
            return
        job = self._claim(job_id)
        if job is None:
            return
        context = JobContext(job_id, self.db, self.settings, self._stopping)
        try:
            result = self.handlers[job.kind](context, job.payload)
        except JobCancelled:
            log.info("Job %s cancelled", job_id)
        except JobInterrupted:
            with self.db.session() as session:
                session.execute(
                    update(Job)
                    .where(Job.id == job_id, Job.status == JobStatus.RUNNING)
                    .values(status=JobStatus.QUEUED, message="Afbrudt; genoptages ved næste start")
                )
        except KaiError as exc:
            self._finish(job_id, status=JobStatus.FAILED, error=exc.message, message=exc.message)
        except Exception as exc:  # a bug or a broken model: keep the job's reason, log the trace
            log.error("Job %s failed:\n%s", job_id, traceback.format_exc())
            reason = f"Intern fejl under behandlingen ({type(exc).__name__})."
            self._finish(job_id, status=JobStatus.FAILED, error=reason, message=reason)
        else:
            self._finish(job_id, status=JobStatus.DONE, progress=100.0, message="Færdig", result=result)
