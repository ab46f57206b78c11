"""Structured logs: one handler on the root logger, JSON lines or text, each record stamped with its request
id; CPR numbers masked in messages (privacy's filter) and in tracebacks (the formatters here)."""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO

from services.common.config import Settings
from services.common.privacy import install_log_masking, mask_cpr

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
