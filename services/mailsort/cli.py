"""``kai mailsort …``: route mail, train and compare models, watch a mailbox."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from services.common.auth import LOCAL_OPERATOR
from services.common.config import get_settings
from services.common.console import console, exit_on_error, open_cli_database, print_table, progress_bar
from services.common.errors import InvalidInput, NotFound
from services.mailsort import service

app = typer.Typer(no_args_is_help=True)  # its help line is the plugin's (plugin.py)


def _metrics_table(metrics: dict) -> Table:
    table = Table("mål", "værdi")
    for key, value in metrics.items():
        if not isinstance(value, dict | list):
            table.add_row(key, str(value))
    return table


@app.command()
def route(
    mail_file: Annotated[Path, typer.Argument(help="An RFC 822 mail (.eml).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the decision as JSON.")] = False,
) -> None:
    """Route one mail: its queue, how sure the model is, and whether it goes straight there."""
    with exit_on_error():
        if not mail_file.is_file():
            raise NotFound(f"Filen {mail_file} findes ikke.")
        db, settings = open_cli_database()
        result = service.route_raw(db, settings, mail_file.read_bytes(), source="cli")
    decision = result.contract()
    if as_json:
        typer.echo(json.dumps(decision, ensure_ascii=False))
        return
    where = "automatisk" if decision["auto"] else "til manuel vurdering"
    console.print(f"{decision['queue']} ({decision['confidence']:.0%}, {where})", highlight=False)
    flags = [name for name in ("contains_cpr", "urgent") if decision[name]]
    if flags:
        console.print(f"Markeret: {', '.join(flags)}")
    console.print(f"Vægtede ord: {', '.join(decision['explanation'])}", highlight=False)


@app.command()
def train(
    data: Annotated[Path, typer.Argument(help="Labelled mail: JSONL, CSV, mbox, or a folder per queue.")],
) -> None:
    """Train a new model version from labelled mail and make it active (with cross-validated figures)."""
    with exit_on_error():
        db, settings = open_cli_database()
        with progress_bar() as bar:
            task = bar.add_task(f"Træner på {data.name}", total=None)
            row = service.train_from_file(db, settings, data)
            bar.update(task, total=1, completed=1)
    console.print(f"Model {row.version} er aktiv (trænet på {row.trained_on} mails).")
    console.print(_metrics_table(row.metrics))


@app.command("eval")
def evaluate(
    test: Annotated[Path, typer.Argument(help="Labelled test mail (any supported format).")],
    train_data: Annotated[Path, typer.Option("--train", help="Labelled training mail.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """Train on --train and score on TEST: accuracy, macro-F1, automatic coverage and precision."""
    with exit_on_error():
        figures = service.evaluate(get_settings(), train_data, test)
    if as_json:
        typer.echo(json.dumps(figures))
        return
    console.print(_metrics_table(figures))


@app.command()
def retrain() -> None:
    """Train a candidate with people's corrections; promote it only if it is not worse on a held-out split."""
    with exit_on_error():
        db, settings = open_cli_database()
        report = service.retrain(db, settings)
    verdict = "forfremmet" if report.promoted else "ikke forfremmet"
    console.print(
        f"Kandidat {report.candidate} ({report.corrections} rettelser): {verdict} – {report.reason}"
    )


@app.command()
def models() -> None:
    """List model versions; the active one is marked."""
    with exit_on_error():
        db, _ = open_cli_database()
        rows = service.list_models(db)
    print_table(
        ("version", "aktiv", "trænet på", "rettelser", "macro-F1", "note"),
        [
            (
                row.version,
                "✔" if row.active else "",
                row.trained_on,
                row.corrections,
                row.metrics.get("macro_f1", ""),
                row.note,
            )
            for row in rows
        ],
    )


@app.command()
def restore(version: Annotated[str, typer.Argument(help="The version to make active again.")]) -> None:
    """Make an earlier model version active again."""
    with exit_on_error():
        db, _ = open_cli_database()
        service.restore_model(db, version, LOCAL_OPERATOR)
    console.print(f"Model {version} er aktiv igen.")


@app.command()
def promote(
    version: Annotated[str, typer.Argument(help="The candidate version to put in use.")],
    confirm_worse: Annotated[
        bool, typer.Option("--confirm-worse", help="Promote although its comparison advised against it.")
    ] = False,
) -> None:
    """Put a retrained candidate that was not promoted in use (after reading its comparison)."""
    with exit_on_error():
        db, _ = open_cli_database()
        service.promote_model(db, version, LOCAL_OPERATOR, confirm_worse=confirm_worse)
    console.print(f"Model {version} er aktiv.")


@app.command()
def correct(
    mail_id: Annotated[str, typer.Argument(help="The routed mail's id.")],
    queue: Annotated[str, typer.Argument(help="The right queue.")],
) -> None:
    """Set a mail's queue by hand (a decision from review, or a correction of an automatic routing)."""
    with exit_on_error():
        db, settings = open_cli_database()
        service.decide(db, settings, mail_id, queue, LOCAL_OPERATOR)
    console.print(f"Mail {mail_id} → {queue}.")


@app.command()
def drift() -> None:
    """How confidence, automatic share and queue mix move week by week."""
    with exit_on_error():
        db, _ = open_cli_database()
        weeks = service.drift_report(db)
    print_table(
        ("uge", "mails", "gns. sikkerhed", "automatisk", "rettet", "største køer"),
        [
            (
                week["week"],
                week["mails"],
                f"{week['mean_confidence']:.2f}",
                f"{week['auto_share']:.0%}",
                week["corrected"],
                ", ".join(f"{q} {n}" for q, n in list(week["queues"].items())[:3]),
            )
            for week in weeks
        ],
    )


@app.command()
def watch(
    once: Annotated[bool, typer.Option(help="Handle what is new now, then stop.")] = False,
) -> None:
    """Poll the configured IMAP folder and route every new mail exactly once (KAI_IMAP_* settings)."""
    from services.mailsort.imap import watch as watch_mailbox
    from services.mailsort.imap import watch_once

    with exit_on_error():
        db, settings = open_cli_database()
        if not settings.imap_host:
            raise InvalidInput(
                "Ingen postkasse sat op: angiv KAI_IMAP_HOST, KAI_IMAP_USER og KAI_IMAP_PASSWORD."
            )
        route_step = service.imap_route_step(db, settings)
        if once:
            report = watch_once(db, settings, route_step)
            console.print(f"{report}")
            return
        stop = threading.Event()
        console.print(f"Overvåger {settings.imap_folder} på {settings.imap_host} (Ctrl+C stopper).")
        try:
            watch_mailbox(db, settings, route_step, stop)
        except KeyboardInterrupt:
            stop.set()
