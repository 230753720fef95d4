"""`jointwatch freeze …` end to end on a store holding the real UN list: JSON output of the
register (amounts as exact strings), the legal basis checked even with --regime, hostile text
refused, and CSV exports that a spreadsheet cannot run."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from contextlib import closing
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from jointwatch.cli import app
from tests.conftest import UN_FILE

ENV = {"COLUMNS": "300", "JOINTWATCH_DB": None}
runner = CliRunner()

BASIS = ["--holder", "Tarak Ben Taher Ben Faleh Ouni Harzi", "--account", "DE89370400440532013000",
         "--institution", "DEUTDEFF", "--amount", "12500.00", "--currency", "EUR", "--country", "DE",
         "--reason", "payment E2E-DON-77 held"]


def jw(db: Path, *args: object) -> Result:
    return runner.invoke(app, [str(a) for a in args] + ["--db", str(db)], env=ENV, catch_exceptions=False)


@pytest.fixture(scope="module")
def un_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("freeze") / "store.db"
    loaded = jw(db, "lists", "load", UN_FILE, "--format", "un")
    assert loaded.exit_code == 0, loaded.output
    return db


@pytest.fixture
def db(un_db: Path, tmp_path: Path) -> Path:
    """A fresh copy of the UN store per test, so each starts with an empty register."""
    copy = tmp_path / "store.db"
    with closing(sqlite3.connect(un_db)) as source, closing(sqlite3.connect(copy)) as target:
        source.backup(target)
    return copy


def registered(db: Path) -> list[dict[str, object]]:
    result = jw(db, "freeze", "list", "--json")
    assert result.exit_code == 0, result.output
    return list(json.loads(result.stdout))


def test_freeze_add_list_release_json(db: Path) -> None:
    added = jw(db, "freeze", "add", *BASIS, "--source", "un_sc", "--reference", "QDi.354", "--json")
    assert added.exit_code == 0, added.output
    asset = json.loads(added.stdout)
    # amounts are the exact decimal as a string (the store's scale), as the API gives them
    amounts = (asset["amount"], asset["frozen_amount"], asset["history"][0]["amount"])
    assert all(isinstance(a, str) and Decimal(a) == Decimal("12500") for a in amounts), amounts
    assert asset["frozen_on"] and asset["created_at"]
    released = jw(db, "freeze", "release", asset["id"], "--amount", "500.5", "--licence", "DE-BBK-2023-17",
                  "--reason", "basic expenses (UNSCR 1452)", "--json")
    assert released.exit_code == 0, released.output
    assert Decimal(json.loads(released.stdout)["frozen_amount"]) == Decimal("11999.50")
    [listed] = registered(db)
    assert listed["status"] == "partially_released" and Decimal(listed["history"][1]["amount"]) == Decimal("500.5")
    exported = jw(db, "freeze", "list", "--export", "json")
    assert json.loads(exported.stdout)[0]["frozen_amount"] == listed["frozen_amount"]


@pytest.mark.parametrize("basis", [
    ["--source", "no_such_list", "--reference", "NOT-LISTED-1", "--regime", "SDGT"],
    ["--source", "un_sc", "--reference", "NOT-LISTED-1", "--regime", "SDGT"],
    ["--source", "no_such_list", "--reference", "QDi.354", "--regime", "SDGT"],
])
def test_freeze_needs_a_listing_even_with_a_regime(db: Path, basis: list[str]) -> None:
    result = jw(db, "freeze", "add", *BASIS, *basis, "--json")
    assert result.exit_code == 6, result.output
    assert "listing" in json.loads(result.stdout)["message"]
    assert registered(db) == []


@pytest.mark.parametrize("option", ["--source", "--reference", "--regime", "--customer", "--holder", "--reason"])
def test_freeze_refuses_nul_characters(db: Path, option: str) -> None:
    args = {"--source": "un_sc", "--reference": "QDi.354", "--regime": "ISIL", "--customer": "c-17"}
    base = dict(zip(BASIS[::2], BASIS[1::2], strict=True)) | args
    base[option] = base[option][:2] + "\x00" + base[option][2:]
    result = jw(db, "freeze", "add", *[x for pair in base.items() for x in pair], "--json")
    assert result.exit_code == 7, result.output
    assert "NUL" in json.loads(result.stdout)["message"]
    assert registered(db) == []


def test_freeze_csv_export_neutralises_formulas(db: Path) -> None:
    # (a leading tab or CR cannot reach the register: names are stripped; the helper's own test has them)
    hostile = ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)"]
    for i, holder in enumerate(hostile):
        args = list(BASIS)
        args[1] = holder
        result = jw(db, "freeze", "add", *args, "--source", "un_sc", "--reference", "QDi.354",
                    "--customer", f"=c-{i}", "--json")
        assert result.exit_code == 0, result.output
    exported = jw(db, "freeze", "list", "--export", "csv")
    assert exported.exit_code == 0, exported.output
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert [r["holder"] for r in rows] == [f"'{h}" for h in hostile]
    assert [r["customer_ref"] for r in rows] == [f"'=c-{i}" for i in range(len(hostile))]
    # amounts and dates are written as they are: only text that a spreadsheet would run is changed
    assert Decimal(rows[0]["amount"]) == Decimal("12500") and rows[0]["source"] == "un_sc"
