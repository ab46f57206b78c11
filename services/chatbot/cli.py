"""``kai chatbot …``: ingest guidance, ask questions, evaluate retrieval from the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, TaskID

from services.chatbot import service
from services.chatbot.index import Progress as IndexProgress
from services.common.auth import LOCAL_OPERATOR, parse_role
from services.common.config import Settings
from services.common.console import console, exit_on_error, open_cli_database, print_table, progress_bar
from services.common.db import Database

app = typer.Typer(no_args_is_help=True)  # its help line is the plugin's (plugin.py)


def bar_progress(bar: Progress, task: TaskID, label: str) -> IndexProgress:
    """An index build's progress (what, done, total) shown on ``task`` of ``bar``."""
    return lambda what, done, total: bar.update(
        task, description=f"{label}: {what}", total=total or None, completed=done
    )


def _ready() -> tuple[Database, Settings]:
    """The database with the shipped collections built (the first run builds them, with a progress bar)."""
    db, settings = open_cli_database()
    if service.pending_shipped_collections(db, settings):
        with progress_bar() as bar:
            label = "Bygger de medfølgende samlinger (første gang eller efter en opdatering)"
            task = bar.add_task(label, total=None)
            service.ensure_shipped_collections(db, settings, bar_progress(bar, task, label))
            bar.update(task, description=label, total=1, completed=1)
    return db, settings


@app.command()
def ingest(
    path: Annotated[
        Path, typer.Argument(help="A file or a folder: Retsinformation JSON, MD, HTML, PDF, DOCX, TXT.")
    ],
    collection: Annotated[str, typer.Option(help="The collection to add the documents to.")],
    title: Annotated[str | None, typer.Option(help="Title of a new collection.")] = None,
    roles: Annotated[
        str | None, typer.Option(help="Roles that may read it, e.g. 'sagsbehandler,admin'.")
    ] = None,
    contact: Annotated[str | None, typer.Option(help="Who the bot points to when it cannot answer.")] = None,
) -> None:
    """Add or replace documents in a collection; unchanged ones are skipped, the index swaps atomically."""
    with exit_on_error():
        db, settings = open_cli_database()
        parsed_roles = [parse_role(r) for r in roles.split(",")] if roles else None
        with progress_bar() as bar:
            label = f"Indlæser {path.name}"
            task = bar.add_task(label, total=None)
            report = service.ingest(
                db,
                settings,
                path,
                collection,
                title=title,
                roles=parsed_roles,
                contact=contact,
                progress=bar_progress(bar, task, label),
            )
            bar.update(task, description=label, total=1, completed=1)
    console.print(
        f"{collection}: {len(report.added)} nye, {len(report.replaced)} erstattet, "
        f"{len(report.unchanged)} uændrede, {len(report.skipped)} sprunget over; "
        f"{report.chunks} tekststykker og {report.questions} spørgsmål i indekset."
    )


@app.command()
def remove(
    source: Annotated[
        str, typer.Argument(help="The document's source name, as `kai chatbot documents` lists it.")
    ],
    collection: Annotated[str, typer.Option(help="The collection it is in.")],
) -> None:
    """Remove one document from a collection and its index."""
    with exit_on_error():
        db, settings = open_cli_database()
        service.remove_document(db, settings, collection, source)
    console.print(f"Fjernet {source} fra {collection}.")


@app.command()
def collections() -> None:
    """List the collections and how much they hold."""
    with exit_on_error():
        db, _ = _ready()
        rows = service.list_collections(db, LOCAL_OPERATOR)
    print_table(
        ("samling", "titel", "tekststykker", "roller"),
        [(row.name, row.title, row.chunks, ", ".join(row.roles)) for row in rows],
    )


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, in Danish.")],
    collection: Annotated[str | None, typer.Option(help="Search only this collection.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
) -> None:
    """Ask the guidance a question; the answer cites § and source, or says it cannot find it."""
    with exit_on_error():
        db, settings = _ready()
        reply = service.ask(db, settings, LOCAL_OPERATOR, question, collection)
    if as_json:
        typer.echo(json.dumps(reply.contract(), ensure_ascii=False))
        return
    console.print(reply.answer.text, highlight=False)
    for number, citation in enumerate(reply.answer.citations, start=1):
        console.print(f"  [{number}] {citation.title} – {citation.url}", highlight=False)


@app.command("eval")
def evaluate(
    qa_file: Annotated[Path, typer.Argument(help="Questions in the dev-set format (JSON Lines).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """Score retrieval and abstention on a question set: recall@1/5, MRR, abstention, latency."""
    with exit_on_error():
        db, settings = _ready()
        figures = service.evaluate(db, settings, qa_file, LOCAL_OPERATOR)
    if as_json:
        typer.echo(json.dumps(figures))
        return
    print_table(("mål", "værdi"), figures.items())


@app.command()
def gaps() -> None:
    """Questions the guidance could not answer: what the editors should add."""
    with exit_on_error():
        db, _ = open_cli_database()
        rows = service.content_gaps(db, LOCAL_OPERATOR)
    print_table(
        ("gange", "senest", "årsag", "spørgsmål"),
        [(gap.times, gap.last_asked[:16], gap.reason, gap.question) for gap in rows],
    )
