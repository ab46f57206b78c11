"""``kai evaluate …``: quality scorecard across the services, and the measured savings beside the budget."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from evaluation.scorecard import (
    compare_scorecards,
    latest_scorecard,
    run_scorecard,
    scorecard_dir,
    scorecard_table,
    write_scorecard,
)
from services.common.config import get_settings
from services.common.console import console, exit_on_error, progress_bar
from services.common.db import open_database

app = typer.Typer(
    help="Gevinster og kvalitet: målt tidsbesparelse og kvalitet på kendte data.", no_args_is_help=True
)


@app.command()
def scorecard(
    as_json: Annotated[bool, typer.Option("--json", help="Print the scorecard as JSON.")] = False,
) -> None:
    """Run every service's quality benchmark on the configured datasets and write one stamped scorecard."""
    with exit_on_error():
        settings = get_settings()
        settings.prepare_dirs()
        db = open_database(settings.resolved_database_url)
        previous = latest_scorecard(settings)
        with progress_bar() as bar:
            task = bar.add_task("Kører kvalitetsmålinger (tale, søgning, postsortering)", total=None)
            card = run_scorecard(settings, db)
            bar.update(task, total=1, completed=1)
        path = write_scorecard(card, scorecard_dir(settings))
    if as_json:
        typer.echo(json.dumps(card.to_dict(), ensure_ascii=False))
        return
    console.print(scorecard_table(card))
    console.print(f"Gemt: {path}")
    for line in compare_scorecards(previous, card) if previous else []:
        console.print(f"[yellow]{line}[/]", highlight=False)
