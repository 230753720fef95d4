"""Bulk loading: the COPY path, worker processes, indexes built after the rows, generated lists."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, select

from jointwatch.errors import ListFormatError
from jointwatch.screening import Query, open_screener
from jointwatch.sources import open_list
from jointwatch.store import diff_versions, load_list, open_engine, show_entity
from jointwatch.store.engine import write_transaction
from jointwatch.store.load import BULK_INDEXES, MIN_ROWS_TO_REBUILD, _drop_indexes
from jointwatch.store.schema import statements, version_statements
from tests.conftest import OFAC_2023_06, UN_FILE
from tests.store.conftest import make_store

REPO = Path(__file__).resolve().parents[2]
GENERATOR = REPO / "benchmarks" / "gen_ftm.py"
SOURCE = "gen_test"


def _generate(path: Path, entities: int, seed: int = 7, *extra: str) -> Path:
    """A list made by benchmarks/gen_ftm.py, run as a user runs it."""
    subprocess.run([sys.executable, str(GENERATOR), "--entities", str(entities), "--seed", str(seed),
                    "--out", str(path), *extra], check=True, capture_output=True, cwd=REPO)
    return path


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _generate(tmp_path_factory.mktemp("gen") / "gen_2026-01-01.ftm.json", 3000)


def _statements(engine: Engine) -> set[tuple[object, ...]]:
    """Every stored statement with its provenance, and which version holds it."""
    with engine.connect() as c:
        rows = c.execute(select(statements.c.id, statements.c.entity_id, statements.c.prop, statements.c.value,
                                statements.c.original_value, statements.c.reference, statements.c.first_seen,
                                statements.c.last_seen)).all()
        members = c.execute(select(version_statements.c.statement_id)).scalars().all()
    assert len(members) == len(set(members)) == len(rows)
    return {tuple(r) for r in rows}


def test_generated_list_loads_and_a_listed_person_is_screened(generated: Path, store: Engine) -> None:
    """The generator's file is a valid FtM list: it loads in worker processes, and a person in it
    is found by name and birth date, with the list's own id."""
    lines = [json.loads(line) for line in generated.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 3000
    person = next(e for e in lines[100:] if e["schema"] == "Person" and len(e["properties"]["birthDate"][0]) == 10
                  and not e["properties"]["name"][0].isascii())  # a name in a non-Latin script
    result = load_list(store, open_list(generated, "ftm", SOURCE), workers=2)
    listed = [e for e in lines if e["schema"] in ("Person", "Organization")]
    assert result.entities == len(listed)
    assert result.schema_counts == {s: sum(e["schema"] == s for e in listed) for s in ("Organization", "Person")}
    screener = open_screener(store, policy=None)
    props = person["properties"]
    matches = screener.screen(Query(name=props["name"][0], birth_date=props["birthDate"][0]))
    assert matches and matches[0].entity_id == person["id"]
    assert (matches[0].source, matches[0].reference) == (SOURCE, person["id"])


def test_generator_is_seeded_and_its_next_version_differs(generated: Path, tmp_path: Path) -> None:
    again = _generate(tmp_path / "again.json", 3000)
    assert again.read_bytes() == generated.read_bytes()
    nxt = _generate(tmp_path / "gen_2026-02-01.ftm.json", 0, 8, "--from", str(generated), "--change", "0.1",
                    "--remove", "0.02", "--add", "0.02")
    store = open_engine(str(tmp_path / "store.db"), create=True)
    load_list(store, open_list(generated, "ftm", SOURCE))
    load_list(store, open_list(nxt, "ftm", SOURCE))
    diff = diff_versions(store, SOURCE)
    assert diff.added and diff.removed and diff.changed


def test_worker_processes_store_what_one_process_stores(generated: Path, tmp_path: Path) -> None:
    """Read in two parts side by side or in one pass, the same statements with the same provenance."""
    one = open_engine(str(tmp_path / "one.db"), create=True)
    two = open_engine(str(tmp_path / "two.db"), create=True)
    a = load_list(one, open_list(generated, "ftm", SOURCE), workers=1)
    b = load_list(two, open_list(generated, "ftm", SOURCE), workers=2)
    assert (a.entities, a.statements, a.schema_counts) == (b.entities, b.statements, b.schema_counts)
    assert _statements(one) == _statements(two)


def test_an_error_in_a_worker_names_the_file_and_line(generated: Path, tmp_path: Path) -> None:
    """A bad value in the second worker's share fails the load with its file and line; nothing is stored."""
    lines = generated.read_text(encoding="utf-8").splitlines()
    at = next(i for i in range(len(lines) - 1, 0, -1) if json.loads(lines[i])["schema"] == "Person")
    person = json.loads(lines[at])
    person["properties"]["birthDate"] = ["the year of the flood"]
    lines[at] = json.dumps(person)
    broken = tmp_path / "broken.ftm.json"
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")
    store = open_engine(str(tmp_path / "store.db"), create=True)
    with pytest.raises(ListFormatError) as info:
        load_list(store, open_list(broken, "ftm", SOURCE), workers=2)
    assert str(info.value).startswith(f"{broken}, line {at + 1}: ")
    assert "birthDate" in str(info.value)
    assert not _statements(store)


def test_copy_loads_qdi_354_as_executemany_does(tmp_path: Path) -> None:
    """PostgreSQL's COPY path stores the UN listing QDi.354, its names in Latin and Arabic script,
    its alias and every original spelling, exactly as SQLite's executemany path does."""
    lite = make_store("sqlite", tmp_path)
    pg = make_store("postgresql", tmp_path)  # skipped without a PostgreSQL server
    try:
        for engine in (lite, pg):
            load_list(engine, open_list(UN_FILE, "un"))
        (on_lite,), (on_pg,) = show_entity(lite, "QDi.354"), show_entity(pg, "QDi.354")

        def facts(view: object) -> set[tuple[object, ...]]:
            return {(s.entity_id, s.schema, s.prop, s.value, s.lang, s.original_value, s.first_seen, s.last_seen)
                    for s in view.statements}  # type: ignore[attr-defined]

        assert facts(on_lite) == facts(on_pg)
        names = {(s.prop, s.value) for s in on_pg.statements if s.entity_id == on_pg.entity_id
                 and s.prop in ("name", "alias", "weakAlias")}
        assert names == {("name", "TARAK BEN TAHER BEN FALEH OUNI HARZI"),
                         ("name", "طارق بن الطاھر بن الفالح العوني الحرزي"),
                         ("weakAlias", "Abou Omar Al Tounisi")}
        assert _statements(lite) == _statements(pg)
    finally:
        pg.dispose()


def _index_names(engine: Engine) -> set[str]:
    return {i["name"] for i in inspect(engine).get_indexes("statements") if i["name"]}


def test_a_bulk_load_builds_the_indexes_it_dropped(store: Engine) -> None:
    """OFAC's 200,000 statements into an empty store: the indexes are dropped for the load and
    there again after it."""
    result = load_list(store, open_list(OFAC_2023_06, "ofac-sdn"))
    assert result.statements >= MIN_ROWS_TO_REBUILD  # large enough to take the bulk path
    assert set(BULK_INDEXES) <= _index_names(store)


def test_a_load_failing_after_the_indexes_went_leaves_them(store: Engine) -> None:
    """The indexes are dropped inside the load's transaction: a load that fails after that
    rolls the drop back with everything else."""
    with pytest.raises(RuntimeError, match="failed half way"), write_transaction(store) as connection:
        assert _drop_indexes(connection, MIN_ROWS_TO_REBUILD)  # an empty store: they go
        assert not set(BULK_INDEXES) & {i["name"] for i in inspect(connection).get_indexes("statements")}
        raise RuntimeError("failed half way")
    assert set(BULK_INDEXES) <= _index_names(store)
