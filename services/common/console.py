"""Shared terminal output for the CLI: one-line errors and rich progress bars."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from services.common.errors import KaiError

console = Console()
err_console = Console(stderr=True)


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
