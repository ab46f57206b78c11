"""The composition root: one list of services, from which tables, the worker's handlers and the ``kai``
command are built; each is checked in a fresh process, where nothing else has imported kai's modules yet."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from sqlalchemy import inspect

from services import registry
from services.common.db import Database
from services.common.plugin import ServicePlugin

REPO = Path(__file__).resolve().parents[1]
KAI_PACKAGES = ("services", "models", "evaluation")


def _modules_after(code: str) -> set[str]:
    """kai's modules imported once ``code`` has run in a new interpreter."""
    report = (
        "import atexit, json, sys\n"
        "atexit.register(lambda: print(json.dumps(sorted(m for m in sys.modules "
        f"if m.split('.')[0] in {KAI_PACKAGES!r}))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", report + code], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


def test_the_registry_declares_every_table_the_migrations_build(db: Database) -> None:
    code = (
        "from services.common.db import Base\n"
        "from services.registry import import_tables\n"
        "import_tables()\n"
        "print(json.dumps(sorted(Base.metadata.tables)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", "import json\n" + code], cwd=REPO, capture_output=True, text=True
    )
    declared = set(json.loads(result.stdout))
    built = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
    assert declared == built


def test_a_service_command_imports_only_its_own_service() -> None:
    modules = _modules_after(
        "sys.argv = ['kai', 'minutes', 'draft', '--help']\nfrom services.cli import app\napp()\n"
    )
    assert "services.minutes.cli" in modules
    others = {m for m in modules if m.startswith(("services.chatbot.", "services.mailsort.", "evaluation"))}
    # the other services' plugin declarations are listed, nothing behind them is imported
    assert others == {"services.chatbot.plugin", "services.mailsort.plugin"}
    assert not {m for m in modules if m.startswith(("services.web", "services.app"))}


def test_the_worker_imports_its_job_handlers_but_no_router_or_page() -> None:
    modules = _modules_after("from services import registry\nregistry.job_handlers()\n")
    assert "services.minutes.job" in modules
    assert not {m for m in modules if m.endswith(".router") or m.startswith(("services.web", "services.app"))}


def test_a_plugin_names_only_tables_of_its_own_package() -> None:
    with pytest.raises(ValueError, match=r"outside services\.minutes"):
        ServicePlugin(
            name="minutes", package="services.minutes", help="", table_modules=("services.chatbot.store",)
        )


def test_every_registered_service_is_under_the_import_contracts() -> None:
    """A service missing from the contracts could import another service without `make lint` noticing."""
    contracts = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    independent = next(c for c in contracts if c["type"] == "independence")["modules"]
    layers = next(c for c in contracts if c["type"] == "layers")["layers"]
    services_layer = next(layer for layer in layers if "services.minutes" in layer)
    for plugin in registry.SERVICES:
        assert plugin.package in independent, plugin.name
        assert plugin.package in services_layer.replace(" ", "").split("|"), plugin.name
