"""Each typology detector: the planted typologies of a small simulated network found by their rules, and
ordinary salaried people not flagged; the rules with fixed legal thresholds on hand-built cases."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from jointwatch.network.engines import DuckDBEngine, EngineSettings
from jointwatch.network.laundering import CONFIGURATIONS, TYPOLOGIES, LaunderingSettings, simulate_laundering
from jointwatch.network.quality import load_transactions
from jointwatch.network.schema import default_rates
from jointwatch.network.typologies import BUCKET, DETECTORS, HISTORY, Finding, detect_all, prepare
from tests.network.conftest import in_another_order, tx, write_transactions

COUNTRIES = ["de", "fr", "gb", "nl", "be", "se", "at", "it", "es", "pl", "dk", "no"]
# the rules of the planted typologies; pass_through (every relay) and new_corridor name no planted instance
PLANTED_RULES = set(TYPOLOGIES)


def _detect(tmp_path: Path, duck: DuckDBEngine, rows: list[dict[str, object]], name: str) -> list[Finding]:
    path = write_transactions(tmp_path / f"{name}.csv", rows)
    load_transactions(duck, path, default_rates())
    return detect_all(duck, (name,))


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Finding], dict[str, Any]]:
    """600 salaried people over 100 days, two instances of each typology (one seed, found once)."""
    out = tmp_path_factory.mktemp("laundering")
    simulate_laundering(out, LaunderingSettings(people=600, seed=3, instances=2, broker_netting=True, days=100),
                        "csv")
    engine = DuckDBEngine(EngineSettings(threads=1))
    try:
        load_transactions(engine, out / "transactions.csv", default_rates())
        findings = detect_all(engine)
    finally:
        engine.close()
    return findings, json.loads((out / "truth.json").read_text())


@pytest.mark.parametrize("typology", TYPOLOGIES)
def test_each_planted_typology_is_found_by_its_rule(network: tuple[list[Finding], dict[str, Any]],
                                                    typology: str) -> None:
    findings, truth = network
    planted = [p for p in truth["typologies"] if p["typology"] == typology]
    assert planted, f"the simulator planted no {typology}"
    named = {a for f in findings if f.typology == typology for a in f.accounts}
    for instance in planted:
        assert set(instance["key"]) & named, f"{instance['id']} ({instance['key']}) not found by {typology}"
    mine = [f for f in findings if f.typology == typology]
    assert all(f.rule and f.transactions for f in mine)
    # most of what the rule reports is planted (small network: the peers are few, so not all)
    keys = {a for p in planted for a in p["key"]}
    assert sum(1 for f in mine if set(f.accounts) & keys) >= 0.5 * len(mine)


def test_ordinary_salaried_people_are_not_flagged(network: tuple[list[Finding], dict[str, Any]]) -> None:
    findings, truth = network
    illicit = set(truth["illicit_accounts"])
    ordinary = {f"P{i}" for i in range(600)} - illicit
    flagged = {a for f in findings if f.typology in PLANTED_RULES for a in f.accounts} & ordinary
    # everyone has a salary, rent, bills, shops and friends (some abroad, some strangers): at most 1 in 100
    assert len(flagged) <= 0.01 * len(ordinary), sorted(flagged)


def test_the_rules_are_relative_to_history_not_amounts(tmp_path: Path, duck: DuckDBEngine) -> None:
    # a landlord receives rent from 12 tenants every month: many senders, but the same ones every month,
    # and a charity's 12 first-time donors in one week after two quiet months: a burst
    rows: list[dict[str, object]] = []
    for month in range(4):
        rows += [tx(f"rent{month}-{k}", 1 + 30 * month + k / 24, 900, f"TENANT{k}", "LANDLORD", "de", "de")
                 for k in range(12)]
        rows += [tx(f"pay{month}-{k}", 26 + 30 * month, 2500, "EMPLOYER", f"TENANT{k}", "de", "de")
                 for k in range(12)]
        rows += [tx(f"sal{month}", 26 + 30 * month, 2400, "EMPLOYER", "COLLECTOR", "de", "tr")]
        rows += [tx(f"shop{month}-{k}", 3 + 30 * month + k, 60, "COLLECTOR", f"SHOP{k}", "tr", "tr")
                 for k in range(3)]
    rows += [tx(f"gift{k}", 75 + k / 2, 400 + 10 * k, f"DONOR{k}", "COLLECTOR", COUNTRIES[k], "tr")
             for k in range(12)]
    # kept (a person repaid by friends, a car sold): not a fan-in; passed on (4,000 of the 5,460 USD): one
    assert _detect(tmp_path, duck, rows, "fan_in") == []
    rows += [tx("onward", 82, 4000, "COLLECTOR", "HUB", "tr", "sy")]
    found = _detect(tmp_path, duck, rows, "fan_in")
    assert [f.accounts for f in found] == [["COLLECTOR"]]
    assert found[0].figures["senders"] == 12 and found[0].figures["own_senders"] == 0.0
    assert found[0].transactions == [f"gift{k}" for k in range(10)]


def test_detectors_are_named_once() -> None:
    names = [d.name for d in DETECTORS]
    assert len(names) == len(set(names)) and PLANTED_RULES <= set(names)


def test_structuring_under_the_threshold(tmp_path: Path, duck: DuckDBEngine) -> None:
    # 2024-01-01 is a Monday; epoch weeks start on Thursdays, so days 5..10 share one
    rows = [tx("s1", 5, 9500, "SPLITTER", "T"), tx("s2", 6, 9400, "SPLITTER", "T"), tx("s3", 7, 9800, "SPLITTER", "T"),
            tx("one", 5, 9900, "HONEST", "SHOP"), tx("big", 6, 25000, "HONEST", "SHOP")]
    found = _detect(tmp_path, duck, rows, "structuring")
    assert [f.accounts for f in found] == [["SPLITTER", "T"]]
    assert found[0].figures["payments"] == 3 and found[0].figures["total_usd"] == 28700.0
    assert found[0].transactions == ["s1", "s2", "s3"]


def _broker_pair(de: str, tr: str) -> list[dict[str, object]]:
    """Two hawala-like brokers, each serving 6 customers at home, settling 1,800 USD one way and 500 back."""
    rows = [tx(f"c{k}", 1 + k, 300, f"CUSTOMER{k}", de, "de", "de", channel="hawala") for k in range(6)]
    rows += [tx(f"p{k}", 2 + k, 290, tr, f"PAYEE{k}", "tr", "tr", channel="hawala") for k in range(6)]
    return rows + [tx("settle", 9, 1800, de, tr, "de", "tr"), tx("back", 12, 500, tr, de, "tr", "de")]


def test_hawala_like_broker_pair(tmp_path: Path, duck: DuckDBEngine) -> None:
    found = _detect(tmp_path, duck, _broker_pair("BROKER_DE", "BROKER_TR"), "broker_netting")
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
    assert found[0].figures["total_usd"] == 1200.0
    assert found[0].transactions == ["new0", "new1", "new2"]


def test_no_corridor_is_new_without_a_baseline(tmp_path: Path, duck: DuckDBEngine) -> None:
    rows = [tx(f"new{k}", 1 + k, 400, f"N{k}", "RECEIVER", "se", "so") for k in range(3)]
    assert _detect(tmp_path, duck, rows, "new_corridor") == []


def test_a_shop_paying_new_suppliers_out_of_its_takings_is_no_fan_out(tmp_path: Path, duck: DuckDBEngine) -> None:
    # two accounts with the same history (a salary, two payees a month, 40 card customers a month) each
    # pay 10 receivers they never paid before in day 95-99; HUB had just been paid 20,000 by a new
    # sender abroad, SHOP pays out of its card takings: only HUB pays out money that came in new
    rows: list[dict[str, object]] = []
    for who in ("SHOP", "HUB"):
        for month in range(4):
            rows.append(tx(f"{who}-sal{month}", 26 + 30 * month, 3000, "EMPLOYER", who, "de", "de"))
            rows += [tx(f"{who}-bill{month}-{k}", 3 + 30 * month + k, 80, who, f"{who}-PAYEE{k}", "de", "de")
                     for k in range(2)]
            rows += [tx(f"{who}-card{month}-{k}", 2 + 30 * month + k / 2, 150, f"{who}-CUSTOMER{k}", who, "de", "de",
                        channel="card") for k in range(40)]
        rows += [tx(f"{who}-out{k}", 95 + k / 2, 1500, who, f"{who}-NEW{k}", "de", "de") for k in range(10)]
    rows.append(tx("large", 94, 20000, "SENDER", "HUB", "ae", "de"))
    found = _detect(tmp_path, duck, rows, "fan_out")
    assert [f.accounts for f in found] == [["HUB"]]


def test_the_same_payments_in_another_row_order_give_the_same_findings_to_the_cent(tmp_path: Path) -> None:
    """A finding's figures and the findings themselves do not depend on the order of the file. The rules' sums of USD
    were sums of doubles, which depend on the order the rows are added in (and a parallel engine's order changes from
    run to run): on configuration b, P3708's relay span passed on 5,469.25 or 5,469.26 USD by run, and at 10M rows two
    runs of the same command gave 5,593 and 5,592 pass-through findings."""
    simulate_laundering(tmp_path, CONFIGURATIONS["b"])
    shuffled = in_another_order(tmp_path / "transactions.parquet", 4)
    found = []
    for path in (tmp_path / "transactions.parquet", shuffled):
        engine = DuckDBEngine(EngineSettings(threads=1))
        try:
            load_transactions(engine, path, default_rates())
            found.append(sorted((f.typology, f.accounts, sorted(f.figures.items()), f.transactions)
                                for f in detect_all(engine)))
        finally:
            engine.close()
    assert any(f[0] == "stack" and f[1] == ["P3708"] for f in found[0]), "the span whose figure moved"
    assert found[0] == found[1]


@pytest.mark.parametrize("seed", range(4))
def test_counterparties_counted_on_the_pair_window_marks_are_the_distinct_ones(tmp_path: Path, duck: DuckDBEngine,
                                                                              seed: int) -> None:
    """The rules count an account's counterparties on marks set in one window over each pair (each direction's
    opening payment, one payment of each pair), not by COUNT(DISTINCT …): the counts must be the distinct ones,
    also when a pair pays several times in the same second, by card among others."""
    rng = random.Random(seed)
    accounts = [f"A{i:02d}" for i in range(30)]
    rows: list[dict[str, object]] = []
    for i in range(500):
        if rows and rng.random() < 0.25:   # the same pair again, the same second
            last = rows[-1]
            rows.append({**last, "id": f"t{i}", "amount": round(rng.uniform(5, 900), 2),
                         "channel": rng.choice(["wire", "card"])})
            continue
        src, dst = rng.sample(accounts, 2)
        rows.append(tx(f"t{i}", rng.randrange(1, 150, 2), round(rng.uniform(5, 900), 2), src, dst,
                       src_country=rng.choice(["de", "fr", "gb"]), channel=rng.choice(["wire", "card", "msb"])))
    load_transactions(duck, write_transactions(tmp_path / "pairs.csv", rows), default_rates())
    prepare(duck)

    def rows_of(sql: str) -> set[tuple[Any, ...]]:
        return {tuple(r.values()) for r in duck.rows(sql)}

    # the case the marks must get right is there: a pair's non-card payments in one direction at the same second
    assert duck.rows("""SELECT COUNT(*) AS n FROM (SELECT src, dst, t FROM ty_pay GROUP BY src, dst, t
                                                HAVING COUNT(*) > 1) d""")[0]["n"] > 0
    spans = rows_of("SELECT account, span, senders, receivers FROM ty_span")
    assert max(s[2] for s in spans) >= 2
    assert spans == rows_of(f"""
        SELECT e.account, e.span, COUNT(DISTINCT CASE WHEN e.inflow = 1 THEN e.peer END),
               COUNT(DISTINCT CASE WHEN e.inflow = 0 THEN e.peer END)
        FROM (SELECT dst AS account, span, src AS peer, 1 AS inflow FROM ty_fresh
              UNION ALL SELECT src, span, dst, 0 FROM ty_fresh) e
        JOIN ty_seen s ON s.account = e.account AND s.first_seen <= e.span * {BUCKET} - {HISTORY}
        GROUP BY e.account, e.span""")
    assert rows_of("SELECT account, regular_counterparties FROM ty_seen") == rows_of(f"""
        SELECT account, COUNT(DISTINCT CASE WHEN t - first_contact > {BUCKET} THEN peer END)
        FROM (SELECT dst AS account, src AS peer, t, first_contact FROM ty_all
              UNION ALL SELECT src, dst, t, first_contact FROM ty_all) e GROUP BY account""")
    assert rows_of("SELECT account, senders FROM ty_inflow") == rows_of(
        "SELECT dst, COUNT(DISTINCT src) FROM ty_pay GROUP BY dst")
    assert rows_of("SELECT id, times FROM ty_pay") == rows_of(
        "SELECT id, COUNT(*) OVER (PARTITION BY src, dst) FROM ty_pay")


def test_a_cycle_is_its_members_as_whole_ids(tmp_path: Path, duck: DuckDBEngine) -> None:
    # PA1 -> QA1 -> RA1 -> PA1 in four days, each leg large for its payer; P_1, outside the cycle, pays QA1 meanwhile:
    # '_' in an id is a character like any other, not a pattern (a LIKE over the joined list took P_1 for PA1)
    rows: list[dict[str, object]] = []
    for member in ("PA1", "QA1", "RA1", "P_1"):
        rows += [tx(f"{member}-shop{k}", 1 + k, 20, member, f"SHOP{k}") for k in range(5)]
    rows += [tx("leg1", 40, 1000, "PA1", "QA1"), tx("outsider", 41, 50, "P_1", "QA1"),
             tx("leg2", 42, 950, "QA1", "RA1"), tx("leg3", 44, 900, "RA1", "PA1")]
    found = _detect(tmp_path, duck, rows, "cycle")
    assert [sorted(f.accounts) for f in found] == [["PA1", "QA1", "RA1"]]
    assert found[0].transactions == ["leg1", "leg2", "leg3"]
    claimed = {r["account"] for r in duck.rows("SELECT account FROM claimed_cycle")}
    assert claimed == {"PA1", "QA1", "RA1"}


def test_an_account_id_with_a_comma_is_one_account_of_a_finding(tmp_path: Path, duck: DuckDBEngine) -> None:
    # a finding's accounts were joined by commas, so "SMITH, J" read as two accounts
    rows = [tx("s1", 5, 9500, "SMITH, J", "T"), tx("s2", 6, 9400, "SMITH, J", "T"), tx("s3", 7, 9800, "SMITH, J", "T")]
    found = _detect(tmp_path, duck, rows, "structuring")
    assert [f.accounts for f in found] == [["SMITH, J", "T"]]
    assert found[0].transactions == ["s1", "s2", "s3"]
    found = _detect(tmp_path, duck, _broker_pair("BROKER, DE", "BROKER, TR"), "broker_netting")
    assert [f.accounts for f in found] == [["BROKER, DE", "BROKER, TR"]]
    assert found[0].transactions == ["settle", "back"]
