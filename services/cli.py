"""The ``kai`` command (composition root): ``kai serve``, ``kai worker``, ``kai prepare-models``, and one
sub-command group per service in the registry, plus ``evaluate``, ``users`` and ``tokens``.

The groups are imported lazily: ``kai minutes draft`` imports the minutes service and nothing of the chatbot
(scikit-learn), mail sorting or evaluation. ``kai --help`` lists them all, and so imports them all.
"""

from __future__ import annotations

import importlib
import logging
from typing import Annotated, Any

import typer
from typer.core import TyperGroup
from typer.models import Default, TyperInfo

from services import registry
from services.common.errors import ConfigurationError
from services.common.privacy import install_log_masking

# name -> "module:attribute" of the group's Typer app, imported when the group is looked up
GROUPS: dict[str, str] = {
    **{service.name: service.cli for service in registry.SERVICES if service.cli is not None},
    "evaluate": "evaluation.cli:app",
    "users": "services.common.users_cli:users_app",
    "tokens": "services.common.users_cli:tokens_app",
}
# A service group's help line is its plugin's; the other groups' apps carry their own.
HELP = {service.name: service.help for service in registry.SERVICES}


class LazyGroups(TyperGroup):
    """The root group: a sub-command group is imported when it is looked up, not when ``kai`` starts."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self._loaded: dict[str, Any] = {}

    def list_commands(self, ctx: Any) -> list[str]:
        return [*super().list_commands(ctx), *GROUPS]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in GROUPS:
            return super().get_command(ctx, cmd_name)
        if cmd_name not in self._loaded:
            module, attribute = GROUPS[cmd_name].split(":")
            group = getattr(importlib.import_module(module), attribute)
            # As ``add_typer`` would have built it: a sub-group, without the root's completion options.
            self._loaded[cmd_name] = typer.main.get_group_from_info(
                TyperInfo(group, name=cmd_name, help=HELP.get(cmd_name, Default(None))),
                pretty_exceptions_short=True,
                suggest_commands=self.suggest_commands,
                rich_markup_mode=self.rich_markup_mode,
            )
        return self._loaded[cmd_name]


app = typer.Typer(
    cls=LazyGroups,
    help="kai – lokale AI-værktøjer: referater, vejledning, postsortering og gevinstmåling.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def main() -> None:
    """Every command logs through the CPR filter; warnings only, so progress bars stay readable."""
    install_log_masking(logging.WARNING)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, help="API processes; more than one needs KAI_REDIS_URL (jobs in workers).")
    ] = 1,
) -> None:
    """Start the API and web pages (http://HOST:PORT, API docs at /docs)."""
    import uvicorn

    from services.common.config import get_settings
    from services.common.console import exit_on_error

    settings = get_settings()
    with exit_on_error():
        if workers > 1 and not settings.redis_url:
            # Each API process would run its own in-process job runner and take over the others' jobs.
            raise ConfigurationError("--workers > 1 kræver KAI_REDIS_URL, så jobs kører i 'kai worker'.")
    uvicorn.run(
        "services.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        # uvicorn believes X-Forwarded-* from loopback by default; kai only when told a proxy is in front.
        proxy_headers=settings.trust_proxy_headers,
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )


@app.command()
def worker(
    burst: Annotated[bool, typer.Option(help="Stop when the queue is empty (tests, batch runs).")] = False,
    name: Annotated[str | None, typer.Option(help="Worker name; default: host name and process id.")] = None,
) -> None:
    """Run queued jobs from Redis (KAI_REDIS_URL) until stopped; start one or more per machine."""
    from services.common.config import get_settings
    from services.common.console import exit_on_error
    from services.common.observability.logs import configure_logging
    from services.common.queue import run_worker

    settings = get_settings()
    configure_logging(settings)
    with exit_on_error():
        if not settings.redis_url:
            raise ConfigurationError("kai worker kræver KAI_REDIS_URL (redis://vært:6379/0).")
        settings.prepare_dirs()
        run_worker(settings, registry.job_handlers(), burst=burst, name=name)


@app.command("prepare-models")
def prepare_models() -> None:
    """Prepare everything kai needs offline, once: Whisper joined and verified, the speaker encoder, the
    embedder, the shipped guidance collections indexed and the default mail model trained (the first time
    takes a few minutes)."""
    from models.registry import load_embedder, load_speaker_encoder, whisper_model_dir
    from services.chatbot import service as chatbot
    from services.chatbot.cli import bar_progress
    from services.common.config import get_settings
    from services.common.console import console, exit_on_error, progress_bar
    from services.common.db import open_database
    from services.mailsort import service as mailsort

    settings = get_settings()
    with exit_on_error(), progress_bar() as bar:
        task = bar.add_task("Whisper", total=5)
        path = whisper_model_dir(settings)
        bar.update(task, advance=1, description="Talergenkendelse")
        load_speaker_encoder(settings)
        bar.update(task, advance=1, description="Tekst-embeddings")
        load_embedder(settings)
        bar.update(task, advance=1, description="Vejledningssamlinger (første gang: nogle minutter)")
        settings.prepare_dirs()
        db = open_database(settings.resolved_database_url)
        step = bar.add_task("Vejledningssamlinger", total=None)
        built = chatbot.ensure_shipped_collections(
            db, settings, bar_progress(bar, step, "Vejledningssamlinger")
        )
        bar.update(step, description="Vejledningssamlinger", total=1, completed=1)
        bar.update(task, advance=1, description="Postsorteringsmodel (første gang: trænes på eksempelmails)")
        _, mail_model = mailsort.active_router(db, settings)
        bar.update(task, advance=1, description="Klar")
    collections = ", ".join(r.collection for r in built) or "ingen (fandtes)"
    console.print(f"Whisper: {path}\nSamlinger bygget nu: {collections}\nPostsorteringsmodel: {mail_model}")


if __name__ == "__main__":
    app()
