"""What every command shares: the store option, JSON output, errors as exit codes, progress."""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from jointwatch.errors import JointwatchError

console = Console()
err_console = Console(stderr=True)

DbOption = Annotated[
    str | None,
    typer.Option("--db", envvar="JOINTWATCH_DB", show_envvar=True,
                 help="Store: a SQLite file path or a database URL (postgresql://…). "
                      "Default: ./jointwatch.db"),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for machines instead of tables.")]

T = TypeVar("T")


def _default(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def print_json(data: Any) -> None:
    """Write ``data`` as indented JSON on standard output."""
    sys.stdout.write(json.dumps(data, default=_default, ensure_ascii=False, indent=2) + "\n")


def fail(exc: JointwatchError, as_json: bool) -> typer.Exit:
    """Report an error (on stderr, or as a JSON object) and give the exit to raise."""
    if as_json:
        print_json({"error": type(exc).__name__, "message": str(exc), "exit_code": exc.exit_code})
    else:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, markup=True)
    return typer.Exit(exc.exit_code)


def run(as_json: bool, action: Callable[[], T]) -> T:
    """Run a library call, turning jointwatch errors into a message and an exit code."""
    try:
        return action()
    except JointwatchError as exc:
        raise fail(exc, as_json) from None


@contextmanager
def record_progress(label: str, enabled: bool) -> Iterator[Callable[[int], None]]:
    """A live "N records" counter on a terminal; a no-op otherwise."""
    if not enabled or not err_console.is_terminal:
        yield lambda n: None
        return
    with Progress(SpinnerColumn(), TextColumn("{task.description}"),
                  TextColumn("{task.completed:,} records"), TimeElapsedColumn(),
                  console=err_console, transient=True) as progress:
        task = progress.add_task(label, total=None)
        yield lambda n: progress.update(task, completed=n)


@contextmanager
def byte_progress(label: str, enabled: bool) -> Iterator[Callable[[int, int | None], None]]:
    """A download bar on a terminal; a no-op otherwise."""
    if not enabled or not err_console.is_terminal:
        yield lambda done, total: None
        return
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                  console=err_console, transient=True) as progress:
        task = progress.add_task(label, total=None)
        yield lambda done, total: progress.update(task, completed=done, total=total)
