"""The bank: contributions per member, disputes that stop matching, withdrawals, and the history."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import Engine

from jointwatch.errors import ConflictError, InvalidInputError
from jointwatch.media.bank import change_status, get_item, history, list_items
from jointwatch.media.files import contribute_files, match_files
from jointwatch.media.labels import make_labels
from jointwatch.media.matcher import load_matcher
from jointwatch.store.members import Member
from tests.media.conftest import edited, image_bytes


def _bank(engine: Engine, member: Member, path: Path, content_type: str = "propaganda", group: str = "ISIL") -> int:
    [outcome] = contribute_files(engine, member.id, "analyst", [path], make_labels(content_type, group, "green"))
    assert outcome.error is None and outcome.item is not None
    return outcome.item.id


def _matched_ids(engine: Engine, path: Path, viewer: int | None = None) -> set[int]:
    [outcome] = match_files(engine, load_matcher(engine), viewer, [path])
    assert outcome.error is None
    return {m.item.id for m in outcome.matches}


def test_contribute_keeps_hashes_labels_and_contributor(bank_store: Engine, partners: tuple[Member, Member],
                                                        photo_files: dict[str, Path]) -> None:
    a, _ = partners
    item = get_item(bank_store, _bank(bank_store, a, photo_files["astronaut"]), None)
    assert (item.contributor, item.group, item.content_type, item.tlp, item.status) == (
        "Platform A", "ISIL", "propaganda", "green", "active")
    assert item.pdq and item.sha256 and item.md5 and item.pdq_quality == 100
    assert [e.action for e in history(bank_store, item.id, a.id)] == ["contribute"]


def test_same_file_twice_by_one_member_relabels_its_own_row(bank_store: Engine, partners: tuple[Member, Member],
                                                            photo_files: dict[str, Path]) -> None:
    a, _ = partners
    first = _bank(bank_store, a, photo_files["astronaut"])
    second = _bank(bank_store, a, photo_files["astronaut"], "recruitment", "Al-Qaida")
    assert first == second and len(list_items(bank_store, a.id)) == 1
    assert get_item(bank_store, first, a.id).content_type == "recruitment"


def test_two_members_banking_one_file_keep_their_own_labels(bank_store: Engine, partners: tuple[Member, Member],
                                                            photo_files: dict[str, Path]) -> None:
    a, b = partners
    mine = _bank(bank_store, a, photo_files["astronaut"], "logo", "ISIL")
    theirs = _bank(bank_store, b, photo_files["astronaut"], "execution", "Al-Shabaab")
    assert mine != theirs
    assert get_item(bank_store, mine, b.id).group == "ISIL" and get_item(bank_store, theirs, a.id).group == "Al-Shabaab"
    assert _matched_ids(bank_store, photo_files["astronaut"]) == {mine, theirs}


def test_a_disputed_hash_stops_matching_and_keeps_its_history(bank_store: Engine, partners: tuple[Member, Member],
                                                              photo_files: dict[str, Path], tmp_path: Path,
                                                              photos: dict[str, Image.Image]) -> None:
    a, b = partners
    item = _bank(bank_store, a, photo_files["astronaut"])
    cropped = tmp_path / "cropped.jpg"
    cropped.write_bytes(image_bytes(edited(photos["astronaut"], "crop"), "JPEG"))
    assert _matched_ids(bank_store, photo_files["astronaut"]) == {item}
    assert _matched_ids(bank_store, cropped) == {item}

    change_status(bank_store, item, b.id, "reviewer", "dispute", "NASA public-domain photo, not propaganda")
    # another member's dispute: the item stops matching for that member at once, nor by its signature
    assert _matched_ids(bank_store, photo_files["astronaut"], b.id) == set()
    assert _matched_ids(bank_store, cropped, b.id) == set()
    assert get_item(bank_store, item, b.id).status == "disputed"
    # ... and for no one else: one analyst cannot switch the bank off item by item
    assert _matched_ids(bank_store, photo_files["astronaut"], a.id) == {item}
    assert _matched_ids(bank_store, cropped) == {item}
    assert get_item(bank_store, item, a.id).status == "active"

    change_status(bank_store, item, a.id, "analyst", "dispute", "agreed with Agency B: under review")
    assert _matched_ids(bank_store, photo_files["astronaut"], a.id) == set()
    assert _matched_ids(bank_store, photo_files["astronaut"]) == set()

    change_status(bank_store, item, a.id, "analyst", "reinstate", "reviewed: appeal rejected")
    assert _matched_ids(bank_store, photo_files["astronaut"]) == {item}
    assert _matched_ids(bank_store, photo_files["astronaut"], b.id) == set()  # B's own dispute stands for B
    change_status(bank_store, item, a.id, "analyst", "withdraw", "contributed by mistake")
    assert _matched_ids(bank_store, photo_files["astronaut"]) == set()
    events = history(bank_store, item, a.id)
    assert [(e.action, e.status, e.member) for e in events] == [
        ("contribute", "active", "Platform A"), ("dispute", "active", "Agency B"),
        ("dispute", "disputed", "Platform A"), ("reinstate", "active", "Platform A"),
        ("withdraw", "withdrawn", "Platform A")]
    assert events[1].reason == "NASA public-domain photo, not propaganda"
    # another member's users are not A's to see; its own are
    assert [e.user for e in events] == ["analyst", None, "analyst", "analyst", "analyst"]
    assert get_item(bank_store, item, None).pdq  # withdrawn, not deleted


def test_only_the_contributor_withdraws_or_reinstates(bank_store: Engine, partners: tuple[Member, Member],
                                                      photo_files: dict[str, Path]) -> None:
    a, b = partners
    item = _bank(bank_store, a, photo_files["coffee"])
    with pytest.raises(ConflictError, match="only the member that contributed"):
        change_status(bank_store, item, b.id, "x", "withdraw", "I do not like it")
    change_status(bank_store, item, b.id, "x", "dispute", "false positive")
    with pytest.raises(ConflictError, match="already disputed"):
        change_status(bank_store, item, b.id, "x", "dispute", "again")
    change_status(bank_store, item, a.id, "x", "dispute", "agreed")
    with pytest.raises(ConflictError, match="only the member that contributed"):
        change_status(bank_store, item, b.id, "x", "reinstate", "changed my mind")
    with pytest.raises(ConflictError, match="is disputed"):
        change_status(bank_store, item, a.id, "x", "dispute", "again")
    with pytest.raises(InvalidInputError, match="give a reason"):
        change_status(bank_store, item, a.id, "x", "withdraw", "  ")
    assert get_item(bank_store, item, None).status == "disputed"


def test_a_batch_goes_on_past_bad_files(bank_store: Engine, partners: tuple[Member, Member], tmp_path: Path,
                                        photo_files: dict[str, Path]) -> None:
    a, _ = partners
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "half.png").write_bytes(photo_files["rocket"].read_bytes()[:3000])
    outcomes = list(contribute_files(bank_store, a.id, "x", sorted(tmp_path.glob("*.png")),
                                     make_labels("other")))
    errors = {Path(o.path).name: o.error for o in outcomes if o.error}
    assert set(errors) == {"empty.png", "half.png"}
    assert "empty" in errors["empty.png"] and "truncated" in errors["half.png"]
    assert {Path(o.path).name for o in outcomes if o.item} == {"astronaut.png", "chelsea.png", "coffee.png",
                                                               "rocket.png"}
