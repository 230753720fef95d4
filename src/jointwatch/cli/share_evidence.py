"""`jointwatch share evidence …`: files attached to partner entries (documents, photographs, imagery)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from jointwatch import settings as S
from jointwatch.cli.consoles import DataTable
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
    setting_option,
)
from jointwatch.errors import InvalidInputError
from jointwatch.sharing import EvidenceView, add_evidence, get_evidence, list_evidence, withdraw_evidence
from jointwatch.store import LOCAL_MEMBER, StoredEvidence, open_engine

evidence_app = typer.Typer(
    help="Evidence files of partner entries: documents, photographs, satellite or aerial imagery. Each is kept "
         "by its SHA-256 with who added it, when and from where, under the entry's TLP or a stricter one; an "
         "image keeps where and when it was taken (EXIF GPS, GeoTIFF tags or a world file).",
    no_args_is_help=True)

RefArgument = Annotated[str, typer.Argument(help="The entry's reference (sh-…).")]
EvidenceArgument = Annotated[str, typer.Argument(help="The evidence file's reference (ev-…).")]


def _read(path: Path, what: str, limit: int) -> bytes:
    try:
        if path.stat().st_size > limit:
            raise InvalidInputError(f"{what}: {path}: {path.stat().st_size:,} bytes is over the limit of {limit:,}")
        return path.read_bytes()
    except OSError as exc:
        raise InvalidInputError(f"{what}: {path}: cannot read ({exc.strerror or exc})") from None


def _json(view: EvidenceView) -> dict[str, Any]:
    e: StoredEvidence = view.evidence
    return {"ref": e.ref, "entry_ref": view.entry_ref, "filename": e.filename, "media_type": e.media_type,
            "size": e.size, "sha256": e.sha256, "tlp": e.tlp, "description": e.description, "status": e.status,
            "member_id": e.member_id, "user": e.user, "origin": e.origin, "added_at": e.added_at,
            "captured_at": e.captured_at, "latitude": e.latitude, "longitude": e.longitude, "mine": view.mine}


def _place(e: StoredEvidence) -> str:
    return f"{e.latitude:.6f}, {e.longitude:.6f}" if e.latitude is not None and e.longitude is not None else ""


@evidence_app.command("add")
@handles_errors
def share_evidence_add(
    ref: RefArgument,
    file: Annotated[Path, typer.Argument(help="The file: JPEG, PNG, TIFF (GeoTIFF), WebP, PDF or UTF-8 text.")],
    world_file: Annotated[Path | None, typer.Option(
        "--world-file", help="The image's world file (.tfw, .jgw, .pgw), in a geographic CRS (degrees).")] = None,
    tlp: Annotated[str | None, typer.Option(
        "--tlp", help="The file's TLP: the entry's (default) or stricter.")] = None,
    description: Annotated[str, typer.Option("--description", help="What the file shows, where it comes from.")] = "",
    max_evidence_bytes: Annotated[int, setting_option(S.MAX_EVIDENCE_BYTES, min=1)] = S.MAX_EVIDENCE_BYTES.default,
    member: MemberOption = LOCAL_MEMBER,
    user: UserOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Attach a file to your entry; print its reference (ev-…).

    The type is read from the file's bytes, not its name: HTML, SVG, scripts, executables, Office
    files, archives and PDFs with active content are refused (exit 7), as are decompression bombs
    and files over the size limit. Only the entry's originator adds evidence (exit 4)."""
    engine = open_engine(db)
    content = _read(file, "FILE", max_evidence_bytes)
    side = _read(world_file, "--world-file", 4096) if world_file is not None else None
    stored = add_evidence(engine, ref, member_for(engine, member).id, user or default_user(), file.name, content,
                          tlp, description, f"cli {file}", side, max_bytes=max_evidence_bytes)
    if as_json:
        print_json(_json(EvidenceView(stored, ref, True)))
        return
    err_console.print(f"added {escape(stored.filename)} ({stored.media_type}, TLP:{stored.tlp.upper()}"
                      f"{', at ' + _place(stored) if _place(stored) else ''}):", highlight=False)
    typer.echo(stored.ref)


@evidence_app.command("list")
@handles_errors
def share_evidence_list(
    ref: RefArgument,
    member: MemberOption = LOCAL_MEMBER,
    user: UserOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show the entry's evidence files your member may see (exit 6 for an entry it may not see)."""
    engine = open_engine(db)
    views = list_evidence(engine, ref, member_for(engine, member).id, user or default_user())
    if as_json:
        print_json([_json(v) for v in views])
        return
    if not views:
        console.print("No evidence files.")
        return
    table = DataTable()
    for column in ("ref", "file", "type", "size", "tlp", "status", "added", "by", "captured", "place"):
        table.add_column(column, overflow="fold")
    for v in views:
        e = v.evidence
        table.add_row(e.ref, e.filename, e.media_type, f"{e.size:,}", e.tlp, e.status,
                      e.added_at.isoformat(timespec="seconds"), e.user,
                      e.captured_at.isoformat(timespec="seconds") if e.captured_at else "", _place(e))
    console.print(table)


@evidence_app.command("get")
@handles_errors
def share_evidence_get(
    evidence_ref: EvidenceArgument,
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the file's bytes.")],
    member: MemberOption = LOCAL_MEMBER,
    user: UserOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write an evidence file's bytes to --output and show its record (chain of custody, capture time and place)."""
    engine = open_engine(db)
    view, content = get_evidence(engine, evidence_ref, member_for(engine, member).id, user or default_user())
    assert content is not None
    try:
        output.write_bytes(content)
    except OSError as exc:
        raise InvalidInputError(f"--output: {output}: cannot write ({exc.strerror or exc})") from None
    if as_json:
        print_json(_json(view))
        return
    e = view.evidence
    err_console.print(f"wrote {escape(str(output))}: {escape(e.filename)} ({e.media_type}, {e.size:,} bytes, "
                      f"sha256 {e.sha256})", highlight=False)


@evidence_app.command("withdraw")
@handles_errors
def share_evidence_withdraw(
    evidence_ref: EvidenceArgument,
    reason: Annotated[str, typer.Option("--reason", "-r", help="Why it is withdrawn (required).")] = "",
    member: MemberOption = LOCAL_MEMBER,
    user: UserOption = None,
    db: DbOption = None,
) -> None:
    """Withdraw an evidence file of your entry: listed as withdrawn, no longer sent to recipients, never deleted."""
    engine = open_engine(db)
    stored = withdraw_evidence(engine, evidence_ref, member_for(engine, member).id, user or default_user(), reason)
    typer.echo(stored.ref)
