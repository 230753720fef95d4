"""What every command shares: the store option, JSON output, errors as exit codes, progress."""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from jointwatch.cli.consoles import console as console  # re-exported: the commands print through it
from jointwatch.cli.consoles import err_console, print_message
from jointwatch.errors import JointwatchError
from jointwatch.jsonout import dumps
from jointwatch.screening import ListPolicy, OnStale, Screener, open_screener
from jointwatch.screening.freshness import DEFAULT_MAX_LIST_AGE_DAYS, MAX_LIST_AGE_DAYS
from jointwatch.store.members import Member, acting_member

DbOption = Annotated[
    str | None,
    typer.Option("--db", envvar="JOINTWATCH_DB", show_envvar=True,
                 help="Store: a SQLite file path or a database URL (postgresql://…). "
                      "Default: ./jointwatch.db"),
]
MemberOption = Annotated[str, typer.Option(
    "--member", "-m", envvar="JOINTWATCH_MEMBER", show_envvar=True,
    help="The member (partner) acting: name or number. The CLI sees and records what this member's "
         "API keys see and record. Default: the store's own member 'local', made on first use.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for machines instead of tables.")]
MaxListAgeOption = Annotated[float, typer.Option(
    "--max-list-age", envvar="JOINTWATCH_MAX_LIST_AGE", show_envvar=True, min=0, max=MAX_LIST_AGE_DAYS,
    metavar="DAYS",
    help="Refuse to screen (exit 9) when a list was last confirmed current longer ago than this "
         "(by a load or `lists update`); 0: no limit; at most 36500.")]
StaleListsOption = Annotated[OnStale, typer.Option(
    "--stale-lists", envvar="JOINTWATCH_STALE_LISTS", show_envvar=True, case_sensitive=False,
    help="With lists older than --max-list-age: refuse (exit 9) or warn and screen. "
         "With no list loaded screening always refuses.")]

T = TypeVar("T")


def print_json(data: Any) -> None:
    """Write ``data`` as indented JSON on standard output (``jointwatch.jsonout``: amounts as
    exact strings); the text is built whole before anything is written."""
    sys.stdout.write(dumps(data, indent=2) + "\n")


def fail(exc: JointwatchError, as_json: bool) -> typer.Exit:
    """Report an error (on stderr, or as a JSON object) and give the exit to raise."""
    if as_json:
        print_json({"error": type(exc).__name__, "message": str(exc), "exit_code": exc.exit_code})
    else:
        print_message("[bold red]error:[/]", exc)
    return typer.Exit(exc.exit_code)


P = ParamSpec("P")

# What each CLI module exposes as COMMANDS: (name, a command group or a command function), in the
# order `jointwatch --help` lists them; cli/__init__.py mounts them, the one way a command is added.
Commands = list[tuple[str, typer.Typer | Callable[..., None]]]


def handles_errors(command: Callable[P, T]) -> Callable[P, T]:
    """Make ``command`` a CLI command: a jointwatch error raised anywhere in its body becomes the
    message (or, with ``--json``, the JSON object) and the exit code that ``fail`` gives.

    Every command is decorated (tests/cli/test_cli_docs.py checks it), so a body calls the
    library directly and an error can never escape as a traceback. ``as_json`` is read from the
    command's own arguments, so a command without ``--json`` reports on stderr.
    """
    signature = inspect.signature(command)

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return command(*args, **kwargs)
        except JointwatchError as exc:
            as_json = signature.bind_partial(*args, **kwargs).arguments.get("as_json", False)
            raise fail(exc, bool(as_json)) from None

    wrapper.handles_errors = True  # type: ignore[attr-defined]
    return wrapper


def run(as_json: bool, action: Callable[[], T]) -> T:
    """Run a library call, turning jointwatch errors into a message and an exit code."""
    try:
        return action()
    except JointwatchError as exc:
        raise fail(exc, as_json) from None


def member_for(engine: Any, member: str, as_json: bool) -> Member:
    """The member this command acts as (``--member``), or exit 6 if there is no such member."""
    return run(as_json, lambda: acting_member(engine, member))


def screener_for(engine: Any, as_json: bool, threshold: float | None = None,
                 max_list_age: float = DEFAULT_MAX_LIST_AGE_DAYS,
                 stale_lists: OnStale = OnStale.refuse) -> Screener:
    """The screener of the store's newest lists, failing closed (exit 9) when they cannot be
    screened against; warnings about old lists go to stderr, where a person or a log sees them."""
    screener = run(as_json, lambda: open_screener(engine, threshold,
                                                  policy=ListPolicy(max_list_age, OnStale(stale_lists))))
    for warning in screener.warnings:
        err_console.print(f"[bold yellow]warning:[/] {escape(warning)}", highlight=False)
    return screener


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
