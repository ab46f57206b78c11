"""The FastAPI app factory (composition root): one app built from the registry's services, every service's
router under ``/api/<service>/``, with evaluation's API and the web pages mounted beside them."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from evaluation import router as evaluation_router
from services import registry
from services.common.api_docs import add_api_docs
from services.common.config import Settings, get_settings
from services.common.db import open_database
from services.common.deps import DatabaseDep
from services.common.errors import KaiError
from services.common.middleware import MB, BodyGuard, BodyLimit, SecurityHeaders, error_response
from services.common.observability.http import RequestContext
from services.common.observability.logs import configure_logging
from services.common.observability.metrics import metrics_exposition
from services.common.observability.readiness import readiness
from services.common.queue import create_job_runner
from services.common.schemas import document_errors
from services.web import router as web_router

log = logging.getLogger(__name__)


# JSON and forms: far more than any question, mail form or minutes draft needs; a service declares the routes
# that take more (a recording, a raw mail) in its plugin's ``body_limits``.
DEFAULT_BODY_LIMIT = BodyLimit(1 * MB, "Forespørgslen er større end grænsen på 1 MB.")


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path", "form"))
        parts.append(f"{where}: {error.get('msg', 'ugyldig værdi')}" if where else error.get("msg", ""))
    return "Ugyldigt input – " + "; ".join(parts)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings)
        settings.prepare_dirs()
        db = open_database(settings.resolved_database_url)
        runner = create_job_runner(db, settings, registry.job_handlers())
        app.state.settings, app.state.db, app.state.runner = settings, db, runner
        runner.start()
        try:
            yield
        finally:
            runner.stop()
            db.dispose()

    app = FastAPI(
        title="kai",
        description="Lokale AI-værktøjer for Høje-Taastrup Kommune: referater, vejledning og postsortering.",
        version="0.1.0",
        lifespan=lifespan,
        openapi_url="/openapi.json" if settings.api_docs else None,
        docs_url=None,  # served from the installed Swagger UI below, not from a CDN
        redoc_url=None,
    )

    def openapi() -> dict[str, Any]:
        # FastAPI builds the schema; kai's one error body replaces FastAPI's default 422 schema, once.
        if app.openapi_schema is None:
            app.openapi_schema = document_errors(FastAPI.openapi(app))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    if settings.api_docs:
        add_api_docs(app)

    @app.exception_handler(KaiError)
    async def kai_error(_: Request, exc: KaiError) -> JSONResponse:
        return error_response(exc.status_code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(422, _validation_message(exc))

    app.add_middleware(BodyGuard, limits=registry.body_limits(settings), default=DEFAULT_BODY_LIMIT)
    app.add_middleware(SecurityHeaders)  # outside the guard: its refusals carry the headers too
    # Added last, so it is outermost: every response (a refused body too) carries the request id.
    app.add_middleware(RequestContext)

    # Liveness: the process answers. No dependencies, so a database outage does not restart every instance.
    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    # /readyz and /metrics need no login: expose them to the internal network only (see README, Operations).
    @app.get("/readyz", include_in_schema=False)
    def readyz(db: DatabaseDep) -> JSONResponse:
        report = readiness(db, settings, registry.readiness_checks())
        return JSONResponse(report.as_json(), status_code=200 if report.ready else 503)

    @app.get("/metrics", include_in_schema=False)
    def metrics(db: DatabaseDep) -> Response:
        body, content_type = metrics_exposition(db, settings, registry.metrics_collectors())
        return Response(body, media_type=content_type)

    for router in registry.routers():
        app.include_router(router)
    app.include_router(evaluation_router.router)
    app.include_router(web_router.router)
    app.mount("/static", StaticFiles(directory=web_router.STATIC_DIR), name="static")
    return app
