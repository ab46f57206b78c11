"""The /metrics exposition: this process's HTTP metrics (or every worker's, in multiprocess mode), and the
job and service figures read from the shared database (and Redis) when /metrics is scraped, so they are
right whichever process or machine did the work. Services add their figures through ``MetricsCollector``s.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric, SummaryMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from redis.exceptions import RedisError
from sqlalchemy import ColumnElement, Row, extract, func, select
from sqlalchemy.exc import SQLAlchemyError

from services.common.config import Settings
from services.common.db import Database
from services.common.jobs import FINISHED, Job, JobStatus
from services.common.plugin import MetricsCollector
from services.common.queue import job_queue, redis_connection

log = logging.getLogger(__name__)


def _job_seconds(dialect: str) -> ColumnElement[float]:
    """A finished job's run time in seconds, in the database's own date arithmetic."""
    if dialect == "sqlite":
        return (func.julianday(Job.finished_at) - func.julianday(Job.started_at)) * 86400.0
    return extract("epoch", Job.finished_at - Job.started_at)


class StoredWorkCollector:
    """Jobs and job durations aggregated in SQL at scrape time, each service's figures from its collectors
    (all in one session), and the RQ queue's length when jobs go through Redis."""

    def __init__(self, db: Database, settings: Settings, collectors: Sequence[MetricsCollector] = ()) -> None:
        self.db = db
        self.settings = settings
        self.collectors = collectors

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("kai_database_up", "1 when the database answered the metrics queries.")
        try:
            jobs, durations, services = self._aggregates()
        except SQLAlchemyError as exc:
            log.warning("Metrics: the database did not answer (%s)", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up

        by_status = GaugeMetricFamily(
            "kai_jobs", "Jobs in the database by kind and status.", labels=["kind", "status"]
        )
        for kind, status, count in jobs:
            by_status.add_metric([kind, status], count)
        yield by_status

        waiting = GaugeMetricFamily(
            "kai_job_queue_length", "Jobs waiting to run, by where they wait.", labels=["backend"]
        )
        waiting.add_metric(
            ["database"], sum(count for _, status, count in jobs if status == JobStatus.QUEUED)
        )
        if self.settings.redis_url and (in_redis := self._redis_queue_length()) is not None:
            waiting.add_metric(["redis"], in_redis)
        yield waiting

        duration = SummaryMetricFamily(
            "kai_job_duration_seconds",
            "Run time of finished jobs (started to finished), by kind and final status.",
            labels=["kind", "status"],
        )
        for kind, status, count, total in durations:
            duration.add_metric([kind, status], count_value=count, sum_value=float(total))
        yield duration
        yield from services

    def _aggregates(self) -> tuple[list[Row[Any]], list[Row[Any]], list[Metric]]:
        seconds = _job_seconds(self.db.engine.dialect.name)
        with self.db.session() as session:
            jobs = session.execute(select(Job.kind, Job.status, func.count()).group_by(Job.kind, Job.status))
            durations = session.execute(
                select(Job.kind, Job.status, func.count(), func.coalesce(func.sum(seconds), 0.0))
                .where(Job.status.in_(FINISHED), Job.started_at.is_not(None), Job.finished_at.is_not(None))
                .group_by(Job.kind, Job.status)
            )
            jobs_rows, duration_rows = list(jobs), list(durations)
            services = [metric for collect in self.collectors for metric in collect(session)]
            return jobs_rows, duration_rows, services

    def _redis_queue_length(self) -> int | None:
        try:
            with redis_connection(self.settings) as connection:
                return job_queue(self.settings, connection).count
        except RedisError as exc:
            log.warning("Metrics: Redis did not answer (%s)", type(exc).__name__)
            return None


def metrics_exposition(
    db: Database, settings: Settings, collectors: Sequence[MetricsCollector] = ()
) -> tuple[bytes, str]:
    """The /metrics body and its content type; ``collectors``: the services' (``ServicePlugin.metrics``)."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)  # every uvicorn worker's counts, added up
    else:
        registry.register(REGISTRY)  # this process's HTTP metrics and process/platform figures
    registry.register(StoredWorkCollector(db, settings, collectors))
    return generate_latest(registry), CONTENT_TYPE_LATEST
