"""`jointwatch travel …`: passports (MRZ), passenger lists (PAXLST) and reservations (PNRGOV)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.text import Text

from jointwatch.cli.consoles import DataTable, print_message
from jointwatch.cli.output import (
    Commands,
    DbOption,
    JsonOption,
    MemberOption,
    console,
    err_console,
    handles_errors,
    member_for,
    print_json,
    reading_member_id,
)
from jointwatch.cli.screening_options import MaxListAgeOption, StaleListsOption, screener_for
from jointwatch.errors import ATTENTION_EXIT, most_serious_exit
from jointwatch.screening import DEFAULT_MAX_LIST_AGE_DAYS, OnStale
from jointwatch.store import LOCAL_MEMBER, document_sources, find_documents, load_documents, open_engine
from jointwatch.travel import (
    FORMATS,
    MRZ,
    ManifestResult,
    carrier_reply,
    file_traveller_alerts,
    parse_mrz,
    read_document_file,
    read_travel_files,
    result_record,
    screen_manifest,
)

travel_app = typer.Typer(help="Screen travellers: passports, passenger lists and reservations.", no_args_is_help=True)
travel_documents_app = typer.Typer(help="Lost, stolen and revoked travel documents.", no_args_is_help=True)
travel_app.add_typer(travel_documents_app, name="documents")

STATUS_STYLE = {"clear": "green", "refer": "yellow", "hit": "bold red"}


def _print_result(result: ManifestResult, show_clear: bool) -> None:
    manifest = result.manifest
    flights = ", ".join(f"{f.carrier}{f.number} {f.departure_airport}→{f.arrival_airport}"
                        f"{' ' + f.departure.strftime('%Y-%m-%d %H:%M') if f.departure else ''}"
                        for f in manifest.flights[:4])
    counts = result.counts()
    console.print(f"[bold]{escape(manifest.source)}[/] {manifest.format} {manifest.kind}: "
                  f"{escape(flights or 'no flight')}; "
                  f"{len(result.results)} travellers: [red]{counts['hit']} hit[/], [yellow]{counts['refer']} refer[/], "
                  f"[green]{counts['clear']} clear[/] ({result.seconds:.2f} s)", highlight=False)
    for warning in manifest.warnings:
        print_message("[dim]warning:[/]", warning)
    for problem in manifest.problems:
        print_message("[yellow]problem:[/]", f"{problem.location}: {problem.reason}")
    rows = [r for r in result.results if show_clear or r.status != "clear"]
    if not rows:
        return
    table = DataTable(show_lines=True)
    for column in ("#", "status", "traveller", "birth", "nationality", "documents", "why"):
        table.add_column(column, overflow="fold")
    for r in rows:
        t = r.traveller
        table.add_row(str(t.index), Text(r.status, style=STATUS_STYLE[r.status]),
                      f"{t.name} ({t.role})", t.birth_date.isoformat() if t.birth_date else "", t.nationality,
                      ", ".join(f"{d.type} {d.number} {d.issuing_country}".strip() for d in t.documents),
                      "\n".join(reason.detail for reason in r.reasons) or "")
    console.print(table)


@travel_app.command("screen")
@handles_errors
def travel_screen(
    files: Annotated[list[Path], typer.Argument(help="Passenger lists, reservations, MRZ files or CSV.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help=f"One of {', '.join(FORMATS)}.")] = "auto",
    threshold: Annotated[float | None, typer.Option("--threshold", "-t", min=0.0, max=1.0,
                                                    help="Name-match threshold (default: the screening default).")]
    = None,
    reply: Annotated[Path | None, typer.Option(
        "--reply", help="Write the CUSRES answer to the passenger lists (board / refer per traveller) here.")] = None,
    show_clear: Annotated[bool, typer.Option("--all", help="List cleared travellers too.")] = False,
    max_list_age: MaxListAgeOption = DEFAULT_MAX_LIST_AGE_DAYS,
    stale_lists: StaleListsOption = OnStale.refuse,
    member: MemberOption = LOCAL_MEMBER,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Screen every traveller of passenger lists (PAXLST), reservations (PNRGOV), MRZ zones or a CSV.

    Each traveller is screened by name, birth date, nationality and documents against the
    newest version of every loaded list, and its documents are checked against the loaded
    lost/stolen documents. Status: hit (a listed document, a reported document, or listed
    name with the same birth date), refer (another match, a failed check digit, unreadable
    data) or clear. Never a denial: the reply tells the carrier to board or to contact the
    government. A file that cannot be read to its end (a broken envelope, text after UNZ) is
    reported with the place and the reason, none of its travellers is screened or answered, and
    the other files are; a bad traveller is reported with its segment number and the rest of its
    file is screened. Exit: the most serious of 9 cannot screen, 7 a file refused, 8 a traveller
    referred or hit, 0 every traveller of every file clear.
    """
    engine = open_engine(db)
    member_id = reading_member_id(engine, member)  # its decisions apply, and the partner entries released to it
    manifests, rejected = read_travel_files(files, fmt)
    screener = screener_for(engine, threshold, max_list_age, stale_lists)
    results = [screen_manifest(m, screener, lambda numbers: find_documents(engine, numbers), threshold, member_id)
               for m in manifests]
    answer = carrier_reply(results) if reply is not None else None
    if reply is not None and answer is not None:
        reply.write_text(answer, encoding="utf-8")
    elif reply is not None:
        # a reply left by an earlier run must not be sent as the answer to these files
        reply.unlink(missing_ok=True)
    attention = any(r.status != "clear" for result in results for r in result.results)
    # a referred or hit traveller's listed matches go to the member's alerts queue (`jointwatch alerts list`)
    filed = file_traveller_alerts(engine, member_for(engine, member).id, results) if attention else []
    exit_code = most_serious_exit([ATTENTION_EXIT if attention else 0, *(f.exit_code for f in rejected)])
    if as_json:
        print_json({"manifests": [result_record(r) for r in results],
                    "rejected": [f.to_dict() for f in rejected], "exit_code": exit_code})
    else:
        for result in results:
            _print_result(result, show_clear)
        if filed:
            console.print(f"{len(filed)} alerts filed: jointwatch alerts list --origin traveller")
        if reply is not None:
            console.print(f"reply to the carrier → {escape(str(reply))}" if answer
                          else f"no passenger list: no reply (nothing left at {escape(str(reply))})", highlight=False)
    for bad in rejected:    # last, where a person sees them, and on stderr for a script's log
        where = f"{bad.source}, {bad.location}" if bad.location else bad.source
        err_console.print(f"[bold red]refused:[/] {escape(where)}: {escape(bad.reason)} "
                          "(none of its travellers screened or answered)", highlight=False)
    if exit_code:
        raise typer.Exit(exit_code)


def _print_mrz(mrz: MRZ) -> None:
    table = DataTable(title=f"{mrz.layout} document", show_header=False)
    for label, value in (("document", f"{mrz.document_code} {mrz.document_number}"),
                         ("issuing state", mrz.issuing_state),
                         ("surname", mrz.surname), ("given names", mrz.given_names),
                         ("nationality", mrz.nationality), ("birth date", str(mrz.birth_date or "")),
                         ("sex", mrz.sex or ""), ("expiry", str(mrz.expiry or "")),
                         ("optional data", mrz.optional_data)):
        table.add_row(label, value)
    console.print(table)
    if mrz.valid:
        console.print("[green]every check digit is right[/]")
    for problem in mrz.failed:
        print_message("[bold red]failed:[/]", f"{problem.location}: {problem.reason}", stderr=False)


@travel_app.command("mrz")
@handles_errors
def travel_mrz(
    lines: Annotated[list[str], typer.Argument(help="The zone's lines (2 or 3), as printed on the document.")],
    as_json: JsonOption = False,
) -> None:
    """Read a passport, identity card or visa MRZ and verify every check digit.

    Exit code 0 when every check digit is right, 7 when one fails or the zone is malformed.
    """
    mrz = parse_mrz(lines, "MRZ")
    if as_json:
        print_json(mrz)
    else:
        _print_mrz(mrz)
    if not mrz.valid:
        raise typer.Exit(7)


@travel_documents_app.command("load")
@handles_errors
def travel_documents_load(
    path: Annotated[Path, typer.Argument(help="CSV: number, issuing_country[, type, status, reported].")],
    source: Annotated[str, typer.Option("--source", "-s", help="Whose register this is, e.g. 'nl-sltd'.")] = "local",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Load a register of lost, stolen or revoked documents, replacing that source's previous one.

    The file is read whole first: a bad row (named by its line) loads nothing.
    """
    engine = open_engine(db)
    documents = read_document_file(path)
    held = load_documents(engine, source, documents)
    if as_json:
        print_json({"source": source, "documents": held})
    else:
        console.print(f"{held:,} documents held for source {escape(repr(source))}", highlight=False)


@travel_documents_app.command("list")
@handles_errors
def travel_documents_list(db: DbOption = None, as_json: JsonOption = False) -> None:
    """How many reported documents each source holds."""
    engine = open_engine(db)
    sources = document_sources(engine)
    if as_json:
        print_json(sources)
        return
    table = DataTable("source", "documents")
    for name, count in sources.items():
        table.add_row(name, f"{count:,}")
    console.print(table)


COMMANDS: Commands = [("travel", travel_app)]
