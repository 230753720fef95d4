"""The store on real lists: versions, provenance, idempotent and all-or-nothing loads."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from jointwatch.errors import ListFormatError, NotFoundError
from jointwatch.sources import open_list
from jointwatch.store import (
    diff_versions,
    iter_entities,
    list_versions_of,
    listing_versions,
    load_list,
    show_entity,
)
from jointwatch.store.schema import list_versions, statements, version_statements
from tests.conftest import OFAC_2023_03, OFAC_2023_06, UN_FILE
from tests.store.conftest import make_store


def _table_counts(engine: Engine) -> tuple[int, int, int]:
    with engine.connect() as c:
        return tuple(c.execute(select(func.count()).select_from(t)).scalar_one()  # type: ignore[return-value]
                     for t in (list_versions, statements, version_statements))


def test_un_load_is_complete_and_idempotent(store: Engine) -> None:
    first = load_list(store, open_list(UN_FILE, "un"))
    assert first.created
    assert first.source == "un_sc"
    assert first.published == date(2026, 2, 27)
    assert first.version.startswith("2026-02-27-")
    assert first.schema_counts == {"Person": 730, "Organization": 273}
    before = _table_counts(store)
    second = load_list(store, open_list(UN_FILE, "un"))
    assert not second.created
    assert second.version == first.version
    assert _table_counts(store) == before
    assert before[1] == first.statements  # no statement stored twice


def test_entity_provenance_qdi_354(store: Engine) -> None:
    result = load_list(store, open_list(UN_FILE, "un"))
    (view,) = show_entity(store, "QDi.354")
    assert view.source == "un_sc"
    assert view.entity_id == "un-sc-QDi.354"
    assert view.caption == "TARAK BEN TAHER BEN FALEH OUNI HARZI"
    assert view.listed_now
    names = {s.value for s in view.statements if s.prop == "name" and s.entity_id == view.entity_id}
    assert "طارق بن الطاھر بن الفالح العوني الحرزي" in names
    for s in view.statements:
        assert s.reference == "QDi.354"
        assert s.first_seen == s.last_seen == result.published
        assert s.current
    nationality = next(s for s in view.statements if s.prop == "nationality")
    assert (nationality.value, nationality.original_value) == ("tn", "Tunisia")
    # the same listing is found by its entity id, and reassembles into entities
    (by_id,) = show_entity(store, "un-sc-QDi.354")
    main = by_id.entities()[0]
    assert main.get("passportNumber") == ["Z050399"]
    with pytest.raises(NotFoundError):
        show_entity(store, "QDi.99999")


def test_failed_load_leaves_store_exactly_as_it_was(store: Engine, tmp_path: Path) -> None:
    load_list(store, open_list(UN_FILE, "un"))
    before = _table_counts(store)
    versions = list_versions_of(store)
    broken = tmp_path / "un_consolidated_2026-03-01.xml"
    data = UN_FILE.read_bytes()
    broken.write_bytes(data[: int(len(data) * 0.9)])  # fails after thousands of statements
    with pytest.raises(ListFormatError, match="un_consolidated_2026-03-01.xml"):
        load_list(store, open_list(broken, "un"))
    assert _table_counts(store) == before
    assert list_versions_of(store) == versions


def _raw(path: Path) -> dict[str, list[str]]:
    text = path.read_text(encoding="utf-8").rstrip("\x1a\r\n")
    return {row[0]: [f.strip() for f in row] for row in csv.reader(io.StringIO(text)) if row}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def ofac_store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Engine:
    engine = make_store(request.param, tmp_path_factory.mktemp("ofac"))
    load_list(engine, open_list(OFAC_2023_03, "ofac-sdn"))
    load_list(engine, open_list(OFAC_2023_06, "ofac-sdn"))
    return engine


def test_diff_matches_an_independent_derivation(ofac_store: Engine) -> None:
    old, new = _raw(OFAC_2023_03), _raw(OFAC_2023_06)
    diff = diff_versions(ofac_store, "us_ofac_sdn")
    assert diff.from_version.startswith("2023-03-01")
    assert diff.to_version.startswith("2023-06-05")
    assert {c.reference for c in diff.added} == set(new) - set(old)
    assert {c.reference for c in diff.removed} == set(old) - set(new)
    assert {c.reference for c in diff.changed} == {k for k in set(old) & set(new) if old[k] != new[k]}
    # and backwards, additions become removals
    back = diff_versions(ofac_store, "us_ofac_sdn", "2023-06-05", "2023-03-01")
    assert {c.reference for c in back.added} == set(old) - set(new)


def test_one_listings_diff_is_its_part_of_the_whole(ofac_store: Engine) -> None:
    whole = diff_versions(ofac_store, "us_ofac_sdn")
    for kind in ("added", "removed", "changed"):
        for change in getattr(whole, kind)[:5]:
            part = diff_versions(ofac_store, "us_ofac_sdn", reference=change.reference)
            assert (part.from_version, part.to_version) == (whole.from_version, whole.to_version)
            assert getattr(part, kind) == [change]
            assert len(part.added) + len(part.removed) + len(part.changed) == 1
    unchanged = next(r for r in sorted(_raw(OFAC_2023_03)) if r not in {c.reference for c in whole.changed}
                     and r not in {c.reference for c in whole.removed})
    part = diff_versions(ofac_store, "us_ofac_sdn", reference=unchanged)
    assert not (part.added or part.removed or part.changed)


def test_listing_versions_says_which_versions_hold_each_statement(ofac_store: Engine) -> None:
    versions = [v.version for v in list_versions_of(ofac_store, "us_ofac_sdn")]
    whole = diff_versions(ofac_store, "us_ofac_sdn")
    added, removed = whole.added[0].reference, whole.removed[0].reference
    for ref, expected in ((added, [versions[1]]), (removed, [versions[0]])):
        view = show_entity(ofac_store, ref, "us_ofac_sdn")[0]
        held = listing_versions(ofac_store, "us_ofac_sdn", ref)
        assert all(held[s.key] == expected for s in view.statements), ref
    changed = whole.changed[0]
    view = show_entity(ofac_store, changed.reference, "us_ofac_sdn")[0]
    held = listing_versions(ofac_store, "us_ofac_sdn", changed.reference)
    assert {tuple(held[s.key]) for s in view.statements} == {(versions[0],), (versions[1],), tuple(versions)}


def test_diff_names_the_changed_fields(ofac_store: Engine) -> None:
    old, new = _raw(OFAC_2023_03), _raw(OFAC_2023_06)
    diff = diff_versions(ofac_store, "us_ofac_sdn")
    changes = {c.reference: c for c in diff.changed}
    for ref, change in changes.items():
        fields = {fc.field for fc in change.changes}
        if old[ref][9] != new[ref][9]:  # Vess_flag column
            assert "flag" in fields, (ref, fields)
        if old[ref][1] != new[ref][1]:
            assert "name" in fields
        assert change.name  # the listing's name, for people to read


def test_first_and_last_seen_follow_versions(ofac_store: Engine) -> None:
    old, new = _raw(OFAC_2023_03), _raw(OFAC_2023_06)
    kept = sorted(set(old) & set(new))[0]
    gone = sorted(set(old) - set(new))[0]
    fresh = sorted(set(new) - set(old))[0]
    (view,) = show_entity(ofac_store, kept, "us_ofac_sdn")
    name = next(s for s in view.statements if s.prop == "name" and s.entity_id == view.entity_id)
    assert (name.first_seen, name.last_seen) == (date(2023, 3, 1), date(2023, 6, 5))
    (removed,) = show_entity(ofac_store, gone, "us_ofac_sdn")
    assert not removed.listed_now
    assert all(s.last_seen == date(2023, 3, 1) for s in removed.statements)
    (added,) = show_entity(ofac_store, fresh, "us_ofac_sdn")
    assert added.listed_now
    assert all(s.first_seen == date(2023, 6, 5) for s in added.statements)


def test_iter_entities_gives_the_newest_version(ofac_store: Engine) -> None:
    new = _raw(OFAC_2023_06)
    heads = [e for e in iter_entities(ofac_store, "us_ofac_sdn")
             if e.schema.name in ("Person", "Organization", "Vessel", "Airplane")]
    assert {e.id for e in heads} == {f"us-ofac-sdn-{uid}" for uid in new}


def _earlier_un(tmp_path: Path) -> Path:
    """The real UN list as it might have stood a month earlier: QDi.354 without its alias."""
    text = UN_FILE.read_text(encoding="utf-8")
    text = text.replace('dateGenerated="2026-02-27T00:00:09.554Z"', 'dateGenerated="2026-01-27T00:00:00Z"')
    alias = "<ALIAS_NAME>Abou Omar Al Tounisi</ALIAS_NAME>"
    assert alias in text
    path = tmp_path / "un_earlier.xml"
    path.write_text(text.replace(alias, "<ALIAS_NAME/>"), encoding="utf-8")
    return path


def test_older_version_loaded_later_widens_first_seen(store: Engine, tmp_path: Path) -> None:
    load_list(store, open_list(UN_FILE, "un"))
    earlier = load_list(store, open_list(_earlier_un(tmp_path), "un"))
    assert earlier.published == date(2026, 1, 27)
    versions = list_versions_of(store, "un_sc")
    assert [v.published for v in versions] == [date(2026, 1, 27), date(2026, 2, 27)]
    (view,) = show_entity(store, "QDi.354")
    by_prop = {s.prop: s for s in view.statements if s.entity_id == view.entity_id}
    assert (by_prop["birthDate"].first_seen, by_prop["birthDate"].last_seen) == (
        date(2026, 1, 27), date(2026, 2, 27))
    assert by_prop["weakAlias"].first_seen == date(2026, 2, 27)
    diff = diff_versions(store, "un_sc")  # newest against the one before it
    assert [c.reference for c in diff.changed] == ["QDi.354"]
    assert not diff.added and not diff.removed
    (change,) = diff.changed[0].changes
    assert (change.field, change.added, change.removed) == ("weakAlias", ["Abou Omar Al Tounisi"], [])


def test_diff_errors(store: Engine) -> None:
    with pytest.raises(NotFoundError):
        diff_versions(store, "un_sc")
    load_list(store, open_list(UN_FILE, "un"))
    with pytest.raises(NotFoundError, match="no version before"):
        diff_versions(store, "un_sc")
    with pytest.raises(NotFoundError, match="matches no"):
        diff_versions(store, "un_sc", "1999-01-01", None)
