"""Exchange files: the bank in and out, in our format and in ThreatExchange's.

Formats (``docs/media.md`` documents each column):

* ``jointwatch-csv`` / ``jointwatch-json``: one record per item with its hashes, labels,
  contributor, date, status, and the signature beyond PDQ (base64) when there is one: an image's,
  or a video's or sound file's (vPDQ frames, Chromaprint), which also tells the item's kind.
* ``te-signals``: the python-threatexchange / HMA plain signal file, one ``<type> <value>``
  per line (``pdq``, ``md5``/``video_md5``/``photo_md5``, ``sha256``, and a video's ``vpdq`` as the
  package's ``VPDQSignal`` takes it, without spaces), ``#`` comments.
* ``te-file``: python-threatexchange's own signal file, written and read through the package
  (``media.te``): ``<type> <value>`` and nothing else (no labels, one item per signal).
* ``te-json``: ThreatExchange Graph API descriptors (``{"data": [...]}`` or JSON lines) with
  ``type`` HASH_PDQ / HASH_MD5 / HASH_SHA256 / HASH_VIDEO_MD5, ``raw_indicator`` and ``tags`` (the Graph API has
  no vPDQ type: a video's vPDQ travels in the other formats).

Both ThreatExchange formats hold one hash per line. Our exports tag the lines of one item
``jw-item=<ref>``; on import, lines with the same such tag are one item again, so a round trip
of 4 images banks 4 items, not 12.

An import is one transaction: any bad record names its line and nothing is banked. Imported
items belong to the importing member: a partner's file can add or relabel that partner's
own rows, never another member's.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from jointwatch import csvsafe
from jointwatch.errors import JointwatchError, ListFormatError
from jointwatch.media.bank import new_item, restate
from jointwatch.media.clips import ClipSignature, is_clip_signature
from jointwatch.media.labels import CONTENT_TYPES, DEFAULT_EXPORT_TLP, Labels, make_labels
from jointwatch.media.signature import Signature
from jointwatch.releasability import tlp_allows
from jointwatch.store import BankItem, Engine, Viewer, add_bank_items, exportable_bank_rows, get_member

FORMATS = ("jointwatch-csv", "jointwatch-json", "te-signals", "te-json", "te-file")
CSV_COLUMNS = ("md5", "sha256", "pdq", "pdq_quality", "group", "content_type", "tlp", "contributor",
               "contributed_at", "status", "signature")
MAX_IMPORT_BYTES = 500_000_000
# the tag that ties the one-hash lines of one item together in ThreatExchange formats
ITEM_TAG = "jw-item="
_HEX = {"md5": re.compile(r"[0-9a-f]{32}"), "sha256": re.compile(r"[0-9a-f]{64}"), "pdq": re.compile(r"[0-9a-f]{64}")}
_TE_TYPES = {"pdq": "pdq", "md5": "md5", "photo_md5": "md5", "video_md5": "md5", "sha256": "sha256",
             "hash_pdq": "pdq", "hash_md5": "md5", "hash_video_md5": "md5", "hash_sha256": "sha256"}


@dataclass(frozen=True)
class ImportRecord:
    """One item read from a file, before it is banked."""

    location: str
    md5: str | None
    sha256: str | None
    pdq: str | None
    pdq_quality: int | None
    labels: Labels
    signature: bytes | None = None
    disputed: bool = False
    item_tag: str | None = None  # ThreatExchange formats: lines with the same jw-item= tag are one item
    withdrawn: bool = False      # jointwatch formats: an item exported with --all-statuses


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    disputed: int


def _hash(kind: str, value: str | None, path: Path, location: str) -> str | None:
    text = (value or "").strip().lower()
    if not text:
        return None
    if not _HEX[kind].fullmatch(text):
        digits = 32 if kind == "md5" else 64
        raise ListFormatError(path, location, f"{kind} {value!r} is not {digits} hex digits")
    return text


def _labels(path: Path, location: str, content_type: str | None, group: str | None, tlp: str | None,
            default: Labels) -> Labels:
    try:
        return make_labels(content_type or default.content_type, group or default.group, tlp or default.tlp)
    except JointwatchError as exc:
        raise ListFormatError(path, location, str(exc)) from None


def _jointwatch_record(path: Path, location: str, data: dict[str, object], default: Labels) -> ImportRecord:
    def text(key: str) -> str | None:
        value = data.get(key)
        return None if value is None or value == "" else str(value)

    quality = text("pdq_quality")
    if quality is not None and (not quality.isdigit() or int(quality) > 100):
        raise ListFormatError(path, location, f"pdq_quality {quality!r} is not a number from 0 to 100")
    signature = None
    if text("signature"):
        try:
            signature = base64.b64decode(str(text("signature")), validate=True)
            if is_clip_signature(signature):
                ClipSignature.from_bytes(signature)   # a video's or a sound file's
            else:
                Signature.from_bytes(signature)
        except ValueError as exc:
            raise ListFormatError(path, location, f"signature: {exc}") from None
    record = ImportRecord(location, _hash("md5", text("md5"), path, location),
                          _hash("sha256", text("sha256"), path, location), _hash("pdq", text("pdq"), path, location),
                          int(quality) if quality is not None else None,
                          _labels(path, location, text("content_type"), text("group"), text("tlp"), default),
                          signature, disputed=text("status") == "disputed", withdrawn=text("status") == "withdrawn")
    if text("status") not in (None, "active", "disputed", "withdrawn"):
        raise ListFormatError(path, location, f"status {text('status')!r} is not active, disputed or withdrawn")
    if not (record.md5 or record.sha256 or record.pdq):
        raise ListFormatError(path, location, "no hash: give md5, sha256 or pdq")
    return record


def _te_record(path: Path, location: str, kind: str, value: str, tags: list[str], default: Labels,
               disputed: bool = False) -> ImportRecord:
    content_type = next((t.lower() for t in tags if t.lower() in CONTENT_TYPES), None)
    item_tag = next((t for t in tags if t.lower().startswith(ITEM_TAG)), None)
    if kind.strip().lower() == "vpdq":   # a video's vPDQ (threatexchange's VPDQSignal): kept as its signature
        from jointwatch.media.te import vpdq_from_signal

        try:
            signature = vpdq_from_signal(value)
        except ValueError as exc:
            raise ListFormatError(path, location, f"vpdq: {exc}") from None
        return ImportRecord(location, None, None, None, None, _labels(path, location, content_type, None, None,
                                                                      default), signature, disputed, item_tag)
    signal = _TE_TYPES.get(kind.strip().lower())
    if signal is None:
        raise ListFormatError(path, location, f"signal type {kind!r} is not one we match "
                                              f"({', '.join(sorted([*_TE_TYPES, 'vpdq']))})")
    hashes: dict[str, str | None] = {"md5": None, "sha256": None, "pdq": None}
    hashes[signal] = _hash(signal, value, path, location)
    if hashes[signal] is None:
        raise ListFormatError(path, location, "empty hash value")
    # a tag that names one of our content types labels the item; the rest are not ours to guess
    labels = _labels(path, location, content_type, None, None, default)
    return ImportRecord(location, hashes["md5"], hashes["sha256"], hashes["pdq"], None, labels, disputed=disputed,
                        item_tag=item_tag)


def _one_per_item(path: Path, records: Iterator[ImportRecord]) -> Iterator[ImportRecord]:
    """The records with one hash a line joined into one per item, by their ``jw-item=`` tag."""
    items: dict[str, ImportRecord] = {}
    order: list[ImportRecord | str] = []
    for record in records:
        if record.item_tag is None:
            order.append(record)
            continue
        seen = items.get(record.item_tag)
        if seen is None:
            items[record.item_tag] = record
            order.append(record.item_tag)
            continue
        joined = {}
        for kind in ("md5", "sha256", "pdq"):
            mine, theirs = getattr(seen, kind), getattr(record, kind)
            if mine and theirs and mine != theirs:
                raise ListFormatError(path, record.location, f"a second {kind} for {record.item_tag} "
                                                             f"(first at {seen.location})")
            joined[kind] = mine or theirs
        items[record.item_tag] = replace(seen, **joined, signature=seen.signature or record.signature,
                                         disputed=seen.disputed or record.disputed)
    for entry in order:
        yield items[entry] if isinstance(entry, str) else entry


def read_records(path: Path, fmt: str, default: Labels) -> Iterator[ImportRecord]:
    """The records of an exchange file; ListFormatError naming the line at the first bad one."""
    if fmt not in FORMATS:
        raise ListFormatError(path, None, f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    try:
        if path.stat().st_size > MAX_IMPORT_BYTES:
            raise ListFormatError(path, None, f"over {MAX_IMPORT_BYTES:,} bytes")
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ListFormatError(path, None, f"cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ListFormatError(path, f"byte {exc.start}", "not UTF-8 text") from None
    if fmt == "jointwatch-csv":
        reader = csv.DictReader(io.StringIO(text))
        missing = {"md5", "sha256", "pdq"} - set(reader.fieldnames or ())
        if missing:
            raise ListFormatError(path, "line 1", f"the header lacks {', '.join(sorted(missing))}")
        for row in reader:
            # our export prefixed cells that look like formulas (csvsafe): read what was meant
            row = {k: csvsafe.restore(v) if isinstance(v, str) else v for k, v in row.items()}
            yield _jointwatch_record(path, f"line {reader.line_num}", row, default)
    elif fmt == "jointwatch-json":
        data = _json(path, text)
        items = data.get("items") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise ListFormatError(path, None, 'expected {"format": "jointwatch-media-bank", "items": [...]}')
        for number, item in enumerate(items):
            if not isinstance(item, dict):
                raise ListFormatError(path, f"items[{number}]", "not an object")
            yield _jointwatch_record(path, f"items[{number}]", item, default)
    elif fmt == "te-signals":
        for number, line in enumerate(text.splitlines(), start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split(None, 2)
            if len(parts) < 2:
                raise ListFormatError(path, f"line {number}", "expected '<signal type> <value>'")
            tags = parts[2].split() if len(parts) > 2 else []
            yield _te_record(path, f"line {number}", parts[0], parts[1], tags, default)
    else:
        yield from _te_json(path, text, default)


def read_items(path: Path, fmt: str, default: Labels) -> list[ImportRecord]:
    """One record per item of an exchange file (ThreatExchange lines joined by item); every line checked."""
    records = read_records(path, fmt, default)
    return list(_one_per_item(path, records) if fmt.startswith("te-") else records)


def _json(path: Path, text: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ListFormatError(path, f"line {exc.lineno}, column {exc.colno}", f"not JSON: {exc.msg}") from None
    except RecursionError:
        raise ListFormatError(path, None, "not JSON we read: nested too deeply") from None


def _te_json(path: Path, text: str, default: Labels) -> Iterator[ImportRecord]:
    stripped = text.lstrip()
    if stripped.startswith("{") and '"data"' in stripped[:200]:
        data = _json(path, text)
        rows = data.get("data") if isinstance(data, dict) else None
        if not isinstance(rows, list):
            raise ListFormatError(path, None, 'expected {"data": [descriptors]}')
        located = [(f"data[{n}]", row) for n, row in enumerate(rows)]
    else:  # JSON lines, one descriptor a line
        located = []
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    located.append((f"line {number}", json.loads(line)))
                except json.JSONDecodeError as exc:
                    raise ListFormatError(path, f"line {number}", f"not JSON: {exc.msg}") from None
                except RecursionError:
                    raise ListFormatError(path, f"line {number}", "not JSON we read: nested too deeply") from None
    for location, row in located:
        if not isinstance(row, dict) or "type" not in row or "raw_indicator" not in row:
            raise ListFormatError(path, location, "a descriptor needs 'type' and 'raw_indicator'")
        tags = row.get("tags") or []
        if isinstance(tags, dict):  # the Graph API nests them: {"data": [{"text": ...}]}
            tags = [t.get("text", "") for t in tags.get("data", []) if isinstance(t, dict)]
        # a descriptor its owner marked NON_MALICIOUS is a known false positive: banked as disputed
        disputed = str(row.get("status", "")).upper() == "NON_MALICIOUS"
        yield _te_record(path, location, str(row["type"]), str(row["raw_indicator"]), [str(t) for t in tags],
                         default, disputed)


def import_file(engine: Engine, path: Path, fmt: str, member: str | int, user: str,
                default: Labels) -> ImportResult:
    """Bank every record of the file under ``member``, all or nothing."""
    if fmt == "te-file":
        from jointwatch.media.te import apply_delta, read_signal_file

        return apply_delta(engine, read_signal_file(path), member, user, default, path)
    owner = get_member(engine, member)
    records = read_items(path, fmt, default)  # every line checked before anything is written
    statuses = ["withdrawn" if r.withdrawn else "disputed" if r.disputed else "active" for r in records]
    banked = add_bank_items(engine, owner.id, user, (
        new_item(record.labels, md5=record.md5, sha256=record.sha256, pdq=record.pdq,
                 pdq_quality=record.pdq_quality, signature=record.signature, origin=f"import:{fmt}",
                 status=status, reason=f"imported from {path.name}, {record.location}")
        for record, status in zip(records, statuses, strict=True)))
    # a file banked before keeps its status through the relabel: the file's status (a false positive marked
    # NON_MALICIOUS, an item withdrawn since) is a change of status
    for record, status, (item_id, new) in zip(records, statuses, banked, strict=True):
        if not new:
            restate(engine, item_id, owner.id, user, status, f"imported from {path.name}, {record.location}")
    created = sum(new for _, new in banked)
    disputed = sum(record.disputed and new for record, (_, new) in zip(records, banked, strict=True))
    return ImportResult(created, len(banked) - created, disputed)


def _export_rows(engine: Engine, viewer: Viewer, member: str | int | None, max_tlp: str,
                 include_inactive: bool) -> list[tuple[BankItem, bytes | None]]:
    statuses = ("active", "disputed", "withdrawn") if include_inactive else ("active",)
    return [(row.item, row.signature) for row in exportable_bank_rows(engine, viewer, statuses, member)
            if tlp_allows(row.item.tlp, max_tlp)]


def export_bank(engine: Engine, path: Path, fmt: str, member: str | int | None = None,
                max_tlp: str = DEFAULT_EXPORT_TLP, include_inactive: bool = False, viewer: Viewer = None) -> int:
    """Write the items ``viewer`` may see (active, up to ``max_tlp``) to ``path``; the number written.

    Without a viewer: only what every member may see.
    """
    if fmt not in FORMATS:
        raise ListFormatError(path, None, f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    if fmt == "te-file":
        from jointwatch.media.te import write_signal_file

        return write_signal_file(path, _export_rows(engine, viewer, member, max_tlp, include_inactive=False))
    rows = _export_rows(engine, viewer, member, max_tlp, include_inactive)
    records = [{"md5": i.md5, "sha256": i.sha256, "pdq": i.pdq, "pdq_quality": i.pdq_quality, "group": i.group,
                "content_type": i.content_type, "tlp": i.tlp, "contributor": i.contributor,
                "contributed_at": i.created_at.isoformat(), "status": i.status,
                "signature": base64.b64encode(s).decode("ascii") if s else None,
                "item": f"{ITEM_TAG}{i.ref}"} for i, s in rows]
    with path.open("w", encoding="utf-8", newline="") as out:
        if fmt == "jointwatch-csv":
            writer = csvsafe.dict_writer(out, CSV_COLUMNS)
            writer.writeheader()
            writer.writerows({k: ("" if v is None else v) for k, v in r.items() if k != "item"} for r in records)
        elif fmt == "jointwatch-json":
            json.dump({"format": "jointwatch-media-bank", "version": 1,
                       "items": [{k: v for k, v in r.items() if k != "item"} for r in records]}, out, indent=1)
        elif fmt == "te-signals":
            from jointwatch.media.te import vpdq_value

            for r, (_, signature) in zip(records, rows, strict=True):
                vpdq = vpdq_value(signature, compact=True)
                for kind, value in (("pdq", r["pdq"]), ("md5", r["md5"]), ("sha256", r["sha256"]), ("vpdq", vpdq)):
                    if value:
                        out.write(f"{kind} {value} {r['content_type']} {r['item']}\n")
        else:
            kinds = {"pdq": "HASH_PDQ", "md5": "HASH_MD5", "sha256": "HASH_SHA256"}
            for r in records:
                for kind, te_type in kinds.items():
                    if r[kind]:
                        out.write(json.dumps({"type": te_type, "raw_indicator": r[kind],
                                              "tags": [r["content_type"], r["item"]],
                                              "added_on": r["contributed_at"], "owner": {"name": r["contributor"]},
                                              "status": "NON_MALICIOUS" if r["status"] != "active" else "MALICIOUS"})
                                  + "\n")
    return len(records)
