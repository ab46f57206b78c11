"""Mail sorting as the composition root sees it (``services/registry.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.common.config import Settings
from services.common.db import Database
from services.common.plugin import ServicePlugin

if TYPE_CHECKING:
    from fastapi import APIRouter
    from prometheus_client.core import Metric

    from services.common.middleware import BodyLimits


def _routers() -> Sequence[APIRouter]:
    from services.mailsort.router import router

    return (router,)


def _body_limits(settings: Settings) -> BodyLimits:
    # A raw mail.
    from services.common.middleware import BodyLimit

    return {
        ("POST", "/api/mail/route/raw"): BodyLimit(
            settings.mail_max_bytes, f"Mailen er større end grænsen på {settings.mail_max_mb} MB."
        )
    }


def _readiness(db: Database, settings: Settings) -> list[str]:
    """The active mail model's file present (on the shared storage, where a missing mount shows up)."""
    from services.mailsort import store

    with db.session() as session:
        active = store.active_model(session)
    if active is None:
        return ["Ingen aktiv postsorteringsmodel (kør `kai prepare-models`)."]
    if not (store.models_dir(settings.resolved_storage_dir) / active.file).is_file():
        return [f"Filen til den aktive postsorteringsmodel {active.version} mangler."]
    return []


def _metrics(session: Session) -> list[Metric]:
    """Routed mails by queue and decision, counted in SQL at scrape time."""
    from prometheus_client.core import GaugeMetricFamily

    from services.mailsort.store import RoutedMail

    mails = GaugeMetricFamily(
        "kai_mail_routed",
        "Routed mails by the queue the model chose ('none': it chose none) and the decision (auto, "
        "review, decided, corrected).",
        labels=["queue", "decision"],
    )
    routed = session.execute(
        select(RoutedMail.queue, RoutedMail.status, func.count()).group_by(
            RoutedMail.queue, RoutedMail.status
        )
    )
    for queue, status, count in routed:
        mails.add_metric([queue or "none", status], count)
    return [mails]


plugin = ServicePlugin(
    name="mailsort",
    package="services.mailsort",
    help="Postsortering: indgående mails til den rigtige kø.",
    table_modules=("services.mailsort.store",),
    routers=_routers,
    body_limits=_body_limits,
    readiness=_readiness,
    metrics=_metrics,
    cli="services.mailsort.cli:app",
)
