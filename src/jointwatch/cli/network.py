"""`jointwatch network …`: tracing who finances a designated group."""

from __future__ import annotations

import typer

network_app = typer.Typer(help="Trace terrorist financing through transactions (DuckDB or Spark).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add this area's command groups to the main CLI."""
    app.add_typer(network_app, name="network")
