"""``kai evaluate …``: quality scorecard across the services, and the measured savings beside the budget."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from evaluation.report import write_report
from evaluation.savings import savings_by_year
from evaluation.scorecard import (
    compare_scorecards,
    latest_scorecard,
    run_scorecard,
    scorecard_dir,
    scorecard_table,
    write_scorecard,
)
from evaluation.simulate import simulate_year
from services.common.console import console, exit_on_error, open_cli_database, progress_bar
from services.common.errors import InvalidInput, NotFound

app = typer.Typer(
    help="Gevinster og kvalitet: målt tidsbesparelse og kvalitet på kendte data.", no_args_is_help=True
)


@app.command()
def scorecard(
    as_json: Annotated[bool, typer.Option("--json", help="Print the scorecard as JSON.")] = False,
) -> None:
    """Run every service's quality benchmark on the configured datasets and write one stamped scorecard."""
    with exit_on_error():
        db, settings = open_cli_database()
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


SimulatedOption = Annotated[
    bool, typer.Option("--simulated", help="Use the simulated rows alone (never mixed with measured ones).")
]


@app.command()
def minutes(
    folder: Annotated[
        Path, typer.Argument(help="Folder of labelled meetings (mtg-*.json, the meetings form).")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the scores as one JSON object.")] = False,
    cross_validate: Annotated[
        bool,
        typer.Option(
            "--cross-validate",
            help="Draft each meeting with weights fitted on the folder's other meetings (leave-one-out).",
        ),
    ] = False,
) -> None:
    """Score minutes drafts against gold minutes: decisions, actions, owners, deadlines, agenda items."""
    from evaluation.minutes_scoring import score_meetings
    from services.minutes.pipeline.draft.build import shipped_models
    from services.minutes.pipeline.draft.train import cross_validate as cross_validated
    from services.minutes.pipeline.draft.train import draft_for, load_labelled

    with exit_on_error():
        if not folder.is_dir():
            raise NotFound(f"Mappen {folder} findes ikke.")
        try:
            meetings = load_labelled(folder)
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidInput(f"Møderne i {folder} kan ikke læses: {type(exc).__name__}.") from exc
        if not meetings:
            raise InvalidInput(f"Der er ingen mødefiler med referat (*.json) i {folder}.")
        drafted = cross_validated(meetings) if cross_validate else [(m, draft_for(m)) for m in meetings]
        counts = score_meetings((m.data, draft) for m, draft in drafted)
    trained_on = set(shipped_models().trained_on)
    seen = sorted(m.id for m in meetings if m.id in trained_on and not cross_validate)
    result = {
        "weights": "cross-validated" if cross_validate else "shipped",
        "trained_on_these": seen,
        **counts.scores(),
        "per_meeting": counts.per_meeting,
    }
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
        return
    table = Table("mål", "værdi")
    for name in ("decisions", "actions"):
        scores = result[name]
        table.add_row(name, f"P {scores['precision']:.2f}  R {scores['recall']:.2f}  F1 {scores['f1']:.2f}")
    for name in ("owner_accuracy", "deadline_accuracy", "agenda_item_accuracy", "agenda_item_accuracy_all"):
        table.add_row(name, f"{result[name]:.2f}")
    not_decisions = result["not_decisions"]
    table.add_row("not_decisions reported", f"{not_decisions['reported']} af {not_decisions['total']}")
    console.print(table)
    if seen:
        console.print(f"[yellow]De leverede vægte er trænet på {len(seen)} af disse møder.[/]")


@app.command()
def savings(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the per-year figures as a JSON list.")
    ] = False,
    simulated: SimulatedOption = False,
) -> None:
    """Time saved per budget year, in FTE and DKK, beside the budget's targets (measured, else projected)."""
    with exit_on_error():
        rows = savings_by_year(open_cli_database()[0], simulated=simulated)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    table = Table(
        "år",
        "grundlag",
        "mål kr.",
        "sparet kr. (95 %-interval)",
        "mål årsværk",
        "sparet årsværk",
        "netto kr.",
    )
    for row in rows:
        interval = f"{row['saved_dkk']:,.0f} ({row['saved_dkk_low']:,.0f}–{row['saved_dkk_high']:,.0f})"
        table.add_row(
            str(row["year"]),
            str(row.get("basis", "")),
            f"{row['target_dkk']:,.0f}",
            interval,
            str(row["target_fte"]),
            f"{row['saved_fte']:.2f}",
            f"{row['net_dkk']:,.0f}",
        )
    if simulated:
        console.print("[bold]SIMULEREDE DATA[/]")
    console.print(table)


@app.command()
def simulate(
    year: Annotated[int, typer.Option(help="The budget year to fill with simulated use (2026–2029).")],
    seed: Annotated[int, typer.Option(help="Random seed, for a repeatable simulation.")] = 0,
    scale: Annotated[float, typer.Option(help="Share of the year's adoption scenario to simulate.")] = 1.0,
) -> None:
    """Fill the ledger with a year of simulated use (marked simulated; never part of measured figures)."""
    with exit_on_error():
        rows = simulate_year(open_cli_database()[0], year, seed=seed, scale=scale)
    console.print(f"{rows} simulerede rækker for {year} skrevet i forbrugsloggen.")


@app.command()
def report(
    out: Annotated[Path, typer.Option("--out", help="Folder for report.html and report.xlsx.")],
    simulated: SimulatedOption = False,
) -> None:
    """Write the savings report: a self-contained Danish HTML page and an XLSX workbook, same tables."""
    with exit_on_error():
        html, xlsx = write_report(open_cli_database()[0], out, simulated=simulated)
    console.print(f"Rapport: {html}\nRegneark: {xlsx}")
