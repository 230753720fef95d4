"""Tracing on hand-built transaction sets whose attribution is worked out by hand in each test."""

from __future__ import annotations

from pathlib import Path

import pytest

from jointwatch.errors import InvalidInputError
from jointwatch.network.analysis import analyse
from jointwatch.network.engines import DuckDBEngine, EngineSettings
from jointwatch.network.laundering import CONFIGURATIONS, simulate_laundering
from jointwatch.network.schema import TraceSettings
from tests.network.conftest import in_another_order, tx, write_transactions

# Two donors fund a collector C, which pays a mule M, which pays the designated account T.
# A third donor D3 funds M2, which adds 40 of its own and pays T.
CHAIN = [
    tx("d1", 1, 100, "D1", "C", "de", "tr"),
    tx("d2", 2, 300, "D2", "C", "fr", "tr"),
    tx("c1", 3, 200, "C", "M", "tr", "tr"),
    tx("m1", 4, 200, "M", "T", "tr", "sy"),
    tx("d3", 1, 60, "D3", "M2", "gb", "tr"),
    tx("m2", 2, 100, "M2", "T", "tr", "sy"),
]


def _amounts(analysis: object) -> dict[str, float]:
    return {o.account: o.amount for o in analysis.trace.originators}  # type: ignore[attr-defined]


def test_proportional_attribution_through_collector_and_mule(tmp_path: Path, duck: DuckDBEngine) -> None:
    path = write_transactions(tmp_path / "chain.csv", CHAIN)
    result = analyse(path, ["T"], TraceSettings(hops=4), engine=duck)
    # first in, first out: C's 200 out is D1's 100 (in first) and the first 100 of D2's 300.
    # M2 paid 100 having received only D3's 60: its opening balance (40) went first.
    assert _amounts(result) == {"D1": 100.0, "D2": 100.0, "D3": 60.0, "M2": 40.0}
    hops = {o.account: o.hops for o in result.trace.originators}
    assert hops == {"D1": 3, "D2": 3, "D3": 2, "M2": 1}
    reasons = {o.account: o.reason for o in result.trace.originators}
    # M2 is seen for a day only (under --own-funds-days, 30): its 40 is of a source outside the data
    assert reasons["M2"] == "unexplained_funds" and reasons["D1"] == "no_earlier_inflow"
    assert result.trace.totals["assumed"] == 40.0
    countries = {c.country: (c.amount, c.originators) for c in result.trace.countries}
    assert countries == {"de": (100.0, 1), "fr": (100.0, 1), "gb": (60.0, 1), "tr": (40.0, 1)}
    assert result.trace.totals["traced"] == 300.0
    assert result.trace.totals["originated"] == 300.0
    roles = {i.account: i.role for i in result.trace.intermediaries}
    assert roles["T"] == "designated" and roles["M"] == "pass-through"
    path_d2 = next(p for p in result.trace.paths if p["originator"] == "D2")
    assert path_d2["accounts"] == ["D2", "C", "M", "T"]


def test_hop_limit_stops_and_credits_the_last_senders(tmp_path: Path, duck: DuckDBEngine) -> None:
    path = write_transactions(tmp_path / "chain.csv", CHAIN)
    result = analyse(path, ["T"], TraceSettings(hops=1), engine=duck)
    # one hop back from T: M's 200 is M's inflow from C; C is where the trace stops
    assert _amounts(result) == {"C": 200.0, "D3": 60.0, "M2": 40.0}
    assert {o.account: o.reason for o in result.trace.originators}["C"] == "hop_limit"


def test_the_lookback_decides_whether_an_account_is_a_conduit(tmp_path: Path, duck: DuckDBEngine) -> None:
    rows = [tx("old", 1, 200, "OLD", "M"), tx("new", 20, 200, "NEW", "M"), tx("out", 25, 300, "M", "T")]
    path = write_transactions(tmp_path / "lookback.csv", rows)
    # within 10 days M received 200 and paid 300: a conduit; first in, first out: OLD 200, NEW 100
    result = analyse(path, ["T"], TraceSettings(lookback_days=10), engine=duck)
    assert _amounts(result) == {"OLD": 200.0, "NEW": 100.0}
    # within 3 days M received nothing: the 300 is M's own money
    short = analyse(path, ["T"], TraceSettings(lookback_days=3), engine=duck)
    assert _amounts(short) == {"M": 300.0}
    assert short.trace.originators[0].reason == "no_earlier_inflow"


def test_one_inflow_is_never_credited_twice(tmp_path: Path, duck: DuckDBEngine) -> None:
    # K receives 100 once and pays T 100 twice: it must have held 100 of its own before
    rows = [tx("e", 1, 100, "E", "K"), tx("k1", 2, 100, "K", "T"), tx("k2", 3, 100, "K", "T")]
    path = write_transactions(tmp_path / "cap.csv", rows)
    result = analyse(path, ["T"], engine=duck)
    # k1 spent E's 100; k2 took K below zero: 100 beyond what it ever received, which is its own
    # money only with a history of --own-funds-days behind it (a day here: unexplained)
    assert _amounts(result) == {"E": 100.0, "K": 100.0}
    assert {o.account: o.reason for o in result.trace.originators}["K"] == "unexplained_funds"
    assert result.trace.totals["traced"] == result.trace.totals["originated"] == 200.0
    # with a day's history enough to judge it, K paid T 200 having received 100 in all: more than it
    # got (beyond a twentieth) is paying its own money, so K is no conduit but the funder of both
    short = analyse(path, ["T"], TraceSettings(own_funds_days=1), engine=duck)
    assert _amounts(short) == {"K": 200.0}
    assert {o.account: o.reason for o in short.trace.originators} == {"K": "not_a_conduit"}


def test_a_little_beyond_what_came_in_is_the_accounts_own_money(tmp_path: Path, duck: DuckDBEngine) -> None:
    # K receives 100 and pays T 103 two days later: within a twentieth of what it received, so a
    # conduit; the 3 beyond it is K's own money (a day's history is enough here), E funded 100
    rows = [tx("e", 1, 100, "E", "K"), tx("k", 3, 103, "K", "T")]
    path = write_transactions(tmp_path / "topup.csv", rows)
    result = analyse(path, ["T"], TraceSettings(own_funds_days=1), engine=duck)
    assert _amounts(result) == {"E": 100.0, "K": 3.0}
    assert {o.account: o.reason for o in result.trace.originators} == {"E": "no_earlier_inflow", "K": "own_funds"}


def test_cycles_end_because_time_runs_backwards(tmp_path: Path, duck: DuckDBEngine) -> None:
    rows = [tx("a", 1, 100, "S", "A"), tx("b", 2, 100, "A", "B"), tx("c", 3, 100, "B", "A"),
            tx("d", 4, 100, "A", "T")]
    path = write_transactions(tmp_path / "cycle.csv", rows)
    result = analyse(path, ["T"], TraceSettings(hops=8), engine=duck)
    # A's pool before day 4 is B's 100 (day 3); B's is A's 100 (day 2); A's before day 2 is S's 100
    assert _amounts(result) == {"S": 100.0}
    assert result.trace.totals["originated"] == 100.0


def test_currencies_are_converted_and_window_applies(tmp_path: Path, duck: DuckDBEngine) -> None:
    rows = [tx("e1", 2, 100, "EU", "T", currency="EUR"), tx("e2", 20, 100, "LATE", "T")]
    path = write_transactions(tmp_path / "fx.csv", rows)
    result = analyse(path, ["T"], TraceSettings(until="2024-01-10"), engine=duck,
                     rates={"EUR": 1.1, "USD": 1.0})
    assert _amounts(result) == {"EU": 110.0}


def test_min_amount_filters_and_reports_the_rest(tmp_path: Path, duck: DuckDBEngine) -> None:
    path = write_transactions(tmp_path / "chain.csv", CHAIN)
    result = analyse(path, ["T"], TraceSettings(min_amount=55), engine=duck)
    assert _amounts(result) == {"D1": 100.0, "D2": 100.0, "D3": 60.0}
    assert result.trace.totals["below_min_amount"] == 40.0


def test_unknown_designated_account_is_an_error_naming_the_file(tmp_path: Path, duck: DuckDBEngine) -> None:
    path = write_transactions(tmp_path / "chain.csv", CHAIN)
    with pytest.raises(InvalidInputError, match="chain.csv.*none of the designated"):
        analyse(path, ["NOPE"], engine=duck)


def test_a_donor_paying_from_salary_is_the_originator_not_the_employer(tmp_path: Path, duck: DuckDBEngine) -> None:
    rows = [tx("pay", 1, 3000, "EMPLOYER", "DONOR"), tx("gift", 2, 200, "DONOR", "C"),
            tx("fwd", 3, 200, "C", "T")]
    path = write_transactions(tmp_path / "salary.csv", rows)
    result = analyse(path, ["T"], engine=duck)
    # C passes on all of its 200 pool (a conduit); DONOR passes 200 of 3000 (< half): it stops there
    assert _amounts(result) == {"DONOR": 200.0}
    assert result.trace.originators[0].reason == "not_a_conduit"
    through = analyse(path, ["T"], TraceSettings(conduit_share=0.0), engine=duck)
    assert _amounts(through) == {"EMPLOYER": 200.0}


def test_a_small_inflow_does_not_make_a_donor_a_conduit(tmp_path: Path, duck: DuckDBEngine) -> None:
    rows = [tx("friend", 1, 30, "FRIEND", "DONOR"), tx("gift", 2, 400, "DONOR", "T")]
    path = write_transactions(tmp_path / "friend.csv", rows)
    # the pool (30) is under half the gift (400): the donor paid it, not the friend
    assert _amounts(analyse(path, ["T"], engine=duck)) == {"DONOR": 400.0}


def test_broker_payouts_are_followed_into_the_float(tmp_path: Path, duck: DuckDBEngine) -> None:
    rows = [tx("c1", 1, 900, "CUST", "HAWALA_X"), tx("d1", 1, 100, "DONOR", "HAWALA_X"),
            tx("s1", 2, 1000, "HAWALA_X", "HAWALA_Y"),
            tx("p1", 3, 50, "HAWALA_Y", "T", channel="hawala"),
            # Y pays out to others too: a hawaladar (one hawala payee alone would be a customer's deposit)
            tx("p2", 3.5, 100, "HAWALA_Y", "R1", channel="hawala"),
            tx("p3", 3.5, 120, "HAWALA_Y", "R2", channel="hawala")]
    path = write_transactions(tmp_path / "hawala.csv", rows)
    result = analyse(path, ["T"], engine=duck)
    # the 50 paid out by Y (hawala channel) comes from X's settlement, which is 90% CUST, 10% DONOR
    assert _amounts(result) == {"CUST": 45.0, "DONOR": 5.0}


def test_csv_and_parquet_of_the_same_set_trace_the_same(tmp_path: Path, duck: DuckDBEngine) -> None:
    from jointwatch.network.designate import designated_accounts
    from jointwatch.network.simulate import SimulationSettings, simulate

    settings = SimulationSettings(transactions=3000, networks=1, donors=8, countries=6)
    results = []
    for fmt in ("csv", "parquet"):
        simulate(tmp_path / fmt, settings, fmt)
        targets = designated_accounts([str(tmp_path / fmt / "designated.txt")])
        results.append(analyse(tmp_path / fmt / f"transactions.{fmt}", targets, engine=duck))
    as_csv, as_parquet = ({o.account: o.amount for o in r.trace.originators} for r in results)
    assert len(as_csv) >= 5 and as_csv == as_parquet
    assert results[0].quality.rows == results[1].quality.rows == 3000


def test_the_same_payments_in_another_row_order_give_the_same_figures_to_the_cent(tmp_path: Path) -> None:
    """Every amount the trace reports is the same whatever order the file lists the payments in. A sum of doubles
    depends on the order it adds them in (and a parallel engine's order changes from run to run): on configuration
    b with its rows in another order, an intermediary's traced USD was 1,012.73 instead of 1,012.72, a path's
    5,469.26 instead of 5,469.25, and two runs of the same command could differ so."""
    simulate_laundering(tmp_path, CONFIGURATIONS["b"])
    shuffled = in_another_order(tmp_path / "transactions.parquet", 3)
    designated = (tmp_path / "designated.txt").read_text(encoding="utf-8").split()
    settings = TraceSettings(hops=8, earmark_days=10)
    traces = [analyse(path, designated, settings, engine_settings=EngineSettings(threads=1)).trace.to_dict()
              for path in (tmp_path / "transactions.parquet", shuffled)]
    assert traces[0]["intermediaries"] == traces[1]["intermediaries"]
    assert traces[0]["paths"] == traces[1]["paths"]
    assert traces[0] == traces[1]
