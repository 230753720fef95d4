"""`jointwatch lists …`: load, update, show and compare versions of the sanctions lists."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.text import Text
from sqlalchemy import Engine

from jointwatch.cli.consoles import DataTable, print_message
from jointwatch.cli.output import (
    Commands,
    DbOption,
    JsonOption,
    byte_progress,
    console,
    err_console,
    handles_errors,
    print_json,
    record_progress,
)
from jointwatch.errors import FetchError
from jointwatch.sources import FORMATS, open_list
from jointwatch.store import (
    LoadResult,
    diff_versions,
    discard_new_store,
    list_versions_of,
    load_list,
    open_engine,
    store_exists,
)

lists_app = typer.Typer(help="Load official and partner lists, keep their history, compare versions.",
                  no_args_is_help=True)

FORMAT_HELP = "List format: " + ", ".join(f"{name} ({spec.title})" for name, spec in FORMATS.items())


def _report_load(result: LoadResult) -> None:
    if result.created:
        counts = ", ".join(f"{n:,} {schema}" for schema, n in sorted(result.schema_counts.items()))
        console.print(f"[green]loaded[/] {escape(result.source)} version [bold]{escape(result.version)}[/] "
                      f"(published {result.published}): {result.entities:,} entities ({counts}), "
                      f"{result.statements:,} statements")
    else:
        console.print(f"[yellow]unchanged[/] {escape(result.source)}: this file is version "
                      f"[bold]{escape(result.version)}[/], already loaded; nothing written")


@lists_app.command("load")
@handles_errors
def lists_load(
    path: Annotated[Path, typer.Argument(help="The list file (or OFAC folder with sdn/alt/add).")],
    format: Annotated[str, typer.Option("--format", "-f", help=FORMAT_HELP)],
    source: Annotated[str | None, typer.Option(help="Source name; required for partner lists (csv, ftm).")] = None,
    workers: Annotated[int | None, typer.Option(
        min=1, help="Processes reading a large FtM file side by side (default: one a core).")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Load one list file into the store as a new version of its source.

    The whole file is loaded in one transaction: a malformed or hostile file changes
    nothing. Loading a file already loaded creates no new version.
    """
    parsed = open_list(path, format, source)
    existed = store_exists(db)
    engine = open_engine(db, create=True)
    try:
        with record_progress(f"loading {parsed.source}", not as_json) as progress:
            # this command runs nothing else: its workers may fork beside the progress bar's thread
            result = load_list(engine, parsed, progress, workers=workers, fork_with_threads=True)
    except BaseException:
        if not existed:
            discard_new_store(engine)  # a failed first load leaves no empty store behind
        raise
    print_json(result) if as_json else _report_load(result)


@lists_app.command("update")
@handles_errors
def lists_update(
    source: Annotated[list[str] | None, typer.Option("--source", "-s", help="Only these sources (repeatable).")] = None,
    from_dir: Annotated[Path | None, typer.Option(
        "--from", help="Take the files from this folder instead of downloading.")] = None,
    cache: Annotated[Path | None, typer.Option(
        help="Download cache (default $JOINTWATCH_CACHE or ~/.cache/jointwatch).")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Download the official lists (UN, OFAC SDN and non-SDN, EU, UK) and load new versions.

    Downloads are conditional (ETag / Last-Modified): an unchanged list is neither downloaded
    nor loaded again. A source that fails is reported; the others are still updated, and the
    exit code is non-zero.
    """
    from jointwatch.errors import JointwatchError
    from jointwatch.sources import default_cache_dir, fetch_source, local_source, official_sources

    entries = official_sources()
    if source:
        unknown = set(source) - {e.source for e in entries}
        if unknown:
            message = (f"unknown source(s): {', '.join(sorted(unknown))}; "
                       f"known: {', '.join(e.source for e in entries)}")
            if as_json:
                print_json({"error": "UsageError", "message": message, "exit_code": 2})
            else:
                print_message("[bold red]error:[/]", message)
            raise typer.Exit(2)
        entries = [e for e in entries if e.source in source]
    existed = store_exists(db)
    engine: Engine | None = None  # opened (and so created) only once a list is at hand
    cache_dir = cache or default_cache_dir()
    outcomes: list[dict[str, object]] = []
    exit_code = 0
    download_failed = False
    for entry in entries:
        if from_dir is None and entry.skip_reason:
            outcomes.append({"source": entry.source, "status": "skipped", "message": entry.skip_reason})
            if not as_json:
                print_message("[yellow]skipped[/]", entry.skip_reason)
            continue
        try:
            if from_dir is not None:
                try:
                    fetched = local_source(entry, from_dir)
                except FetchError as exc:
                    if source:  # asked for by name: its absence is an error
                        raise
                    # a folder need not hold every list; an old list left in the store is refused
                    # at screening time by its age (--max-list-age), never silently used
                    outcomes.append({"source": entry.source, "status": "not_in_folder", "message": str(exc)})
                    if not as_json:
                        err_console.print(f"[yellow]not in {escape(str(from_dir))}[/] {escape(entry.source)}",
                                          highlight=False)
                    continue
            else:
                with byte_progress(f"downloading {entry.source}", not as_json) as progress:
                    fetched = fetch_source(entry, cache_dir, progress=progress)
            parsed = open_list(fetched.path, fetched.format, entry.source)
            engine = engine or open_engine(db, create=True)
            with record_progress(f"loading {entry.source}", not as_json) as progress:
                result = load_list(engine, parsed, progress)
        except JointwatchError as exc:
            download_failed = download_failed or isinstance(exc, FetchError)
            exit_code = max(exit_code, exc.exit_code)
            outcomes.append({"source": entry.source, "status": "failed", "message": str(exc)})
            if not as_json:
                print_message("[bold red]failed[/]", exc)
            continue
        outcomes.append({"source": entry.source, "status": "loaded" if result.created else "unchanged",
                         "result": result})
        if not as_json:
            _report_load(result)
    if engine is not None and not existed and not any(o["status"] in ("loaded", "unchanged") for o in outcomes):
        discard_new_store(engine)  # nothing could be loaded: leave no empty store that would screen as clear
    if download_failed and from_dir is None:
        hint = ("next step: without network, put the list files in a folder (any names: they are recognised by "
                "their content) and run `jointwatch lists update --from DIR`, or load one file with "
                "`jointwatch lists load FILE --format FORMAT` (docs/official-lists.md)")
        outcomes.append({"status": "hint", "message": hint})
        if not as_json:
            err_console.print(hint, highlight=False, markup=False)
    if as_json:
        print_json(outcomes)
    raise typer.Exit(exit_code)


@handles_errors
def init(
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create an empty store (or bring an existing one to the newest schema).

    Only `init`, `lists load` and `lists update` create a store: every other command
    refuses a path where there is none (exit 4), so a mistyped --db is an error, not a new
    empty store. Screening an empty store refuses too (exit 9) until lists are loaded.
    """
    existed = store_exists(db)
    engine = open_engine(db, create=True)
    outcome = {"store": engine.url.render_as_string(hide_password=True), "created": not existed}
    if as_json:
        print_json(outcome)
    else:
        verb = "created" if not existed else "up to date:"
        console.print(f"{verb} store {outcome['store']}; load lists with `jointwatch lists update` "
                      "or `jointwatch lists load`", highlight=False, markup=False)


@lists_app.command("show")
@handles_errors
def lists_show(
    source: Annotated[str | None, typer.Argument(help="Only this source.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the sources in the store, their versions and what each version holds."""
    versions = list_versions_of(open_engine(db), source)
    if as_json:
        print_json(versions)
        return
    if not versions:
        console.print("The store holds no lists yet: try [bold]jointwatch lists update[/] "
                      "or [bold]jointwatch lists load FILE --format …[/]")
        return
    table = DataTable(title="Lists in the store")
    for column in ("source", "version", "published", "format", "entities", "by schema", "statements", "loaded"):
        table.add_column(column, justify="right" if column in ("entities", "statements") else "left")
    for v in versions:
        by_schema = ", ".join(f"{schema} {n:,}" for schema, n in sorted(v.schema_counts.items()))
        table.add_row(v.source, v.version, v.published.isoformat(), v.format, f"{v.entities:,}",
                      by_schema, f"{v.statements:,}", v.loaded_at.strftime("%Y-%m-%d %H:%M"))
    console.print(table)


@lists_app.command("diff")
@handles_errors
def lists_diff(
    source: Annotated[str, typer.Argument(help="Source to compare, e.g. us_ofac_sdn.")],
    from_version: Annotated[str | None, typer.Option(
        "--from", help="Older version (label, prefix or date); default: the one before --to.")] = None,
    to_version: Annotated[str | None, typer.Option("--to", help="Newer version; default: the newest.")] = None,
    limit: Annotated[int, typer.Option(
        help="Show at most this many entities per section in tables (JSON is complete).")] = 50,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show the entities added, removed and changed between two versions of a list."""
    diff = diff_versions(open_engine(db), source, from_version, to_version)
    if as_json:
        print_json(diff)
        return
    console.print(f"[bold]{escape(diff.source)}[/]: {escape(diff.from_version)} → {escape(diff.to_version)}: "
                  f"[green]{len(diff.added)} added[/], [red]{len(diff.removed)} removed[/], "
                  f"[yellow]{len(diff.changed)} changed[/]")
    for title, changes, colour in (("added", diff.added, "green"), ("removed", diff.removed, "red"),
                                   ("changed", diff.changed, "yellow")):
        if not changes:
            continue
        table = DataTable(title=f"{title} ({len(changes)})", title_style=colour, show_lines=title == "changed")
        table.add_column("reference")
        table.add_column("schema")
        table.add_column("name")
        if title == "changed":
            table.add_column("changes")
        for change in changes[:limit]:
            row: list[str | Text] = [change.reference, change.schema, change.name]
            if title == "changed":
                lines = []  # the values are the list's text: styled as a whole, never read as markup
                for fc in change.changes:
                    lines += [Text(f"- {fc.field}: {v}", style="red") for v in fc.removed]
                    lines += [Text(f"+ {fc.field}: {v}", style="green") for v in fc.added]
                row.append(Text("\n").join(lines))
            table.add_row(*row)
        console.print(table)
        if len(changes) > limit:
            console.print(f"… and {len(changes) - limit} more (use --limit or --json)")


COMMANDS: Commands = [("init", init), ("lists", lists_app)]
