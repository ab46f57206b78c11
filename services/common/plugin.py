"""What a service declares to the composition root (``services/registry.py``), and nothing more.

Each service exposes one ``ServicePlugin`` from its own ``plugin.py``; the registry lists them, and the
app, the ``kai`` command, the job worker, readiness, metrics and the migrations are built from that list.
The kernel defines the shape and imports no service.

Everything heavy is reached through a zero-argument function that imports on call, so that listing the
services costs nothing: ``kai minutes …`` imports the minutes service only, and a job worker imports the job
handlers but no router.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from services.common.config import Settings
from services.common.db import Database
from services.common.jobs import JobHandler

if TYPE_CHECKING:
    from fastapi import APIRouter
    from prometheus_client.core import Metric

    from services.common.middleware import BodyLimits

# A readiness check: the problems (short, Danish) that keep the service from serving; empty when ready.
# Cheap file and row checks only; a database error is the caller's to report.
ReadinessCheck = Callable[[Database, Settings], list[str]]
# A metrics collector: metric families read in the scrape's database session.
MetricsCollector = Callable[[Session], list["Metric"]]

# The kernel's own tables (users, sessions, tokens, audit, jobs, the ledger, login back-off).
KERNEL_TABLE_MODULES = (
    "services.common.audit",
    "services.common.auth.models",
    "services.common.jobs",
    "services.common.ledger",
    "services.common.login_backoff",
)


def _none() -> tuple[()]:
    return ()


def _no_handlers() -> Mapping[str, JobHandler]:
    return {}


def _no_limits(_: Settings) -> BodyLimits:
    return {}


@dataclass(frozen=True)
class ServicePlugin:
    """One service as the composition root sees it.

    ``package`` is the service's package (``services.minutes``); every module it names lies inside it.
    """

    name: str  # the CLI group (``kai minutes``) and the name in logs
    package: str
    help: str  # the CLI group's help line, shown by ``kai --help`` without importing the service
    table_modules: tuple[str, ...] = ()  # modules whose SQLAlchemy tables belong to the service
    routers: Callable[[], Sequence[APIRouter]] = _none
    job_handlers: Callable[[], Mapping[str, JobHandler]] = _no_handlers
    body_limits: Callable[[Settings], BodyLimits] = _no_limits  # routes that take more than the default
    readiness: ReadinessCheck | None = None  # contributes to /readyz's "models" check
    metrics: MetricsCollector | None = None  # contributes to /metrics
    cli: str | None = None  # "module:attribute" of the ``kai <name> …`` Typer group, imported when used

    def __post_init__(self) -> None:
        cli_modules = [self.cli.partition(":")[0]] if self.cli else []
        outside = [m for m in (*self.table_modules, *cli_modules) if not m.startswith(f"{self.package}.")]
        if outside:
            raise ValueError(f"{self.name}: modules outside {self.package}: {outside}")

    def import_tables(self) -> None:
        """Register the service's tables on ``Base.metadata``."""
        for module in self.table_modules:
            importlib.import_module(module)


def import_kernel_tables() -> None:
    for module in KERNEL_TABLE_MODULES:
        importlib.import_module(module)
