"""Partner entries out of and into files: FtM JSON lines (here) and STIX 2.1 bundles (``stix``).

Export: the entries a member may pass on (``releasability.may_pass_on`` through ``passable``),
each as its one JSON record (``records.to_record``): an FtM entity any FtM reader takes, with
the listings and the ``jointwatch`` labels beside it.

Import: every record becomes an entry of the importing member, who vouches for it from then
on: the importer is its originator, and gives its distribution (default: originator only),
TLP and handling (default: those the record carries), and reason (default: the record's).
Where it came from (the file, the original originator and reference) is the note of the
version it makes, in the importer's own history, and on the sharing trail; it is not passed on
with the entry, since naming one's source to third parties is the source's decision.

An import is all or nothing: every record is read and checked (FtM schema and values, labels,
limits) before anything is stored, then everything is stored in one transaction. Each record
is keyed by the importer and its original reference (or STIX id), so importing the same file
again changes nothing, and a changed record makes one new version.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace

from jointwatch.errors import InvalidInputError
from jointwatch.releasability import Labels, handling_codes, may_redistribute, stricter_tlp
from jointwatch.sharing.entries import REF_PREFIX, check_audience, clean_entity, passable, visible_entries
from jointwatch.sharing.records import EntryRecord, from_record, to_record
from jointwatch.store import (
    Engine,
    EntryChange,
    NewEntry,
    NewEvent,
    StoredEntry,
    apply_import,
    get_entry,
    get_member,
    recipient_of,
    record_sharing_events,
)

FORMATS = ("ftm", "stix")
MAX_IMPORT_BYTES = 64 * 1024 * 1024     # a file (or request body) to import
MAX_IMPORT_ENTRIES = 100_000            # records per import
MAX_LINE_BYTES = 1024 * 1024            # one FtM JSON line
# the namespace of every id jointwatch derives (STIX ids, imported refs): fixed, so the same
# entry gets the same id on every export and every server
NAMESPACE = uuid.UUID("5b0e1f6c-8e0e-4d4e-9a51-6a0c1f3b7d21")


@dataclass(frozen=True)
class ImportItem:
    """One record read from a file, before anything is stored."""

    key: str                 # the record's own reference (or STIX id): what makes a re-import idempotent
    record: EntryRecord
    where: str               # "file line 3", "file object 7": named by every error about it


@dataclass(frozen=True)
class ImportChoice:
    """What the importer decides for every entry of a file (None: what each record carries)."""

    distribution: str = "originator"
    audience: tuple[int, ...] = ()
    tlp: str | None = None
    handling: tuple[str, ...] | None = None
    reason: str | None = None


@dataclass
class ImportReport:
    """What an import did: refs added, updated, withdrawn; records unchanged or skipped (and why)."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)
    unchanged: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {"added": self.added, "updated": self.updated, "withdrawn": self.withdrawn,
                "unchanged": self.unchanged, "skipped": self.skipped}


def exportable(engine: Engine, member_id: int, mine_only: bool = False) -> list[StoredEntry]:
    """The entries ``member_id`` may pass on (its own with ``mine_only``), withdrawn ones included
    so that a receiver learns of the withdrawal; in order of change."""
    return passable(visible_entries(engine, member_id, mine_only=mine_only), recipient_of(engine, member_id))


def note_export(engine: Engine, entries: Sequence[StoredEntry], member_id: int, user: str, how: str) -> None:
    """Put an export on the sharing trail of each entry, so its originator sees where it went."""
    record_sharing_events(engine, [NewEvent(e.id, member_id, user, "exported", how, "") for e in entries])


def ftm_lines(entries: Iterable[StoredEntry]) -> Iterator[str]:
    """One JSON record per entry, one per line (with its newline)."""
    for entry in entries:
        yield json.dumps(to_record(entry), ensure_ascii=False, sort_keys=True) + "\n"


def loads(text: str | bytes, where: str) -> object:
    """JSON, or InvalidInputError naming ``where`` (nesting too deep for the parser included)."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as error:
        raise InvalidInputError(f"{where}: not JSON ({str(error)[:120]})") from None


def check_size(data: bytes, name: str) -> None:
    if len(data) > MAX_IMPORT_BYTES:
        raise InvalidInputError(f"{name}: larger than {MAX_IMPORT_BYTES:,} bytes")


def read_ftm_lines(data: bytes, name: str) -> list[ImportItem]:
    """Records from FtM JSON lines (blank lines ignored); InvalidInputError naming ``name`` and the line."""
    check_size(data, name)
    items: list[ImportItem] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(data.split(b"\n"), start=1):
        if not line.strip():
            continue
        where = f"{name} line {number}"
        if len(line) > MAX_LINE_BYTES:
            raise InvalidInputError(f"{where}: longer than {MAX_LINE_BYTES:,} bytes")
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInputError(f"{where}: not UTF-8") from None
        record = from_record(loads(text, where), where)
        if record.ref in seen:
            raise InvalidInputError(f"{where}: entity {record.ref!r} is on line {seen[record.ref]} already")
        seen[record.ref] = number
        items.append(ImportItem(record.ref, record, where))
        if len(items) > MAX_IMPORT_ENTRIES:
            raise InvalidInputError(f"{where}: more than {MAX_IMPORT_ENTRIES:,} records")
    return items


def imported_ref(member_id: int, key: str) -> str:
    """The ref an imported record takes at ``member_id``: the same for the same record every time
    (so a re-import finds it), and never the record's own ref (the original may be on this server)."""
    return REF_PREFIX + uuid.uuid5(NAMESPACE, f"import:{member_id}:{key}").hex[:20]


def _labels(record: EntryRecord, choice: ImportChoice, source: str, where: str) -> Labels:
    """The imported entry's labels: the importer's choice, never looser than the record's. Its TLP
    is at least the record's and the record's handling codes stay (an importer may add codes,
    not drop them); what came under TLP:AMBER or stricter, or no-further-dissemination, is
    imported for the importer's own organisation only (``releasability.may_redistribute``). A
    record with no TLP marking (an FtM file of the member's own) is the importer's to label."""
    if not record.marked:
        record = replace(record, tlp=choice.tlp or "amber")
    received = Labels("originator", (), record.tlp, record.handling, "received")
    if record.marked and not may_redistribute(received, choice.distribution):
        raise InvalidInputError(
            f"{where}: received under TLP:{record.tlp.upper()}"
            f"{' with no-further-dissemination' if 'no-further-dissemination' in record.handling else ''}: "
            "it stays in your organisation; import it with distribution 'originator'")
    try:
        return Labels(choice.distribution, choice.audience, stricter_tlp(choice.tlp or record.tlp, record.tlp),
                      handling_codes([*record.handling, *(choice.handling or ())]),
                      choice.reason or record.reason or f"imported from {source}",
                      record.expires_on)
    except InvalidInputError as error:
        raise InvalidInputError(f"{where}: {error}") from None


def _caption(entity: dict[str, object]) -> str:
    names = entity["properties"]["name"]  # type: ignore[index]  # clean_entity made sure there is one
    return str(sorted(names, key=lambda n: (not n.isascii(), n))[0])[:500]


def import_items(engine: Engine, member_id: int, user: str, items: Sequence[ImportItem], choice: ImportChoice,
                 source: str) -> ImportReport:
    """Store ``items`` as entries of ``member_id`` (see the module): all checked first, then stored
    in one transaction; InvalidInputError naming the record when one cannot be stored."""
    if len(items) > MAX_IMPORT_ENTRIES:
        raise InvalidInputError(f"{source}: more than {MAX_IMPORT_ENTRIES:,} records")
    importer = get_member(engine, member_id).name
    check_audience(engine, choice.distribution, choice.audience)
    report = ImportReport()
    new: list[NewEntry] = []
    notes: dict[str, str] = {}
    changed: list[EntryChange] = []
    trail: list[tuple[str, NewEvent]] = []
    for item in items:
        record = item.record
        ref = imported_ref(member_id, item.key)
        try:
            entity = clean_entity(ref, record.data)
        except InvalidInputError as error:
            raise InvalidInputError(f"{item.where}: {error}") from None
        labels = _labels(record, choice, source, item.where)
        origin = f"{record.originator or 'unknown'}'s {item.key} version {record.version}"
        note = f"imported from {source}: {origin}"[:2000]
        event = NewEvent(None, member_id, user, "imported", source[:255], origin)
        existing = get_entry(engine, ref)
        if existing is None:
            if record.status == "withdrawn":
                report.skipped["withdrawn at the source"] = report.skipped.get("withdrawn at the source", 0) + 1
                continue
            new.append(NewEntry(ref, member_id, importer, record.data.schema, _caption(entity), entity, labels,
                                user, change="imported"))
            notes[ref] = note
            trail.append((ref, event))
            report.added.append(ref)
            continue
        if existing.member_id != member_id:  # a uuid5 collision: never touch another member's entry
            raise InvalidInputError(f"{item.where}: cannot be imported (reference clash)")
        if existing.status == "withdrawn":
            report.skipped["withdrawn here"] = report.skipped.get("withdrawn here", 0) + 1
            continue
        if existing.entity == entity and existing.labels == labels and record.status == existing.status:
            report.unchanged += 1
            continue
        changed.append(EntryChange(existing, record.data.schema, _caption(entity), entity, labels, record.status,
                                   "imported", member_id, user, note))
        trail.append((ref, event))
        (report.withdrawn if record.status == "withdrawn" else report.updated).append(ref)
    apply_import(engine, new, changed, notes, trail)
    return report

