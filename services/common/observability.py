"""Operations: structured logs with request ids, Prometheus metrics, and the readiness checks behind /readyz.

Logs never carry request bodies, query strings or raw paths (they may hold questions, document text or ids):
the access line names the route template. CPR numbers that slip into a message are masked by privacy's filter
on every handler, and in tracebacks by the formatters here.

HTTP metrics are counted in the process that answered; with several uvicorn workers, prometheus_client's
multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``) adds them up. Job and mail figures are read from the shared
database (and Redis) when /metrics is scraped, so they are right whichever process or machine did the work.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric, SummaryMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from redis.exceptions import RedisError
from sqlalchemy import ColumnElement, Row, extract, func, select, text
from sqlalchemy.exc import SQLAlchemyError
from starlette.datastructures import MutableHeaders
from starlette.routing import Match, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from models.registry import configured_whisper_dir
from services.chatbot import store as chat_store
from services.chatbot.index import has_complete_index
from services.common.config import Settings
from services.common.db import Database
from services.common.jobs import FINISHED, Job, JobStatus
from services.common.privacy import install_log_masking, mask_cpr
from services.common.queue import job_queue, redis_connection
from services.mailsort import store as mail_store

log = logging.getLogger(__name__)
access_log = logging.getLogger("kai.access")

# --- logging ---------------------------------------------------------------------------------------------

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
request_id_var: ContextVar[str | None] = ContextVar("kai_request_id", default=None)

# The only ``extra`` fields that reach a JSON line: a stray ``extra={"text": ...}`` cannot leak document text.
_EXTRA_FIELDS = ("job_id", "method", "route", "status", "duration_ms")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"


class RequestIdFilter(logging.Filter):
    """Stamps each record with the id of the request it was written in ('-' outside requests)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get() or "-"
        return True


class MaskedTextFormatter(logging.Formatter):
    """The standard formatter, with CPR numbers masked in tracebacks too (the filter only sees messages)."""

    def formatException(self, ei: Any) -> str:
        return mask_cpr(super().formatException(ei))


class JsonFormatter(MaskedTextFormatter):
    """One JSON object per line: timestamp, level, logger, message, and request_id / job_id when known."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or request_id_var.get()
        if request_id and request_id != "-":
            entry["request_id"] = request_id
        for field in _EXTRA_FIELDS:
            if (value := getattr(record, field, None)) is not None:
                entry[field] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class _KaiLogHandler(logging.StreamHandler[TextIO]):
    """kai's handler on the root logger. It writes to whatever ``sys.stderr`` is at the time (test runners and
    reloaders replace it), and is recognised by a later ``configure_logging``, which replaces it."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _: TextIO) -> None:
        pass


def _replaceable(handler: logging.Handler) -> bool:
    # Ours from an earlier call, or the plain one logging.basicConfig installs (the CLI does before commands).
    return isinstance(handler, _KaiLogHandler) or type(handler) is logging.StreamHandler


def configure_logging(settings: Settings) -> None:
    """Send every record (kai's, uvicorn's, the libraries') to stderr through one handler: JSON lines or text,
    with the request id and CPR numbers masked. Called at app start-up and meant for every long-running
    process (``kai worker``); a second call replaces the first."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if _replaceable(h)]:
        root.removeHandler(old)
    handler = _KaiLogHandler()
    handler.setFormatter(
        JsonFormatter() if settings.log_format == "json" else MaskedTextFormatter(TEXT_FORMAT)
    )
    handler.addFilter(RequestIdFilter())
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
    # uvicorn's access line holds the raw path and query string; kai writes its own (see RequestContext).
    logging.getLogger("uvicorn.access").disabled = True
    install_log_masking()


# --- request ids, access log, HTTP metrics -----------------------------------------------------------------

HTTP_REQUESTS = Counter(
    "kai_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "kai_http_request_duration_seconds",
    "Time to answer an HTTP request, by method, route template and status.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)
UNMATCHED_ROUTE = "unmatched"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Probes and scrapes arrive every few seconds: their access lines are debug-level.
_QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})


def _route_template(scope: Scope, plain_template: str | None = None) -> str:
    """The matched route's template (``/api/minutes/meetings/{meeting_id}``), never the raw path.

    FastAPI names the API route it chose in the scope; for other routes (API docs, /static) the template found
    by ``_plain_route_template`` before routing is used."""
    return getattr(scope.get("route"), "path_format", None) or plain_template or UNMATCHED_ROUTE


def _plain_route_template(scope: Scope) -> str | None:
    """The Starlette route or mount on the app itself that will answer (matched before routing rewrites the
    scope's paths for a mount)."""
    for route in getattr(scope.get("app"), "routes", ()):
        if isinstance(route, Route | Mount) and route.matches(scope)[0] is Match.FULL:
            return route.path_format
    return None


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            return candidate if _SANE_REQUEST_ID.fullmatch(candidate) else None
    return None


class RequestContext:
    """ASGI middleware: gives each HTTP request an id (the caller's ``X-Request-ID`` when sane) that log
    records and the response carry, then counts and times the request and writes one access line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope) or uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        plain_template = _plain_route_template(scope)
        status = 500  # what the client gets when the app raises before answering

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).append(REQUEST_ID_HEADER, request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _record_request(
                scope, _route_template(scope, plain_template), status, time.perf_counter() - started
            )
            request_id_var.reset(token)


def _record_request(scope: Scope, route: str, status: int, seconds: float) -> None:
    method = scope["method"] if scope["method"] in _METHODS else "OTHER"
    HTTP_REQUESTS.labels(method, route, str(status)).inc()
    HTTP_LATENCY.labels(method, route, str(status)).observe(seconds)
    milliseconds = round(seconds * 1000, 1)
    access_log.log(
        logging.DEBUG if route in _QUIET_ROUTES else logging.INFO,
        "%s %s %d %.1f ms",
        method,
        route,
        status,
        milliseconds,
        extra={"method": method, "route": route, "status": status, "duration_ms": milliseconds},
    )


# --- metrics from the shared database and Redis ------------------------------------------------------------


def _job_seconds(dialect: str) -> ColumnElement[float]:
    """A finished job's run time in seconds, in the database's own date arithmetic."""
    if dialect == "sqlite":
        return (func.julianday(Job.finished_at) - func.julianday(Job.started_at)) * 86400.0
    return extract("epoch", Job.finished_at - Job.started_at)


class StoredWorkCollector:
    """Jobs, job durations and mail routings, aggregated in SQL at scrape time (three GROUP BYs), and the RQ
    queue's length when jobs go through Redis."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("kai_database_up", "1 when the database answered the metrics queries.")
        try:
            jobs, durations, routed = self._aggregates()
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

        mails = GaugeMetricFamily(
            "kai_mail_routed",
            "Routed mails by the queue the model chose ('none': it chose none) and the decision (auto, "
            "review, decided, corrected).",
            labels=["queue", "decision"],
        )
        for queue, status, count in routed:
            mails.add_metric([queue or "none", status], count)
        yield mails

    def _aggregates(self) -> tuple[list[Row[Any]], list[Row[Any]], list[Row[Any]]]:
        seconds = _job_seconds(self.db.engine.dialect.name)
        mail = mail_store.RoutedMail
        with self.db.session() as session:
            jobs = session.execute(select(Job.kind, Job.status, func.count()).group_by(Job.kind, Job.status))
            durations = session.execute(
                select(Job.kind, Job.status, func.count(), func.coalesce(func.sum(seconds), 0.0))
                .where(Job.status.in_(FINISHED), Job.started_at.is_not(None), Job.finished_at.is_not(None))
                .group_by(Job.kind, Job.status)
            )
            routed = session.execute(
                select(mail.queue, mail.status, func.count()).group_by(mail.queue, mail.status)
            )
            return list(jobs), list(durations), list(routed)

    def _redis_queue_length(self) -> int | None:
        try:
            with redis_connection(self.settings) as connection:
                return job_queue(self.settings, connection).count
        except RedisError as exc:
            log.warning("Metrics: Redis did not answer (%s)", type(exc).__name__)
            return None


def metrics_exposition(db: Database, settings: Settings) -> tuple[bytes, str]:
    """The /metrics body and its content type."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)  # every uvicorn worker's counts, added up
    else:
        registry.register(REGISTRY)  # this process's HTTP metrics and process/platform figures
    registry.register(StoredWorkCollector(db, settings))
    return generate_latest(registry), CONTENT_TYPE_LATEST


# --- readiness ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    ok: bool
    detail: str  # "ok", "disabled", or why it failed (short, Danish)


@dataclass(frozen=True)
class Readiness:
    checks: dict[str, Check]

    @property
    def ready(self) -> bool:
        return all(check.ok for check in self.checks.values())

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "status": "ready" if self.ready else "not ready",
            "checks": {name: check.detail for name, check in self.checks.items()},
        }
        if not self.ready:
            body["failed"] = [name for name, check in self.checks.items() if not check.ok]
        return body


def readiness(db: Database, settings: Settings) -> Readiness:
    """Can this instance serve: database, Redis (when configured) and the prepared models on disk."""
    return Readiness(
        {
            "database": check_database(db),
            "redis": check_redis(settings),
            "models": check_models(db, settings),
        }
    )


def check_database(db: Database) -> Check:
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        log.warning("Readiness: the database does not answer: %s", exc)
        return Check(False, f"Databasen svarer ikke ({type(exc).__name__}).")
    return Check(True, "ok")


def check_redis(settings: Settings) -> Check:
    if not settings.redis_url:
        return Check(True, "disabled")
    try:
        with redis_connection(settings) as connection:
            connection.ping()
    except RedisError as exc:
        log.warning("Readiness: Redis does not answer: %s", exc)
        return Check(False, f"Redis svarer ikke ({type(exc).__name__}).")
    return Check(True, "ok")


def check_models(db: Database, settings: Settings) -> Check:
    """Cheap file checks, nothing is loaded: Whisper prepared, every collection's index and the active mail
    model present (on the shared storage, where a missing mount shows up here)."""
    try:
        problems = [
            *_whisper_problems(settings),
            *_index_problems(db, settings),
            *_mail_model_problems(db, settings),
        ]
    except SQLAlchemyError:
        return Check(False, "Kan ikke kontrolleres uden database.")
    return Check(not problems, " ".join(problems) or "ok")


def _whisper_problems(settings: Settings) -> list[str]:
    # model.bin is moved into place last when the bundled model is joined: present means prepared.
    folder = configured_whisper_dir(settings)
    if (folder / "model.bin").is_file():
        return []
    return [f"Whisper-modellen er ikke klargjort i {folder} (kør `kai prepare-models`)."]


def _index_problems(db: Database, settings: Settings) -> list[str]:
    with db.session() as session:
        names = [collection.name for collection in chat_store.list_collections(session)]
    root = settings.resolved_storage_dir
    missing = [name for name in names if not has_complete_index(chat_store.index_dir(root, name))]
    return [f"Søgeindeks mangler for vejledningssamlingerne: {', '.join(missing)}."] if missing else []


def _mail_model_problems(db: Database, settings: Settings) -> list[str]:
    with db.session() as session:
        active = mail_store.active_model(session)
    if active is None:
        return ["Ingen aktiv postsorteringsmodel (kør `kai prepare-models`)."]
    if not (mail_store.models_dir(settings.resolved_storage_dir) / active.file).is_file():
        return [f"Filen til den aktive postsorteringsmodel {active.version} mangler."]
    return []
