"""`jointwatch entity …`: one listed entity with every statement and its provenance."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from jointwatch.cli.consoles import DataTable
from jointwatch.cli.output import Commands, DbOption, JsonOption, console, handles_errors, print_json
from jointwatch.store import open_engine, show_entity

entity_app = typer.Typer(help="Look at listed entities.", no_args_is_help=True)


@entity_app.command("show")
@handles_errors
def entity_show(
    reference: Annotated[str, typer.Argument(help="The list's reference (QDi.354, 6931) or an entity id.")],
    source: Annotated[str | None, typer.Option(help="Only this source.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show every statement about a listed entity: value, source, reference, first and last seen."""
    views = show_entity(open_engine(db), reference, source)
    if as_json:
        print_json([{
            "source": v.source, "reference": v.reference, "entity_id": v.entity_id, "schema": v.schema,
            "caption": v.caption, "listed_now": v.listed_now,
            "entities": [e.to_dict() for e in v.entities()], "statements": v.statements,
        } for v in views])
        return
    for v in views:
        status = "[green]listed in the newest version[/]" if v.listed_now else "[red]no longer listed[/]"
        console.print(f"[bold]{escape(v.caption)}[/] — {v.schema}, {escape(v.source)} reference "
                      f"[bold]{escape(v.reference)}[/] ({escape(v.entity_id)}), {status}", highlight=False)
        table = DataTable(show_lines=False)
        for column in ("entity", "property", "value", "as written", "first seen", "last seen", "now"):
            table.add_column(column, overflow="fold")
        for s in v.statements:
            entity = "" if s.entity_id == v.entity_id else f"{s.schema}"
            table.add_row(entity, s.prop, s.value, s.original_value or "", s.first_seen.isoformat(),
                          s.last_seen.isoformat(), "yes" if s.current else "no")
        console.print(table)


COMMANDS: Commands = [("entity", entity_app)]
