"""`jointwatch travel …`: passports (MRZ), passenger lists (PAXLST) and reservations (PNRGOV)."""

from __future__ import annotations

import typer

travel_app = typer.Typer(help="Screen travellers: passports, passenger lists and reservations.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add this area's command groups to the main CLI."""
    app.add_typer(travel_app, name="travel")
