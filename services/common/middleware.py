"""The HTTP middleware kai puts around every request, as plain ASGI (it must see the body as it arrives,
which ``BaseHTTPMiddleware`` hides).

``SecurityHeaders``: every answer says ``nosniff``, sends no referrer and may not be framed; API answers
(personal data) are never stored by a browser or proxy; HTML pages get a strict Content Security Policy:
scripts, styles and images from kai itself only, nothing inline.

``BodyGuard``: an API request with a body is authenticated from its headers before a byte of the body is read
(401/403 otherwise), and no request reads more than its route's limit (413), whether the client declares a
length or streams chunked. Starlette's own ``RequestBodyLimitMiddleware`` answers only once the endpoint
reads, after routing and the body-reading dependencies, in English, and lets the server drain the rest of the
body.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.common import auth
from services.common.asgi import HttpMiddleware
from services.common.deps import get_db
from services.common.errors import KaiError
from services.common.schemas import ErrorOut

MB = 1024 * 1024
API_PREFIX = "/api/"
_PAGE_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}
_EVERY_ANSWER = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def content_security_policy(*inline_script_hashes: str) -> str:
    """The pages' policy; a page with an inline script of its own (the API docs) names it by its sha256."""
    policy = dict(_PAGE_POLICY)
    policy["script-src"] = " ".join([policy["script-src"], *(f"'sha256-{h}'" for h in inline_script_hashes)])
    return "; ".join(f"{directive} {sources}" for directive, sources in policy.items())


PAGE_CSP = content_security_policy()


class SecurityHeaders(HttpMiddleware):
    """ASGI middleware: the headers every answer carries (see the module's docstring). A page that sends its
    own Content-Security-Policy keeps it."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        api = scope["path"].startswith(API_PREFIX)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.update(_EVERY_ANSWER)
                if api:
                    headers["Cache-Control"] = "no-store"
                if headers.get("content-type", "").startswith("text/html"):
                    headers.setdefault("Content-Security-Policy", PAGE_CSP)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def error_response(status_code: int, message: str) -> JSONResponse:
    """kai's one shape of an error answer: ``ErrorOut``, ``{"detail": "<Danish message>"}``."""
    return JSONResponse(ErrorOut(detail=message).model_dump(), status_code=status_code)


@dataclass(frozen=True)
class BodyLimit:
    """The most a route reads of a request body, and the Danish refusal that names the limit."""

    max_bytes: int
    message: str


# (method, path) → the limit of that route; every other request gets the default.
BodyLimits = Mapping[tuple[str, str], BodyLimit]


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` once a body passes its limit. An ``HTTPException``, so FastAPI passes it on
    (instead of calling it a malformed body) and answers it with ``{"detail": ...}``."""

    def __init__(self, limit: BodyLimit) -> None:
        super().__init__(status_code=413, detail=limit.message)


class _GuardedExchange:
    """One request's ``receive`` (counting, cut off at the limit) and ``send`` (closing the connection when
    the answer comes before the whole body, so the server does not read the rest only to discard it)."""

    def __init__(self, receive: Receive, send: Send, limit: BodyLimit, body_expected: bool) -> None:
        self._receive, self._send, self.limit = receive, send, limit
        self.received = 0
        self.body_complete = not body_expected
        self.response_started = False

    async def receive(self) -> Message:
        if self.received > self.limit.max_bytes:
            raise BodyTooLarge(self.limit)
        message = await self._receive()
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            self.body_complete = not message.get("more_body", False)
            if self.received > self.limit.max_bytes:
                raise BodyTooLarge(self.limit)
        return message

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.response_started = True
            if not self.body_complete:
                MutableHeaders(scope=message)["connection"] = "close"
        await self._send(message)


def _declared_length(headers: Headers) -> int | None:
    value = headers.get("content-length", "")
    return int(value) if value.isdigit() else None


class BodyGuard(HttpMiddleware):
    """ASGI middleware: authentication before the body for the API, and a size limit per route."""

    def __init__(self, app: ASGIApp, limits: BodyLimits, default: BodyLimit) -> None:
        super().__init__(app)
        self.limits, self.default = limits, default

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.limits.get((scope["method"], scope["path"]), self.default)
        headers = Headers(scope=scope)
        declared = _declared_length(headers)
        has_body = bool(declared) or "transfer-encoding" in headers
        exchange = _GuardedExchange(receive, send, limit, has_body)
        if declared is not None and declared > limit.max_bytes:
            await error_response(413, limit.message)(scope, receive, exchange.send)
            return
        if scope["path"].startswith(API_PREFIX) and (has_body or scope["method"] not in auth.SAFE_METHODS):
            request = Request(scope)
            try:
                principal = await run_in_threadpool(auth.authenticate_request, get_db(request), request)
            except KaiError as exc:
                await error_response(exc.status_code, exc.message)(scope, receive, exchange.send)
                return
            scope.setdefault("state", {})[auth.PRINCIPAL_STATE] = principal
        try:
            await self.app(scope, exchange.receive, exchange.send)
        except BodyTooLarge:
            if exchange.response_started:
                raise
            await error_response(413, limit.message)(scope, receive, exchange.send)
