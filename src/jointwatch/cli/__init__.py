"""The `jointwatch` command line: thin Typer commands over the library.

The command modules are imported when their command runs, not at start-up: `jointwatch lists
load` imports the lists commands (the store and the list parsers) and not the service, the
media, network, payments or sharing code, and `jointwatch --help` imports none of them (it
shows the one-paragraph summaries kept in ``cli/summaries.py``, written from the commands by
``python -m jointwatch.cli.docs``, which checks them too). tests/cli/test_lazy_cli.py holds
both to it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperCommand, TyperGroup

from jointwatch import __version__
from jointwatch.cli.summaries import TOP_LEVEL

if TYPE_CHECKING:
    from typer._click import Command, Context, HelpFormatter  # Typer's own copy of click's classes

    from jointwatch.cli.output import Commands

# The command modules, in the order `jointwatch --help` lists what they add (Typer lists the
# commands first, then the groups, each in this order); each exposes COMMANDS.
MODULES = ("lists", "entity", "screen", "alerts", "members", "share", "discover", "requests", "travel", "payments",
           "network", "media", "console_users", "serve")


def _mount(app: typer.Typer, commands: Commands) -> None:
    """Add a module's COMMANDS to ``app``: the one way a command or group joins the CLI."""
    for name, target in commands:
        if isinstance(target, typer.Typer):
            app.add_typer(target, name=name)
        else:
            app.command(name)(target)


def module_commands(modules: tuple[str, ...], like: typer.Typer) -> dict[str, Command]:
    """The click commands and groups that these modules of jointwatch.cli add, built as Typer
    builds them under ``like`` (its markup mode and error settings), in ``--help``'s order."""
    holder = typer.Typer(rich_markup_mode=like.rich_markup_mode, pretty_exceptions_short=like.pretty_exceptions_short,
                         suggest_commands=like.suggest_commands)
    for module in modules:
        _mount(holder, importlib.import_module(f"jointwatch.cli.{module}").COMMANDS)
    return dict(typer.main.get_group(holder).commands)


class _LazyCommands(MutableMapping[str, "Command"]):
    """The top-level commands by name, each module imported when one of its commands is first
    looked up. Iterating gives the names (from the summaries) without importing anything;
    ``values()`` and ``items()`` look every command up, so they import every module."""

    def __init__(self, load: Callable[[str], dict[str, Command]]) -> None:
        self._modules = {name: module for name, module, _ in TOP_LEVEL}
        self._loaded: dict[str, Command] = {}
        self._load = load

    def __getitem__(self, name: str) -> Command:
        if name not in self._loaded:
            if name not in self._modules:
                raise KeyError(name)
            for loaded_name, command in self._load(self._modules[name]).items():
                self._loaded.setdefault(loaded_name, command)
        return self._loaded[name]

    def __setitem__(self, name: str, command: Command) -> None:
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        self._modules.pop(name, None)
        self._loaded.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        yield from self._modules
        yield from (name for name in self._loaded if name not in self._modules)

    def __len__(self) -> int:
        return len(self._modules.keys() | self._loaded.keys())


class _Summary(TyperCommand):
    """What the top-level help shows of a command not imported: its name and first paragraph."""


class LazyGroup(TyperGroup):
    """The `jointwatch` group: its commands come from their modules on first use (see above)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        held: Mapping[str, Command] = self.commands
        self.commands = _LazyCommands(lambda module: module_commands((module,), app))
        self.commands.update(held)
        self._summaries_only = False

    def list_commands(self, ctx: Context) -> list[str]:
        return list(self.commands)  # the names alone (TyperGroup's own looks every command up)

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        if self._summaries_only and cmd_name in SUMMARIES:
            return _Summary(cmd_name, help=SUMMARIES[cmd_name])
        return super().get_command(ctx, cmd_name)

    def format_help(self, ctx: Context, formatter: HelpFormatter) -> None:
        self._summaries_only = True  # the list of commands shows summaries: no module is imported
        try:
            super().format_help(ctx, formatter)
        finally:
            self._summaries_only = False


SUMMARIES = {name: summary for name, _, summary in TOP_LEVEL}

app = typer.Typer(
    name="jointwatch",
    cls=LazyGroup,
    help="Screening and information sharing against the official terrorist and sanctions lists.\n\n"
         "Exit codes (docs/errors.md): 0 done, 1 unexpected error, 2 bad command line, 3 bad list file, "
         "4 the store refused (a conflict with what it holds) or failed, 5 download error, 6 not found, "
         "7 invalid input (a value, a subject or an input file), "
         "8 done and a person must look (a traveller referred, a payment held), "
         "9 cannot screen (no list loaded, a list older than --max-list-age): never read as clear, "
         "10 an optional extra is not installed.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"jointwatch {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """Screening and information sharing against the official terrorist and sanctions lists."""


def main() -> None:
    """Entry point of the `jointwatch` script."""
    app()


__all__ = ["app", "main"]
