"""The HTTP middleware of operations: a request id per request, one access line (the route template, never
the raw path) and the HTTP metrics.

HTTP metrics are counted in the process that answered; with several uvicorn workers, prometheus_client's
multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``) adds them up.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from prometheus_client import Counter, Histogram
from starlette.datastructures import MutableHeaders
from starlette.routing import Match, Mount, Route
from starlette.types import Message, Receive, Scope, Send

from services.common.asgi import HttpMiddleware
from services.common.observability.logs import request_id_var

access_log = logging.getLogger("kai.access")

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")

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


class RequestContext(HttpMiddleware):
    """ASGI middleware: gives each HTTP request an id (the caller's ``X-Request-ID`` when sane) that log
    records and the response carry, then counts and times the request and writes one access line."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
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
