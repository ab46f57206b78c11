"""What every CLI command shares: one-line errors, rich progress bars and the database it works on."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from services.common.config import Settings, get_settings
from services.common.db import Database, open_database
from services.common.errors import KaiError

console = Console()
err_console = Console(stderr=True)


def open_cli_database() -> tuple[Database, Settings]:
    """The configured database (its folders made first) and the settings, for a command run at the shell."""
    settings = get_settings()
    settings.prepare_dirs()
    return open_database(settings.resolved_database_url), settings


@contextmanager
def exit_on_error() -> Iterator[None]:
    """Turn a ``KaiError`` into one line on stderr and exit code 1 (no traceback for the user)."""
    try:
        yield
    except KaiError as exc:
        err_console.print(f"[bold red]Fejl:[/] {exc.message}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None


def progress_bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
    )


def print_table(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """``rows`` under ``columns`` as a table on the terminal, every cell shown as text."""
    table = Table(*columns)
    for row in rows:
        table.add_row(*(str(cell) for cell in row))
    console.print(table)
