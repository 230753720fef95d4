"""The `jointwatch` command line: thin Typer commands over the library."""

from __future__ import annotations

import typer

from jointwatch import __version__
from jointwatch.cli import (
    alerts,
    console_users,
    discover,
    entity,
    lists,
    media,
    members,
    network,
    payments,
    requests,
    screen,
    serve,
    share,
    travel,
)
from jointwatch.cli.output import Commands

app = typer.Typer(
    name="jointwatch",
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


def _mount(commands: Commands) -> None:
    """Add a module's COMMANDS: the one way a command or group joins the CLI."""
    for name, target in commands:
        if isinstance(target, typer.Typer):
            app.add_typer(target, name=name)
        else:
            app.command(name)(target)


# Typer lists the commands first, then the groups, each in the order mounted here.
for module in (lists, entity, screen, alerts, members, share, discover, requests, travel, payments, network, media,
               console_users, serve):
    _mount(module.COMMANDS)


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
