"""The minutes service as the composition root sees it (``services/registry.py``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from services.common.config import Settings
from services.common.db import Database
from services.common.jobs import JobHandler
from services.common.plugin import ServicePlugin

if TYPE_CHECKING:
    from fastapi import APIRouter

    from services.common.middleware import BodyLimits


def _routers() -> Sequence[APIRouter]:
    from services.minutes.router import router

    return (router,)


def _job_handlers() -> Mapping[str, JobHandler]:
    from services.minutes import job

    return {job.JOB_KIND: job.run_transcription_job}


def _body_limits(settings: Settings) -> BodyLimits:
    # A recording with its form fields and agenda file.
    from services.common.middleware import MB, BodyLimit

    return {
        ("POST", "/api/minutes/meetings"): BodyLimit(
            settings.max_upload_bytes + 1 * MB, f"Filen er større end grænsen på {settings.max_upload_mb} MB."
        )
    }


def _readiness(_: Database, settings: Settings) -> list[str]:
    """Whisper prepared: model.bin is moved into place last when the bundled model is joined."""
    from models.registry import configured_whisper_dir

    folder = configured_whisper_dir(settings)
    if (folder / "model.bin").is_file():
        return []
    return [f"Whisper-modellen er ikke klargjort i {folder} (kør `kai prepare-models`)."]


plugin = ServicePlugin(
    name="minutes",
    package="services.minutes",
    help="Referater: fra mødeoptagelse til referatudkast.",
    table_modules=("services.minutes.store",),
    routers=_routers,
    job_handlers=_job_handlers,
    body_limits=_body_limits,
    readiness=_readiness,
    cli="services.minutes.cli:app",
)
