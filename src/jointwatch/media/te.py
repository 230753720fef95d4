"""The bank through python-threatexchange: its signal types, its signal file and its fetch shape (HMA's).

Meta's ``threatexchange`` package is what HMA (Hasher-Matcher-Actioner) and the ThreatExchange
CLI are built on; speaking through it, not beside it, keeps us in step when it changes:

* **signal types**: our hashes leave as its ``PdqSignal`` (``pdq``), ``VideoMD5Signal``
  (``video_md5``: the package's only MD5 type) and ``VideoSHA256Signal`` (``video_sha256``), each
  value checked by the type's own ``validate_signal_str`` both ways; a banked video's vPDQ as its vpdq
  extension's ``VPDQSignal`` (``vpdq``: a JSON list of ``<PDQ>,<quality>,<seconds>``), read back into an item
  that matches the video by its frames (an item known by its vPDQ alone has no file hash);
* **signal file** (``te-file``): one ``<signal type> <value>`` a line and nothing else, the file
  its ``LocalFileSignalExchangeAPI`` reads (a tag after the value would be read as part of it);
  labels cannot ride in it;
* **fetch deltas**: what an HMA fetcher takes from any exchange: a ``FetchDelta`` whose updates map
  ``(signal type, value)`` to the signal's metadata, or to ``None`` when it was removed, and a
  checkpoint; the next fetch from that checkpoint moves only what changed since. Our metadata
  (``BankSignalMetadata``) carries the item's ref and labels as the package's opinion tags
  (``content_type``, ``group:…``, ``tlp:…``) and a dispute as its ``NEGATIVE_CLASS``; deltas travel as
  JSON through the package's own ``dataclass_json``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jointwatch.errors import DownloadError, InvalidInputError, JointwatchError, ListFormatError
from jointwatch.media.bank import new_item, restate
from jointwatch.media.clips import ClipSignature, is_clip_signature, vpdq_features, vpdq_signature
from jointwatch.media.deps import require
from jointwatch.media.exchange import ImportResult
from jointwatch.media.labels import DEFAULT_EXPORT_TLP, Labels, make_labels
from jointwatch.releasability import tlp_allows
from jointwatch.store import (
    BankItem,
    Engine,
    MatchableRow,
    Viewer,
    add_bank_items,
    exportable_bank_rows,
    get_member,
)

HASH_KINDS = ("pdq", "md5", "sha256")
# deltas of at most this many items, and about this many characters of signals (the vPDQ of long videos): a
# fetcher applies and checkpoints each before the next
DELTA_ITEMS = 5_000
DELTA_CHARS = 20_000_000


def signal_types() -> dict[str, Any]:
    """Our hash kind -> the threatexchange SignalType class it travels as."""
    require("threatexchange", "threatexchange")
    from threatexchange.signal_type.md5 import VideoMD5Signal
    from threatexchange.signal_type.pdq.signal import PdqSignal
    from threatexchange.signal_type.sha256 import VideoSHA256Signal

    types: dict[str, Any] = {"pdq": PdqSignal, "md5": VideoMD5Signal, "sha256": VideoSHA256Signal}
    try:
        from threatexchange.extensions.vpdq.vpdq import VPDQSignal
    except ImportError:  # its vpdq extension needs the vpdq and faiss packages (the media extra)
        return types
    return {**types, "vpdq": VPDQSignal}


def vpdq_value(signature: bytes | None, compact: bool = False) -> str | None:
    """A banked video's vPDQ as the package's ``VPDQSignal`` takes it (checked by its ``validate_signal_str``): a
    JSON list of ``<PDQ hex>,<quality>,<seconds>``, one a frame (the bank's four a second); None for anything else.
    Seconds are written to 3 decimals: the package's own ``str`` of a feature keeps 3 significant digits (100.75 s
    becomes ``1.01e+02``), which would move frames of long videos by seconds. ``compact``: no spaces (a line of
    ``te-signals`` is split at spaces)."""
    vpdq = signal_types().get("vpdq")
    if vpdq is None or not signature or not is_clip_signature(signature):
        return None
    clip = ClipSignature.from_bytes(signature)
    if clip.kind != "video" or not len(clip.frames):
        return None
    return str(vpdq.validate_signal_str(json.dumps(vpdq_features(clip),
                                                   separators=(",", ":") if compact else None)))


def vpdq_from_signal(signal: str) -> bytes:
    """The stored signature of a video known by its vPDQ alone (the package's ``json_to_vpdq`` reads the signal);
    ValueError naming the fault."""
    from threatexchange.extensions.vpdq.vpdq_util import json_to_vpdq

    features = json_to_vpdq(signal)
    return vpdq_signature([f"{f.pdq_hex},{f.quality},{f.timestamp}" for f in features]).to_bytes()


def item_signals(item: BankItem, signature: bytes | None) -> list[tuple[str, str]]:
    """An item's signals as the package's types name and check them: (signal type, value), its vPDQ last."""
    types = signal_types()
    signals = [(types[k].get_name(), str(types[k].validate_signal_str(getattr(item, k))))
               for k in HASH_KINDS if getattr(item, k)]
    vpdq = vpdq_value(signature)
    return signals + ([(types["vpdq"].get_name(), vpdq)] if vpdq else [])


def _kind_of(type_name: str) -> str | None:
    return next((kind for kind, cls in signal_types().items() if cls.get_name() == type_name), None)


def _classes() -> tuple[Any, Any]:
    """Our checkpoint and metadata as subclasses of the package's (made once, when first asked)."""
    global _CLASSES
    if _CLASSES is None:
        from threatexchange.exchanges import fetch_state as state

        @dataclass
        class BankCheckpoint(state.FetchCheckpointBase):  # type: ignore[misc]
            """Where a fetch got to: the newest change it saw (time, then item id)."""

            updated_at: float = 0.0
            item_id: int = 0

            def get_progress_timestamp(self) -> int | None:
                return int(self.updated_at)

        @dataclass
        class BankSignalMetadata(state.FetchedSignalMetadata):  # type: ignore[misc]
            """One banked item's signal: its ref, its labels as tags, and whether it is disputed."""

            item: str = ""
            tags: list[str] = field(default_factory=list)
            disputed: bool = False

            def get_as_opinions(self) -> list[Any]:
                category = (state.SignalOpinionCategory.NEGATIVE_CLASS if self.disputed
                            else state.SignalOpinionCategory.POSITIVE_CLASS)
                return [state.SignalOpinion(False, category, set(self.tags))]

        _CLASSES = (BankCheckpoint, BankSignalMetadata)
    return _CLASSES


_CLASSES: tuple[Any, Any] | None = None


def _tags(item: BankItem) -> list[str]:
    return [item.content_type, f"tlp:{item.tlp}"] + ([f"group:{item.group}"] if item.group else [])


def _labels_of(tags: list[str] | set[str], default: Labels, where: str, path: Path) -> Labels:
    by = {t.split(":", 1)[0]: t.split(":", 1)[1] for t in tags if ":" in t}
    content = next((t for t in tags if ":" not in t), None)
    try:
        return make_labels(content or default.content_type, by.get("group", default.group), by.get("tlp", default.tlp))
    except JointwatchError as exc:  # make_labels refused: named with its place
        raise ListFormatError(path, where, str(exc)) from None


def visible_rows(engine: Engine, viewer: Viewer,
                 member: str | int | None = None) -> list[tuple[tuple[float, int], MatchableRow]]:
    """The items ``viewer`` may see (any status), each with its place in order of change (time, item id)."""
    return sorted((((r.item.updated_at.timestamp(), r.item.id), r)
                   for r in exportable_bank_rows(engine, viewer, ("active", "disputed", "withdrawn"), member)),
                  key=lambda pair: pair[0])


def changed_rows(engine: Engine, viewer: Viewer, since: tuple[float, int],
                 member: str | int | None = None) -> list[tuple[tuple[float, int], MatchableRow]]:
    """The items ``viewer`` may see (any status) changed after ``since`` (time, item id), in order of change."""
    return [(key, row) for key, row in visible_rows(engine, viewer, member) if key > since]


def bank_deltas(engine: Engine, viewer: Viewer, checkpoint: Any = None, max_tlp: str = DEFAULT_EXPORT_TLP,
                member: str | int | None = None, items: int = DELTA_ITEMS,
                max_chars: int = DELTA_CHARS) -> Iterator[Any]:
    """threatexchange ``FetchDelta``s of what changed in the bank since ``checkpoint`` (None: everything), as
    ``viewer`` may see it up to ``max_tlp`` (of one contributor or all); each at most ``items`` items and about
    ``max_chars`` characters of signals (a video's vPDQ runs ~80 a frame: an hour, 1 MB), in order of change."""
    from threatexchange.exchanges.fetch_state import FetchDelta

    checkpoint_cls, metadata_cls = _classes()
    since = (checkpoint.updated_at, checkpoint.item_id) if checkpoint is not None else (float("-inf"), 0)
    changed = [(key, row) for key, row in changed_rows(engine, viewer, since, member)
               if tlp_allows(row.item.tlp, max_tlp)]
    updates: dict[tuple[str, str], Any] = {}
    count = chars = 0
    for number, (at, row) in enumerate(changed):
        item = row.item
        for key in item_signals(item, row.signature):
            # withdrawn: gone from the bank, so gone from the fetcher's copy (HMA's None)
            updates[key] = None if item.status == "withdrawn" else metadata_cls(
                item=item.ref, tags=_tags(item), disputed=item.status == "disputed")
            chars += len(key[1])
        count += 1
        if count >= items or chars >= max_chars or number == len(changed) - 1:
            yield FetchDelta(updates, checkpoint_cls(updated_at=at[0], item_id=at[1]))
            updates, count, chars = {}, 0, 0


def delta_to_json(delta: Any) -> dict[str, Any]:
    """A delta as JSON (the package's ``dataclass_json`` for the checkpoint and each signal's metadata)."""
    from threatexchange.utils.dataclass_json import dataclass_dump_dict

    return {"checkpoint": dataclass_dump_dict(delta.checkpoint),
            "updates": [{"signal_type": t, "signal": s, "metadata": None if m is None else dataclass_dump_dict(m)}
                        for (t, s), m in delta.updates.items()]}


def delta_from_json(data: object, path: Path) -> Any:
    """The ``FetchDelta`` in ``data``, every signal checked by its type's ``validate_signal_str``;
    ListFormatError naming the update at the first bad one."""
    from threatexchange.exchanges.fetch_state import FetchDelta
    from threatexchange.utils.dataclass_json import dataclass_load_dict

    checkpoint_cls, metadata_cls = _classes()
    if not isinstance(data, dict) or not isinstance(data.get("updates"), list) or not isinstance(
            data.get("checkpoint"), dict):
        raise ListFormatError(path, None, 'expected {"checkpoint": {...}, "updates": [...]}')
    updates: dict[tuple[str, str], Any] = {}
    for number, update in enumerate(data["updates"]):
        where = f"updates[{number}]"
        if not isinstance(update, dict):
            raise ListFormatError(path, where, "not an object")
        kind = _kind_of(str(update.get("signal_type")))
        if kind is None:
            raise ListFormatError(path, where, f"signal type {update.get('signal_type')!r} is not one of "
                                               f"{', '.join(c.get_name() for c in signal_types().values())}")
        try:
            signal = signal_types()[kind].validate_signal_str(str(update.get("signal", "")))
            metadata = update.get("metadata")
            updates[(signal_types()[kind].get_name(), signal)] = (
                None if metadata is None else dataclass_load_dict(metadata, metadata_cls))
        except (ValueError, TypeError, KeyError) as exc:
            raise ListFormatError(path, where, str(exc)) from None
    try:
        checkpoint = dataclass_load_dict(data["checkpoint"], checkpoint_cls)
    except (ValueError, TypeError, KeyError) as exc:
        raise ListFormatError(path, "checkpoint", str(exc)) from None
    return FetchDelta(updates, checkpoint)


def apply_delta(engine: Engine, delta: Any, member: str | int, user: str, default: Labels,
                source: Path = Path("fetch")) -> ImportResult:
    """Bank a delta's signals under ``member``, one item per ref (all or nothing): new and changed signals are
    banked or relabelled, disputed ones banked disputed, removed ones (None) withdrawn from ``member``'s copy."""
    owner = get_member(engine, member)
    joined: dict[str, dict[str, Any]] = {}
    for number, ((type_name, signal), metadata) in enumerate(delta.updates.items()):
        kind = _kind_of(type_name)
        if kind is None:
            continue  # a signal type we do not match (e.g. url): not ours to bank
        # any exchange's metadata: ours names the item; the rest are one signal an item
        ref = getattr(metadata, "item", "") or f"{type_name}:{signal}"
        entry = joined.setdefault(ref, {"metadata": metadata, "where": f"update {number}"})
        if entry.get(kind) not in (None, signal):
            raise ListFormatError(source, f"update {number}", f"a second {kind} for item {ref}")
        entry[kind] = signal
        entry["metadata"] = entry["metadata"] or metadata
    from threatexchange.exchanges.fetch_state import AggregateSignalOpinionCategory

    records = []
    for entry in joined.values():
        metadata = entry["metadata"]
        opinion = metadata.get_as_aggregate_opinion() if metadata is not None else None
        labels = _labels_of(sorted(opinion.tags) if opinion else [], default, entry["where"], source)
        # the package's opinion: negative (a known false positive) or disputed among its owners banks it disputed
        negative = opinion is not None and opinion.category in (AggregateSignalOpinionCategory.NEGATIVE_CLASS,
                                                                  AggregateSignalOpinionCategory.DISPUTED)
        status = "withdrawn" if metadata is None else "disputed" if negative else "active"
        try:  # a video's vPDQ: kept as its signature (frames only), matched as the banked video's frames are
            signature = vpdq_from_signal(entry["vpdq"]) if entry.get("vpdq") else None
        except ValueError as exc:
            raise ListFormatError(source, entry["where"], f"vpdq: {exc}") from None
        records.append(new_item(labels, md5=entry.get("md5"), sha256=entry.get("sha256"), pdq=entry.get("pdq"),
                                pdq_quality=None, signature=signature, origin="fetch:threatexchange", status=status,
                                reason=f"fetched from {source.name}, {entry['where']}"))
    banked = add_bank_items(engine, owner.id, user, records)
    # a signal already banked keeps its status through a relabel: the delta's status is a change of status
    for record, (item_id, new) in zip(records, banked, strict=True):
        if not new:
            restate(engine, item_id, owner.id, user, record.status, record.reason)
    created = sum(new for _, new in banked)
    return ImportResult(created, len(banked) - created, sum(r.status == "disputed" for r in records))


def write_signal_file(path: Path, rows: list[tuple[BankItem, bytes | None]]) -> int:
    """Items as threatexchange's signal file (``te-file``; ``exchange.export_bank`` picks them); the lines written."""
    lines = [f"{name} {value}" for item, signature in rows for name, value in item_signals(item, signature)]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return len(lines)


def read_signal_file(path: Path) -> Any:
    """threatexchange's own reading of a signal file (``LocalFileSignalExchangeAPI``) as one FetchDelta."""
    from threatexchange.exchanges.impl.file_api import FileCollaborationConfig, LocalFileSignalExchangeAPI

    if not path.is_file():
        raise ListFormatError(path, None, "no such file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ListFormatError(path, f"byte {exc.start}", "not UTF-8 text") from None
    # every line checked here, by its own number: the package skips a line without a value and numbers
    # what it kept, so a bad line would be dropped or named wrongly
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split(None, 1)
        if len(parts) < 2:
            raise ListFormatError(path, f"line {number}", "expected '<signal type> <value>'")
        kind = _kind_of(parts[0])
        if kind is None:
            raise ListFormatError(path, f"line {number}", f"signal type {parts[0]!r} is not one we match")
        try:
            signal_types()[kind].validate_signal_str(parts[1].strip())
        except ValueError as exc:
            raise ListFormatError(path, f"line {number}", str(exc)) from None
    api = LocalFileSignalExchangeAPI(FileCollaborationConfig(name="jointwatch", api="local_file", enabled=True,
                                                             filename=str(path.resolve())))
    [delta] = list(api.fetch_iter(list(signal_types().values()), None))
    return delta


def read_checkpoint(path: Path) -> Any:
    """The checkpoint kept in ``path`` (None if there is none yet)."""

    if not path.exists():
        return None
    try:
        return _checkpoint(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, TypeError, KeyError, RecursionError) as exc:
        raise ListFormatError(path, None, f"not a checkpoint: {exc}") from None


def parse_checkpoint(text: str) -> Any:
    """A checkpoint from its JSON (as GET /media/signals gives it); InvalidInputError if it is not one."""
    try:
        return _checkpoint(json.loads(text))
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
        raise InvalidInputError(f"checkpoint: not one this bank gave ({exc})") from None


def _checkpoint(data: object) -> Any:
    """The checkpoint in parsed JSON; TypeError unless it is an object whose fields have the checkpoint's types
    (the package's loader trusts its input: a wrong type raised its own error, a list loaded as nothing)."""
    from threatexchange.utils.dataclass_json import dataclass_load_dict

    if not isinstance(data, dict):
        raise TypeError("not a JSON object")
    try:
        checkpoint = dataclass_load_dict(data, _classes()[0])
    except Exception as exc:  # noqa: BLE001 - dacite's errors (WrongTypeError …) are not ValueErrors
        raise TypeError(str(exc)) from None
    if not (isinstance(checkpoint.updated_at, int | float) and isinstance(checkpoint.item_id, int)
            and abs(checkpoint.updated_at) < 1e11 and checkpoint.item_id >= 0):
        raise TypeError("updated_at must be seconds since 1970 and item_id a whole number")
    return checkpoint


def fetch_signals(source: str, engine: Engine, member: str | int, user: str, default: Labels, checkpoint_file: Path,
          key: str | None = None) -> ImportResult:
    """Bank under ``member`` what changed at ``source`` since the checkpoint kept in ``checkpoint_file``, delta by
    delta, keeping the checkpoint after each: a jointwatch service's GET /media/signals (``key``: an API key), or
    a file of one delta's JSON. Run again, it moves only what changed since."""
    import httpx
    from threatexchange.utils.dataclass_json import dataclass_dump_dict

    totals = ImportResult(0, 0, 0)
    while True:
        checkpoint = read_checkpoint(checkpoint_file)
        if source.startswith(("http://", "https://")):
            params = {"checkpoint": json.dumps(dataclass_dump_dict(checkpoint))} if checkpoint else {}
            try:
                response = httpx.get(source, params=params, timeout=60.0,
                                     headers={"Authorization": f"Bearer {key}"} if key else {})
                response.raise_for_status()
                data = response.json()
            except (httpx.HTTPError, ValueError, RecursionError) as exc:
                raise DownloadError("media fetch", source, str(exc) or "nested too deeply") from None
            place = Path(httpx.URL(source).path)
        else:
            place = Path(source)
            try:
                data = json.loads(place.read_text(encoding="utf-8"))
            except (OSError, ValueError, RecursionError) as exc:
                raise ListFormatError(place, None, f"cannot read a delta: {exc or 'nested too deeply'}") from None
        if not data.get("updates") if isinstance(data, dict) else False:
            return totals
        delta = delta_from_json(data, place)
        done = apply_delta(engine, delta, member, user, default, place)
        totals = ImportResult(totals.created + done.created, totals.updated + done.updated,
                              totals.disputed + done.disputed)
        write_checkpoint(checkpoint_file, delta.checkpoint)
        if not (isinstance(data, dict) and data.get("more")):
            return totals


def write_checkpoint(path: Path, checkpoint: Any) -> None:
    """Keep ``checkpoint`` in ``path`` (written whole, then renamed: a crash leaves the old one)."""
    from threatexchange.utils.dataclass_json import dataclass_dump_dict

    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(dataclass_dump_dict(checkpoint)), encoding="utf-8")
    partial.replace(path)


def now_checkpoint() -> Any:
    """A checkpoint at this moment (nothing before it will be fetched)."""
    return _classes()[0](updated_at=datetime.now(UTC).timestamp(), item_id=0)
