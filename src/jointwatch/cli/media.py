"""`jointwatch media …`: the shared bank of hashes of terrorist media.

The commands are thin shells over ``jointwatch.media``; the heavy libraries (Pillow, pdqhash,
OpenCV, faiss) are imported when a command runs, so the CLI starts without the media extra.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from jointwatch import settings
from jointwatch.cli.output import (
    Commands,
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
    record_progress,
    setting_option,
)
from jointwatch.errors import InvalidInputError
from jointwatch.store import DISPUTES_PER_DAY, LOCAL_MEMBER, get_member, open_engine

if TYPE_CHECKING:
    from jointwatch.media import FileOutcome, MediaMatch
    from jointwatch.store import Engine

media_app = typer.Typer(help="The hash bank of known terrorist media: hash, match, exchange.", no_args_is_help=True)

PathsArgument = Annotated[list[Path], typer.Argument(help="Files or directories (searched recursively).")]
# the partner whose exchange file is imported: named every time, never a default
PartnerOption = Annotated[str, typer.Option("--member", "-m", help="The member (partner) whose file this is: "
                                                                   "name or number.")]
ReasonOption = Annotated[str, typer.Option("--reason", "-r", help="Why: kept in the item's history.")]
TypeOption = Annotated[str, typer.Option("--type", "-t", help="Content type: logo, execution, attack, recruitment, "
                                                             "instruction, glorification, threat, propaganda, other.")]
GroupOption = Annotated[str | None, typer.Option("--group", "-g", help="The group, e.g. 'ISIL' or 'Al-Qaida'.")]
TlpOption = Annotated[str, typer.Option("--tlp", help="Releasability: clear, green, amber, amber+strict, red.")]
ViewerOption = Annotated[str | None, typer.Option(
    "--viewer", help="The member whose view this is: the items it may see by their TLP (as through its API keys). "
                     "Without it: only what every member may see (TLP clear, green, amber).")]
FormatOption = Annotated[str, typer.Option("--format", "-f", help="jointwatch-csv, jointwatch-json, te-signals "
                                                                  "(ThreatExchange/HMA signal file with tags), te-json "
                                                                  "or te-file (python-threatexchange's own signal "
                                                                  "file, hashes only).")]


def _viewer(engine: Engine, name: str | None) -> int | None:
    return None if name is None else get_member(engine, name).id


def _files(paths: list[Path], hidden: bool = False) -> list[Path]:
    from jointwatch.media import iter_files

    return [f for p in paths for f in iter_files(p, hidden)]


def _outcome_json(o: FileOutcome) -> dict[str, object]:
    data: dict[str, object] = {"path": o.path, "error": o.error, "note": o.note}
    if o.hashes:
        data["hashes"] = o.hashes
    if o.item is not None:
        data["item"] = o.item
        data["created"] = o.created
    data["matches"] = [{"item": m.item, "method": m.method, "distance": m.distance, "inliers": m.inliers,
                        "share": m.share, "bank_share": m.bank_share, "offset": m.offset,
                        "bit_error_rate": m.bit_error_rate} for m in o.matches]
    data["hidden"] = o.hidden
    return data


def _finish(outcomes: list[FileOutcome], as_json: bool) -> None:
    """Exit 7 when any file of the batch could not be handled (after reporting every file)."""
    failed = [o for o in outcomes if o.error]
    if failed:
        if not as_json:
            err_console.print(f"[bold red]{len(failed)} of {len(outcomes)} files failed[/]", highlight=False)
        raise typer.Exit(InvalidInputError.exit_code)


def _collect(outcomes: Iterable[FileOutcome], as_json: bool) -> list[FileOutcome]:
    """Every outcome of a batch; on a terminal each failed file is reported as it comes."""
    collected = []
    for outcome in outcomes:
        if outcome.error and not as_json:
            err_console.print(f"[red]error:[/] {escape(outcome.error)}", highlight=False)
        collected.append(outcome)
    return collected


@media_app.command("hash")
@handles_errors
def media_hash(paths: PathsArgument, as_json: JsonOption = False) -> None:
    """Print the kind (image, video, audio), MD5, SHA-256 and PDQ hash (with its quality) of every file."""
    from jointwatch.media import FileOutcome, hash_media, read_bytes

    def each() -> Iterable[FileOutcome]:
        for path in _files(paths):
            try:
                hashed = hash_media(read_bytes(path), str(path), signatures=False)
                yield FileOutcome(str(path), hashed.hashes, note=hashed.note)
            except InvalidInputError as exc:
                yield FileOutcome(str(path), error=str(exc))

    outcomes = _collect(each(), as_json)
    if as_json:
        print_json([_outcome_json(o) for o in outcomes])
    else:
        table = Table()
        for column in ("file", "kind", "pdq", "quality", "md5", "note"):
            table.add_column(column)
        for o in outcomes:
            if o.hashes:
                table.add_row(o.path, o.hashes.kind, o.hashes.pdq or "", str(o.hashes.pdq_quality or ""), o.hashes.md5,
                              o.note or "")
        console.print(table)
    _finish(outcomes, as_json)


@media_app.command("add")
@handles_errors
def media_add(paths: PathsArgument, content_type: TypeOption, group: GroupOption = None,
              tlp: TlpOption = "amber", member: MemberOption = LOCAL_MEMBER, user: UserOption = None,
              db: DbOption = None, as_json: JsonOption = False) -> None:
    """Contribute files to the bank under a member, with labels. Only hashes are kept, never the files."""
    from jointwatch.media import contribute_files, make_labels

    labels = make_labels(content_type, group, tlp)
    engine = open_engine(db)
    files = _files(paths)
    with record_progress("hashing", not as_json) as progress:
        banked = contribute_files(engine, member_for(engine, member).id, user or default_user(), files, labels,
                                  progress)
        outcomes = _collect(banked, as_json)
    if as_json:
        print_json([_outcome_json(o) for o in outcomes])
    else:
        for o in outcomes:
            if o.item is not None:
                verb = "banked" if o.created else "already banked, relabelled"
                console.print(f"{o.path}: {verb} as item #{o.item.id}" + (f" ({o.note})" if o.note else ""),
                              highlight=False)
    _finish(outcomes, as_json)


@media_app.command("match")
@handles_errors
def media_match(paths: PathsArgument,
                threshold: Annotated[int, typer.Option(help="PDQ: the largest Hamming distance that matches "
                                                            "(of 256 bits).", min=0, max=128)] = 31,
                signatures: Annotated[bool, typer.Option(help="Also match by local features (crops, rotations, "
                                                             "captions); --no-signatures for PDQ and exact only.")]
                = True,
                viewer: ViewerOption = None, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Match files against the bank's active items. Every hit is for a human reviewer to confirm.

    A hit on an item the viewer may not see shows only a ref to ask its contributor by (media ask).
    """
    from jointwatch.media import MatchOptions, load_matcher, match_files, require_bank
    from jointwatch.store import matchable_count

    options = MatchOptions(pdq_threshold=threshold, use_signatures=signatures)
    engine = open_engine(db)
    seen_by = _viewer(engine, viewer)
    matcher = require_bank(load_matcher(engine), engine, seen_by)
    # every file, hidden ones too: an upload folder must not hide content from the match by a dot
    files = _files(paths, hidden=True)
    with record_progress("matching", not as_json) as progress:
        outcomes = _collect(match_files(engine, matcher, seen_by, files, options, progress), as_json)
    if as_json:
        print_json([_outcome_json(o) for o in outcomes])
    else:
        table = Table()
        for column in ("file", "item", "method", "closeness", "group", "type", "tlp", "contributor"):
            table.add_column(column)
        for o in outcomes:
            for m in o.matches:
                closeness = _closeness(m)
                table.add_row(o.path, f"#{m.item.id}", m.method, closeness, m.item.group or "", m.item.content_type,
                              m.item.tlp, m.item.contributor)
            for h in o.hidden:
                table.add_row(o.path, f"ref {h.ref}", "", "", h.notice, "", "", "")
        console.print(table)
        for o in outcomes:
            if o.note:  # a file matched by less than a full look (a cut sound, a low-quality picture): say so
                console.print(f"{o.path}: {o.note}", highlight=False, markup=False)
        matched = sum(1 for o in outcomes if o.matches or o.hidden)
        console.print(f"{matched} of {len(outcomes)} files matched, against the {matchable_count(engine, seen_by)} "
                      "active items of the bank this viewer has not disputed", highlight=False)
    _finish(outcomes, as_json)


def _closeness(m: MediaMatch) -> str:
    """How close a match is, in its method's own terms."""
    if m.share is not None:
        lined = f"{m.share:.0%} of the file, {m.bank_share or 0:.0%} of the item, from {m.offset or 0:.0f} s"
        return f"BER {m.bit_error_rate:.2f}; {lined}" if m.bit_error_rate is not None else f"{m.distance}; {lined}"
    return str(m.distance) if m.distance is not None else f"{m.inliers} inliers"


def _status_command(action: str, help_text: str) -> None:
    def command(item: Annotated[int, typer.Argument(help="The item's number (media list).")],
                reason: ReasonOption, member: MemberOption = LOCAL_MEMBER, user: UserOption = None,
                per_day: Annotated[int, typer.Option("--disputes-per-day", min=1,
                                                     help="The member's limit of disputes of other members' "
                                                          "items in any 24 hours.")] = DISPUTES_PER_DAY,
                db: DbOption = None, as_json: JsonOption = False) -> None:
        from jointwatch.media import change_status

        engine = open_engine(db)
        done = change_status(engine, item, member_for(engine, member).id, user or default_user(), action, reason,
                             per_day)
        if as_json:
            print_json(done)
        else:
            console.print(f"item #{done.id} is now {done.status}", highlight=False)

    command.__doc__ = help_text
    command.__name__ = command.__qualname__ = f"media_{action}"
    media_app.command(action)(handles_errors(command))


_status_command("dispute", "Dispute an item you may see (a false-positive appeal): another member's stops matching "
                           "for your member at once, and for everyone once its contributor disputes it too; "
                           "history is kept.")
_status_command("withdraw", "Withdraw your own item for good: it never matches again; history is kept.")
_status_command("reinstate", "Reinstate your own disputed item after review: it matches again.")


@media_app.command("list")
@handles_errors
def media_list(member: Annotated[str | None, typer.Option("--member", "-m", help="Only this member's items.")] = None,
               status: Annotated[str | None, typer.Option(help="active, disputed or withdrawn.")] = None,
               limit: Annotated[int, typer.Option(min=1)] = 1000,
               ref: Annotated[str | None, typer.Option(help="Only the item with this ref (as a match showed it).")]
               = None,
               viewer: ViewerOption = None, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Show the banked items the viewer may see, with their labels and status."""
    from jointwatch.media import list_items

    engine = open_engine(db)
    seen_by = _viewer(engine, viewer)
    items = list_items(engine, seen_by, member, status, limit, ref)
    if as_json:
        print_json(items)
        return
    table = Table()
    for column in ("#", "kind", "pdq", "q", "file hash", "group", "type", "tlp", "status", "contributor", "since"):
        table.add_column(column)
    for i in items:
        # each hash in its own column: an item banked by MD5 or SHA-256 only has no PDQ to show
        table.add_row(str(i.id), i.kind, _short(i.pdq), str(i.pdq_quality if i.pdq_quality is not None else ""),
                      _short(f"sha256:{i.sha256}" if i.sha256 else f"md5:{i.md5}" if i.md5 else None),
                      i.group or "", i.content_type, i.tlp, i.status, i.contributor,
                      i.created_at.date().isoformat())
    console.print(table)


def _short(value: str | None) -> str:
    return f"{value[:23]}…" if value else ""


@media_app.command("history")
@handles_errors
def media_history(item: Annotated[int, typer.Argument(help="The item's number.")], viewer: ViewerOption = None,
                  db: DbOption = None, as_json: JsonOption = False) -> None:
    """Show everything that happened to an item the viewer may see: contributed, disputed, withdrawn, reinstated."""
    from jointwatch.media import history

    engine = open_engine(db)
    seen_by = _viewer(engine, viewer)
    events = history(engine, item, seen_by)
    if as_json:
        print_json(events)
        return
    for e in events:
        who = f"{e.member} / {e.user}" if e.user else e.member  # another member's users are not shown
        console.print(f"{e.at.isoformat(timespec='seconds')}  {e.action:<10} → {e.status:<9} {who}"
                      + (f": {e.reason}" if e.reason else ""), highlight=False)


@media_app.command("export")
@handles_errors
def media_export(file: Annotated[Path, typer.Argument(help="The file to write.")],
                 fmt: FormatOption = "jointwatch-csv",
                 member: Annotated[str | None, typer.Option("--member", "-m", help="Only this member's items.")]
                 = None,
                 max_tlp: Annotated[str, typer.Option(help="Leave out items labelled above this TLP.")] = "amber",
                 all_statuses: Annotated[bool, typer.Option(help="Also disputed and withdrawn items.")] = False,
                 viewer: ViewerOption = None, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Write the hashes and labels of the items the viewer may see to an exchange file (never any media)."""
    from jointwatch.media import export_bank

    engine = open_engine(db)
    seen_by = _viewer(engine, viewer)
    count = export_bank(engine, file, fmt, member, max_tlp.lower().removeprefix("tlp:"), all_statuses, seen_by)
    if as_json:
        print_json({"file": str(file), "format": fmt, "items": count})
    else:
        # a signal file holds one signal a line (an item's PDQ, MD5 and SHA-256 are three)
        what = "signals" if fmt == "te-file" else "items"
        console.print(f"wrote {count} {what} to {file} ({fmt})", highlight=False)


@media_app.command("import")
@handles_errors
def media_import(file: Annotated[Path, typer.Argument(help="The exchange file to read.")], member: PartnerOption,
                 fmt: FormatOption = "jointwatch-csv",
                 content_type: Annotated[str, typer.Option("--type", "-t", help="Content type for records "
                                                                                "without one.")] = "other",
                 group: GroupOption = None, tlp: TlpOption = "amber", user: UserOption = None,
                 db: DbOption = None, as_json: JsonOption = False) -> None:
    """Import a partner's exchange file under that partner: all or nothing; other members' labels are untouched."""
    from jointwatch.media import import_file, make_labels

    default = make_labels(content_type, group, tlp)
    result = import_file(open_engine(db), file, fmt, member, user or default_user(), default)
    if as_json:
        print_json(result)
    else:
        console.print(f"{file}: {result.created} new items, {result.updated} relabelled, {result.disputed} banked "
                      "as disputed", highlight=False)


@media_app.command("fetch")
@handles_errors
def media_fetch(source: Annotated[str, typer.Argument(help="A jointwatch service's /media/signals URL, or a file of "
                                                      "one fetch delta (JSON).")],
                member: PartnerOption,
                checkpoint: Annotated[Path, typer.Option(help="Where the checkpoint is kept between fetches.")],
                key: Annotated[str | None, setting_option(settings.FETCH_KEY)] = None,
                content_type: Annotated[str, typer.Option("--type", "-t", help="Content type for signals "
                                                                               "without one.")] = "other",
                group: GroupOption = None, tlp: TlpOption = "amber", user: UserOption = None,
                db: DbOption = None, as_json: JsonOption = False) -> None:
    """Bank a partner's changes since the last fetch (python-threatexchange's fetch deltas, HMA's shape)."""
    from jointwatch.media import fetch_signals, make_labels

    result = fetch_signals(source, open_engine(db), member, user or default_user(),
                           make_labels(content_type, group, tlp), checkpoint, key)
    if as_json:
        print_json(result)
    else:
        console.print(f"{source}: {result.created} new items, {result.updated} changed, {result.disputed} disputed",
                      highlight=False)


@media_app.command("push")
@handles_errors
def media_push(url: Annotated[str, typer.Argument(help="The HMA service's root (its curator routes are under /c), "
                                                   "or a jointwatch service's /media/hma.")],
               bank: Annotated[str, typer.Option(help="The HMA bank to push to (capitals, digits, underscores).")],
               checkpoint: Annotated[Path, typer.Option(help="Where the push's checkpoint is kept (one file a "
                                                        "bank).")],
               member: MemberOption = LOCAL_MEMBER,
               key: Annotated[str | None, setting_option(settings.PUSH_KEY)] = None,
               max_tlp: Annotated[str, typer.Option(help="Leave out items labelled above this TLP (at most "
                                                   "amber+strict: TLP:RED is never pushed).")] = "amber",
               own_service: Annotated[bool, typer.Option(
                   "--own-service", help="The HMA is run by the member's own organisation: other members' items "
                   "up to --max-tlp may go there too (without it, others' items go only up to TLP:GREEN, as TLP "
                   "2.0 keeps AMBER within the recipient's organisation).")] = False,
               db: DbOption = None, as_json: JsonOption = False) -> None:
    """Push to an HMA bank what changed since the last push, of the items the member may see (as export): new items
    added, disputed and withdrawn ones removed. Other members' items go only up to TLP:GREEN unless --own-service."""
    from jointwatch.media import push_signals

    engine = open_engine(db)
    result = push_signals(url, bank, engine, member_for(engine, member).id, checkpoint, key,
                          max_tlp.lower().removeprefix("tlp:"), own_service=own_service)
    if as_json:
        print_json(result)
    else:
        console.print(f"{url} {bank}: {result.added} items added, {result.removed} removed, {result.skipped} with no "
                      "signal type the bank takes", highlight=False)


@media_app.command("ask")
@handles_errors
def media_ask(ref: Annotated[str, typer.Argument(help="The ref a match gave for an item you may not see.")],
              question: Annotated[str, typer.Option("--reason", "-r", help="What you ask "
                                                            "its contributor: kept in its history.")],
              member: MemberOption = LOCAL_MEMBER, user: UserOption = None, db: DbOption = None,
              as_json: JsonOption = False) -> None:
    """Ask the contributor of an item you matched but may not see: your question goes into its history."""
    from jointwatch.media import ask

    engine = open_engine(db)
    ask(engine, ref, member_for(engine, member).id, user or default_user(), question)
    if as_json:
        print_json({"ref": ref, "asked": True})
    else:
        console.print(f"asked the contributor of {ref}", highlight=False)


COMMANDS: Commands = [("media", media_app)]
