"""Exchange through the real threatexchange package: its signal file, its fetch deltas, checkpoints (no mocks)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine

from jointwatch.errors import ListFormatError
from jointwatch.media.bank import change_status, list_items
from jointwatch.media.exchange import export_bank, import_file
from jointwatch.media.files import contribute_files
from jointwatch.media.labels import make_labels
from jointwatch.media.te import (
    apply_delta,
    bank_deltas,
    delta_from_json,
    delta_to_json,
    read_checkpoint,
    read_signal_file,
    write_checkpoint,
)
from jointwatch.store.members import Member

threatexchange = pytest.importorskip("threatexchange")
from threatexchange.exchanges.fetch_state import SignalOpinionCategory  # noqa: E402
from threatexchange.signal_type.pdq.signal import PdqSignal  # noqa: E402


def _hashes(engine: Engine, member: int) -> set[tuple[str | None, str | None, str | None]]:
    return {(i.md5, i.sha256, i.pdq) for i in list_items(engine, member, member=member)}


def test_signal_file_read_by_threatexchange_and_back(bank_store: Engine, partners: tuple[Member, Member],
                                                     photo_files: dict[str, Path], tmp_path: Path) -> None:
    a, b = partners
    list(contribute_files(bank_store, a.id, "x", [photo_files["astronaut"], photo_files["coffee"]],
                          make_labels("recruitment", "ISIL", "green")))
    path = tmp_path / "signals.txt"
    assert export_bank(bank_store, path, "te-file") == 6     # pdq, md5, sha256 of each
    delta = read_signal_file(path)                           # threatexchange's LocalFileSignalExchangeAPI
    names = {t for t, _ in delta.updates}
    assert names == {"pdq", "video_md5", "video_sha256"}
    for (t, signal) in delta.updates:
        if t == "pdq":
            assert PdqSignal.validate_signal_str(signal) == signal
    result = import_file(bank_store, path, "te-file", b.id, "y", make_labels("propaganda"))
    assert result.created == 6   # a plain signal file has no item tie: one item per signal
    assert {h for i in list_items(bank_store, b.id, member=b.id) for h in (i.md5, i.sha256, i.pdq) if h} == {
        h for key in _hashes(bank_store, a.id) for h in key if h}
    bad = tmp_path / "bad.txt"
    bad.write_text("pdq 1234\n")
    with pytest.raises(ListFormatError, match="line 1"):
        read_signal_file(bad)


def test_fetch_deltas_round_trip_labels_and_move_only_what_changed(
        bank_store: Engine, partners: tuple[Member, Member], photo_files: dict[str, Path], tmp_path: Path) -> None:
    a, b = partners
    outcomes = list(contribute_files(bank_store, a.id, "x", [photo_files["astronaut"], photo_files["coffee"]],
                                     make_labels("recruitment", "ISIL", "green")))
    # everything, through JSON, parsed back by the package's dataclass_json into its FetchDelta
    [delta] = list(bank_deltas(bank_store, None, member=a.id))
    wire = tmp_path / "delta.json"
    wire.write_text(json.dumps(delta_to_json(delta)))
    parsed = delta_from_json(json.loads(wire.read_text()), wire)
    assert parsed.updates.keys() == delta.updates.keys()
    opinion = next(iter(parsed.updates.values())).get_as_aggregate_opinion()
    assert opinion.category == SignalOpinionCategory.POSITIVE_CLASS
    assert {"recruitment", "group:ISIL", "tlp:green"} <= set(opinion.tags)
    assert apply_delta(bank_store, parsed, b.id, "y", make_labels("other"), wire).created == 2
    theirs = list_items(bank_store, b.id, member=b.id)
    assert {(i.group, i.content_type, i.tlp, i.status) for i in theirs} == {("ISIL", "recruitment", "green", "active")}
    assert _hashes(bank_store, b.id) == _hashes(bank_store, a.id)

    # the checkpoint: nothing new, nothing moves; one withdrawal moves that item only, as removals (None)
    checkpoint_file = tmp_path / "checkpoint.json"
    write_checkpoint(checkpoint_file, delta.checkpoint)
    checkpoint = read_checkpoint(checkpoint_file)
    assert list(bank_deltas(bank_store, None, checkpoint, member=a.id)) == []
    withdrawn = outcomes[0].item
    assert withdrawn is not None
    change_status(bank_store, withdrawn.id, a.id, "x", "withdraw", "banked by mistake")
    [change] = list(bank_deltas(bank_store, None, checkpoint, member=a.id))
    assert set(change.updates.values()) == {None}
    assert {s for _, s in change.updates} == {h for h in (withdrawn.md5, withdrawn.sha256, withdrawn.pdq) if h}
    again = delta_from_json(delta_to_json(change), wire)
    assert apply_delta(bank_store, again, b.id, "y", make_labels("other"), wire).updated == 1
    statuses = {i.sha256: i.status for i in list_items(bank_store, b.id, member=b.id, status=None)}
    assert statuses[withdrawn.sha256] == "withdrawn"


def test_bad_deltas_name_the_update(tmp_path: Path) -> None:
    where = tmp_path / "delta.json"
    with pytest.raises(ListFormatError, match=r"updates\[0\].*not a valid PDQ|updates\[0\]"):
        delta_from_json({"checkpoint": {"updated_at": 0, "item_id": 0},
                         "updates": [{"signal_type": "pdq", "signal": "zz", "metadata": None}]}, where)
    with pytest.raises(ListFormatError, match="signal type 'url'"):
        delta_from_json({"checkpoint": {}, "updates": [{"signal_type": "url", "signal": "x"}]}, where)
    with pytest.raises(ListFormatError, match="expected"):
        delta_from_json([], where)


def test_fetch_deltas_give_another_member_no_red_item(bank_store: Engine, partners: tuple[Member, Member],
                                                      tmp_path: Path) -> None:
    # what GET /media/signals serves: even asking for up to red, a member never gets another's red item
    a, b = partners
    for value, tlp in (("f" * 64, "green"), ("e" * 32, "red")):
        path = tmp_path / f"{tlp}.txt"
        path.write_text(f"{'pdq' if len(value) == 64 else 'md5'} {value}\n")
        import_file(bank_store, path, "te-signals", a.id, "x", make_labels("logo", None, tlp))

    def values(viewer: int) -> set[str]:
        return {signal for delta in bank_deltas(bank_store, viewer, None, "red")
                for (_, signal), update in delta.updates.items() if update is not None}

    assert values(a.id) == {"f" * 64, "e" * 32}
    assert values(b.id) == {"f" * 64}


def test_hostile_exchange_files_are_refused_naming_the_place(bank_store: Engine, partners: tuple[Member, Member],
                                                            photo_files: dict[str, Path], tmp_path: Path) -> None:
    a, _ = partners
    labels = make_labels("propaganda")
    good = "0" * 63 + "1"
    cases = {
        "binary.txt": (photo_files["coffee"].read_bytes(), "te-file", "not UTF-8"),
        # a line without a value was dropped by the package, and later lines named by what it kept
        "novalue.txt": (f"pdq {good}\n\n\npdq{good}\n".encode(), "te-file", "line 4"),
        "deep.json": (("[" * 100_000 + "]" * 100_000).encode(), "jointwatch-json", "nested too deeply"),
        "deep.jsonl": (("[" * 100_000 + "]" * 100_000).encode(), "te-json", "nested too deeply"),
        "nul.csv": (f"md5,sha256,pdq,group\n,,{good},IS\x00IL\n".encode(), "jointwatch-csv", "NUL"),
    }
    for name, (data, fmt, said) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(ListFormatError, match=said) as raised:
            import_file(bank_store, path, fmt, a.id, "x", labels)
        assert name in str(raised.value)
    assert list_items(bank_store, a.id, member=a.id) == []      # nothing banked by any of them
    checkpoint = tmp_path / "checkpoint.json"
    for bad in ('{"updated_at": 1, "item_id": "x"}', '{"updated_at": 1e308, "item_id": 0}', "[1, 2]"):
        checkpoint.write_text(bad)
        with pytest.raises(ListFormatError, match="not a checkpoint"):
            read_checkpoint(checkpoint)
