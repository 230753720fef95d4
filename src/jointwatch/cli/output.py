"""What every command shares: the store option, JSON output, errors as exit codes, progress."""

from __future__ import annotations

import functools
import getpass
import inspect
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from jointwatch import settings
from jointwatch.cli.consoles import console as console  # re-exported: the commands print through it
from jointwatch.cli.consoles import err_console, print_message
from jointwatch.errors import JointwatchError, NotFoundError
from jointwatch.jsonout import dumps
from jointwatch.settings import Setting
from jointwatch.store import LOCAL_MEMBER, Member, acting_member, get_member


def setting_option(setting: Setting[Any], *aliases: str, **extra: Any) -> Any:
    """The Typer option of a declared setting (``jointwatch.settings``): its flag, its environment
    variable and its description, so that the command line, the docs and the library agree."""
    if setting.flag is None:
        raise ValueError(f"{setting.name} has no command-line flag")
    default = "" if setting.default in (None, ()) else f" Default: {setting.default}."
    return typer.Option(setting.flag, *aliases, envvar=setting.env, show_envvar=True, show_default=False,
                        help=setting.description + default, **extra)


DbOption = Annotated[str | None, setting_option(settings.DB)]
MemberOption = Annotated[str, setting_option(settings.MEMBER, "-m")]
UserOption = Annotated[str | None, setting_option(settings.USER, "-u")]
BirthDateOption = Annotated[str | None, typer.Option(
    "--birth-date", "--dob", help="Birth date: YYYY, YYYY-MM, YYYY-MM-DD or DD.MM.YYYY.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for machines instead of tables.")]

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


def default_user() -> str:
    """Who is acting when --user is not given: the login name, as a shell history would show it."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (a container's uid) and no LOGNAME/USER
        return "cli"


def member_for(engine: Any, member: str) -> Member:
    """The member this command acts as (``--member``): NotFoundError (exit 6) if there is no such
    member; the store's own ``local`` member is made on first use."""
    return acting_member(engine, member)


def reading_member_id(engine: Any, member: str) -> int | None:
    """The acting member's number for a command that only reads (screening applies its
    decisions): None while the store's own ``local`` member has not been made, so a read never
    writes; exit 6 for any other unknown member."""
    try:
        return get_member(engine, member).id
    except NotFoundError:
        if member == LOCAL_MEMBER:
            return None
        raise


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
