"""The composition root's one list of services. Adding a service = its package with a ``plugin.py`` (a
``ServicePlugin``, see ``services/common/plugin.py``) + one line in ``SERVICES`` + its package in the two
service contracts of ``[tool.importlinter]`` in pyproject.toml (``tests/test_service_registry.py`` fails
until it is there) + a migration for its tables. A web page for it goes in ``services/web/pages/`` (listed in
``services/web/router.py``, and in ``rendering.NAVIGATION`` for the menu); offline weights it needs are
prepared by ``kai prepare-models`` in ``services/cli.py``.

The app (``services/app.py``), the ``kai`` command (``services/cli.py``), the job worker, /readyz, /metrics
and Alembic's autogenerate are built from this list; nothing below it imports it. Listing the services
imports only their small ``plugin`` modules: routers, job handlers and CLI apps are imported when asked for.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from services.chatbot.plugin import plugin as chatbot
from services.common.config import Settings
from services.common.jobs import JobHandler
from services.common.plugin import MetricsCollector, ReadinessCheck, ServicePlugin, import_kernel_tables
from services.mailsort.plugin import plugin as mailsort
from services.minutes.plugin import plugin as minutes

if TYPE_CHECKING:
    from fastapi import APIRouter

    from services.common.middleware import BodyLimits

SERVICES: tuple[ServicePlugin, ...] = (minutes, chatbot, mailsort)


def import_tables() -> None:
    """Register every table (the kernel's and each service's) on ``Base.metadata``: what Alembic's
    autogenerate and the schema tests compare the migrations with."""
    import_kernel_tables()
    for service in SERVICES:
        service.import_tables()


def routers() -> list[APIRouter]:
    return [router for service in SERVICES for router in service.routers()]


def job_handlers() -> dict[str, JobHandler]:
    """Every kind of job kai knows, for whichever runner executes them (the app's, or ``kai worker``)."""
    handlers: dict[str, JobHandler] = {}
    for service in SERVICES:
        for kind, handler in service.job_handlers().items():
            if kind in handlers:
                raise ValueError(f"Job kind {kind!r} is declared twice ({service.name}).")
            handlers[kind] = handler
    return handlers


def body_limits(settings: Settings) -> BodyLimits:
    """The routes that take more than the app's default body limit."""
    return {route: limit for service in SERVICES for route, limit in service.body_limits(settings).items()}


def readiness_checks() -> Sequence[ReadinessCheck]:
    return [service.readiness for service in SERVICES if service.readiness is not None]


def metrics_collectors() -> Sequence[MetricsCollector]:
    return [service.metrics for service in SERVICES if service.metrics is not None]
