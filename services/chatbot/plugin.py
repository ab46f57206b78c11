"""The guidance chatbot as the composition root sees it (``services/registry.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from services.common.config import Settings
from services.common.db import Database
from services.common.plugin import ServicePlugin

if TYPE_CHECKING:
    from fastapi import APIRouter


def _routers() -> Sequence[APIRouter]:
    from services.chatbot.router import router

    return (router,)


def _readiness(db: Database, settings: Settings) -> list[str]:
    """Every collection's search index complete on disk (nothing is loaded)."""
    from services.chatbot import store
    from services.chatbot.index import has_complete_index

    with db.session() as session:
        names = [collection.name for collection in store.list_collections(session)]
    root = settings.resolved_storage_dir
    missing = [name for name in names if not has_complete_index(store.index_dir(root, name))]
    return [f"Søgeindeks mangler for vejledningssamlingerne: {', '.join(missing)}."] if missing else []


plugin = ServicePlugin(
    name="chatbot",
    package="services.chatbot",
    help="Spørg vejledningen: lovtekster og IT-vejledninger med kildehenvisninger.",
    table_modules=("services.chatbot.store",),
    routers=_routers,
    readiness=_readiness,
    cli="services.chatbot.cli:app",
)
