"""`jointwatch payments …`, `customers …`, `freeze …`: payments, customer files and frozen assets."""

from __future__ import annotations

import typer

payments_app = typer.Typer(help="Screen payment messages (pacs.008, pain.001, MT103).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add this area's command groups to the main CLI."""
    app.add_typer(payments_app, name="payments")
