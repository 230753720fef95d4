"""`jointwatch media …`: the shared bank of hashes of terrorist media."""

from __future__ import annotations

import typer

media_app = typer.Typer(help="The hash bank of known terrorist media: hash, match, exchange.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add this area's command groups to the main CLI."""
    app.add_typer(media_app, name="media")
