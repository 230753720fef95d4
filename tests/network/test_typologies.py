"""Each typology detector on a small planted case, with the figures it must report."""

from __future__ import annotations

from pathlib import Path

from jointwatch.network.engines import DuckDBEngine
from jointwatch.network.quality import load_transactions
from jointwatch.network.schema import default_rates
from jointwatch.network.typologies import Finding, detect_all
from tests.network.conftest import tx, write_transactions

COUNTRIES = ["de", "fr", "gb", "nl", "be", "se", "at", "it", "es", "pl", "dk", "no"]


def _detect(tmp_path: Path, duck: DuckDBEngine, rows: list[dict[str, object]], name: str) -> list[Finding]:
    path = write_transactions(tmp_path / f"{name}.csv", rows)
    load_transactions(duck, path, default_rates())
    return detect_all(duck, (name,))


def test_fan_in_of_small_donations_from_many_countries(tmp_path: Path, duck: DuckDBEngine) -> None:
    rows = [tx(f"g{k}", 1 + k, 100 + k, f"DONOR{k}", "COLLECTOR", COUNTRIES[k], "tr") for k in range(12)]
    rows += [tx(f"h{k}", 2 + k, 100, f"NEIGHBOUR{k}", "LOCAL", "tr", "tr") for k in range(12)]  # domestic: no
    found = _detect(tmp_path, duck, rows, "fan_in")
    assert [f.accounts for f in found] == [["COLLECTOR"]]
    figures = found[0].figures
    assert (figures["senders"], figures["countries"], figures["payments"]) == (12, 12, 12)
    assert figures["total_usd"] == sum(100 + k for k in range(12))
    assert figures["foreign_share"] == 1.0
    assert found[0].transactions == [f"g{k}" for k in range(10)]


def test_pass_through_account(tmp_path: Path, duck: DuckDBEngine) -> None:
    rows = []
    for k in range(4):
        rows += [tx(f"in{k}", 1 + 3 * k, 2000, "SOURCE", "MULE"), tx(f"out{k}", 1 + 3 * k + 0.5, 1990, "MULE", "T")]
    rows += [tx("salary", 1, 3000, "EMPLOYER", "SAVER"), tx("rent", 20, 1000, "SAVER", "LANDLORD")]
    found = _detect(tmp_path, duck, rows, "pass_through")
    assert [f.accounts for f in found] == [["MULE"]]
    assert found[0].figures["in_usd"] == 8000.0 and found[0].figures["out_usd"] == 7960.0
    assert found[0].figures["average_holding_hours"] == 12.0


def test_structuring_under_the_threshold(tmp_path: Path, duck: DuckDBEngine) -> None:
    # 2024-01-01 is a Monday; epoch weeks start on Thursdays, so days 5..10 share one
    rows = [tx("s1", 5, 9500, "SPLITTER", "T"), tx("s2", 6, 9400, "SPLITTER", "T"), tx("s3", 7, 9800, "SPLITTER", "T"),
            tx("one", 5, 9900, "HONEST", "SHOP"), tx("big", 6, 25000, "HONEST", "SHOP")]
    found = _detect(tmp_path, duck, rows, "structuring")
    assert [f.accounts for f in found] == [["SPLITTER", "T"]]
    assert found[0].figures["payments"] == 3 and found[0].figures["total_usd"] == 28700.0
    assert found[0].transactions == ["s1", "s2", "s3"]


def test_cycles_of_two_and_three(tmp_path: Path, duck: DuckDBEngine) -> None:
    rows = [tx("a", 1, 20000, "A", "B"), tx("b", 3, 19600, "B", "C"), tx("c", 5, 19200, "C", "A"),
            tx("x", 1, 8000, "X", "Y"), tx("y", 10, 7800, "Y", "X"),
            tx("far", 1, 8000, "P", "Q"), tx("back", 45, 8000, "Q", "P"),      # more than 30 days: no
            tx("half", 1, 8000, "R", "S"), tx("less", 2, 5000, "S", "R")]      # not within 10%: no
    found = _detect(tmp_path, duck, rows, "cycle")
    assert sorted(f.accounts for f in found) == [["A", "B", "C"], ["X", "Y"]]
    three = next(f for f in found if f.figures["legs"] == 3)
    assert three.transactions == ["a", "b", "c"]


def test_hawala_like_broker_pair(tmp_path: Path, duck: DuckDBEngine) -> None:
    rows = [tx(f"c{k}", 1 + k, 300, f"CUSTOMER{k}", "BROKER_DE", "de", "de", channel="hawala") for k in range(6)]
    rows += [tx(f"p{k}", 2 + k, 290, "BROKER_TR", f"PAYEE{k}", "tr", "tr", channel="hawala") for k in range(6)]
    rows += [tx("settle", 9, 1800, "BROKER_DE", "BROKER_TR", "de", "tr"),
             tx("back", 12, 500, "BROKER_TR", "BROKER_DE", "tr", "de")]
    found = _detect(tmp_path, duck, rows, "broker_netting")
    assert [f.accounts for f in found] == [["BROKER_DE", "BROKER_TR"]]
    figures = found[0].figures
    assert (figures["a_to_b_usd"], figures["b_to_a_usd"], figures["a_customers"], figures["b_customers"]) == \
        (1800.0, 500.0, 6, 6)
    assert figures["net_share"] == round(1300 / 2300, 3)
    assert found[0].transactions == ["settle", "back"]


def test_new_corridor_in_the_last_30_days(tmp_path: Path, duck: DuckDBEngine) -> None:
    rows = [tx(f"old{k}", 1 + k, 50, f"S{k}", f"R{k}", "de", "fr") for k in range(5)]
    rows += [tx("late_old", 80, 50, "S0", "R0", "de", "fr")]                # de>fr existed before: not new
    rows += [tx(f"new{k}", 75 + k, 400, f"N{k}", "RECEIVER", "se", "so") for k in range(3)]
    rows += [tx(f"few{k}", 76, 400, "ONE", f"P{k}", "se", "ye") for k in range(3)]  # one sender only: no
    found = _detect(tmp_path, duck, rows, "new_corridor")
    assert [f.figures["corridor"] for f in found] == ["se>so"]
    assert found[0].figures["payments"] == 3 and found[0].figures["senders"] == 3
    assert found[0].transactions == ["new0", "new1", "new2"]


def test_no_corridor_is_new_without_a_baseline(tmp_path: Path, duck: DuckDBEngine) -> None:
    rows = [tx(f"new{k}", 1 + k, 400, f"N{k}", "RECEIVER", "se", "so") for k in range(3)]
    assert _detect(tmp_path, duck, rows, "new_corridor") == []
