"""`jointwatch share export` and `share import`: partner entries as FtM JSON lines or STIX 2.1
bundles, for other tools and other agencies (mounted on `share` by cli/share.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from jointwatch.cli.output import (
    DbOption,
    JsonOption,
    MemberOption,
    UserOption,
    console,
    default_user,
    err_console,
    handles_errors,
    member_for,
    print_json,
)
from jointwatch.cli.share import DistributionOption, GroupOption, ToOption, _audience
from jointwatch.errors import InvalidInputError
from jointwatch.releasability import HANDLING_CODES, TLP_LEVELS, handling_codes, tlp_level
from jointwatch.sharing import (
    FORMATS,
    MAX_IMPORT_BYTES,
    ImportChoice,
    exportable,
    ftm_lines,
    import_items,
    note_export,
    read_ftm_lines,
    read_stix_bundle,
    stix_bundle,
)
from jointwatch.store import LOCAL_MEMBER, open_engine

ImportTlpOption = Annotated[str | None, typer.Option(
    "--tlp", help=f"TLP marking of every imported entry: {', '.join(TLP_LEVELS)}. Default: each record's own "
                  "(its strictest TLP marking; amber if it has none).")]
ImportHandlingOption = Annotated[list[str] | None, typer.Option(
    "--handling", help=f"A handling code for every imported entry: {', '.join(HANDLING_CODES)}; repeatable. "
                       "Default: each record's own.")]
FormatOption = Annotated[str, typer.Option(
    "--format", "-F", help="ftm: FollowTheMoney JSON lines, one entry a line; stix: one STIX 2.1 bundle.")]


def _format(value: str) -> str:
    value = value.strip().lower()
    if value not in FORMATS:
        raise InvalidInputError(f"--format {value!r} is not one of {', '.join(FORMATS)}")
    return value


@handles_errors
def share_export(
    output: Annotated[Path, typer.Option("--output", "-o", help="The file to write ('-' for standard output).")],
    fmt: FormatOption = "ftm",
    mine: Annotated[bool, typer.Option("--mine", help="Only your member's own entries.")] = False,
    member: MemberOption = LOCAL_MEMBER,
    user: UserOption = None,
    db: DbOption = None,
) -> None:
    """Write the partner entries you may pass on, withdrawn ones marked so, as FtM JSON lines or a STIX bundle.

    Exported: your own entries and the others' you see at TLP clear, green or amber without
    'no-further-dissemination' (TLP:RED, AMBER+STRICT and those stay here). Each export is put on
    every entry's trail, so its originator sees where it went."""
    fmt = _format(fmt)
    engine = open_engine(db)
    member_id = member_for(engine, member).id
    entries = exportable(engine, member_id, mine_only=mine)
    text = stix_bundle(entries) if fmt == "stix" else "".join(ftm_lines(entries))
    if str(output) == "-":
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
    note_export(engine, entries, member_id, user or default_user(), f"{fmt} file")
    if str(output) != "-":
        err_console.print(f"{len(entries)} entries written to {escape(str(output))} ({fmt})")


@handles_errors
def share_import(
    file: Annotated[Path, typer.Argument(help="An FtM JSON lines file or a STIX 2.1 bundle.")],
    fmt: Annotated[str | None, typer.Option(
        "--format", "-F", help="ftm or stix. Default: stix for a file that starts as a STIX bundle "
                               "(its type or its id first), else ftm.")] = None,
    distribution: DistributionOption = None,
    to: ToOption = None,
    group: GroupOption = None,
    tlp: ImportTlpOption = None,
    handling: ImportHandlingOption = None,
    reason: Annotated[str | None, typer.Option(
        "--reason", help="Why you share them, the legal basis. Default: each record's own reason.")] = None,
    member: MemberOption = LOCAL_MEMBER,
    user: UserOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import entries from another tool or agency as your member's own partner entries.

    You become their originator and choose who sees them (--distribution, --to, --group;
    default: your member alone), their TLP (default: each record's marking) and handling codes
    (default: each record's). The original originator and reference go into each entry's
    history. Importing the same file again changes nothing; a changed record makes a new
    version; a record withdrawn at its source withdraws the entry. Everything is checked first:
    a bad record (exit 7, naming the line or object) stores nothing."""
    engine = open_engine(db)
    member_id = member_for(engine, member).id
    try:
        with file.open("rb") as handle:
            data = handle.read(MAX_IMPORT_BYTES + 1)
    except OSError as error:
        raise InvalidInputError(f"{file}: cannot be read ({error.strerror})") from None
    if fmt is None:
        head = b"".join(data[:400].split())
        fmt = "stix" if head.startswith((b'{"type":"bundle"', b'{"id":"bundle--')) else "ftm"
    fmt = _format(fmt)
    implied, audience = _audience(engine, to, group)
    chosen = (distribution or implied or "originator").strip().lower()
    if implied and chosen != implied:
        raise InvalidInputError(f"--distribution {chosen}: --to means members, --group means group")
    choice = ImportChoice(chosen, audience, tlp_level(tlp) if tlp else None,
                          handling_codes(handling) if handling is not None else None, reason)
    if fmt == "stix":
        items, skipped = read_stix_bundle(data, file.name)
    else:
        items, skipped = read_ftm_lines(data, file.name), {}
    report = import_items(engine, member_id, user or default_user(), items, choice, file.name)
    for kind, count in skipped.items():
        report.skipped[f"STIX {kind}"] = count
    if as_json:
        print_json(report.to_dict())
        return
    console.print(f"{len(report.added)} added, {len(report.updated)} updated, {len(report.withdrawn)} withdrawn, "
                  f"{report.unchanged} unchanged")
    for why, count in sorted(report.skipped.items()):
        console.print(f"  skipped {count}: {escape(why)}")
