"""Customer files and delta re-screening on the real OFAC SDN snapshots of 2023-03-01 and 2023-06-05.

The customer file is made from the two files themselves: names of entries added, removed
and kept between the snapshots (some misspelt), and innocent names. After the newer
snapshot is loaded, a delta re-screen must leave exactly the open alerts a full re-screen
gives, while screening far fewer customers.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from jointwatch.errors import NotFoundError
from jointwatch.names import analyze_name, is_trade_word
from jointwatch.payments.customers import (
    open_alert_pairs,
    read_customers,
    rescreen_delta,
    rescreen_full,
    screen_customer_file,
)
from jointwatch.screening import open_screener
from jointwatch.sources import open_list
from jointwatch.store import load_list, open_engine
from jointwatch.store.customers import list_alerts
from tests.conftest import OFAC_2023_03, OFAC_2023_06

INNOCENT = ["Hans Peter Becker", "Marie Claire Dubois", "Jan van der Berg", "Sofia Rossi", "Liam O'Connor",
            "Akira Tanaka", "Fatima Zahra Benali", "Carlos Mendes Silva", "Anna Kowalska", "Olivia Smith",
            "Noah Johansson", "Emma Schulz", "Lucas Moreau", "Chen Wei Ling", "Mehmet Yilmaz", "Priya Sharma",
            "Van Dijk Logistics BV", "Alpine Freight AG", "Acme Widgets Ltd", "Boulangerie Martin SARL"]


def _sdn(path: Path) -> dict[str, tuple[str, str]]:
    """uid → (name, type) of the individuals and entities of an SDN.CSV file (vessels left out)."""
    out = {}
    with path.open(encoding="latin-1", newline="") as handle:
        for row in csv.reader(handle):
            if len(row) < 3:
                continue  # the end-of-file marker line
            kind = row[2].strip()
            if kind in ("individual", "-0-"):
                out[row[0]] = (row[1], "person" if kind == "individual" else "organization")
    return out


def _natural(name: str, kind: str) -> str:
    # "HARZI, Tarak Ben Taher" as a bank writes it: "Tarak Ben Taher Harzi"
    if kind == "person" and ", " in name:
        last, first = name.split(", ", 1)
        return f"{first} {last.title()}"
    return name.title()


def _misspelt(name: str) -> str:
    words = name.split()
    longest = max(range(len(words)), key=lambda i: len(words[i]))
    word = words[longest]
    words[longest] = word[:-2] + word[-1] + word[-2] if len(word) > 4 else word
    return " ".join(words)


def _core(name: str, kind: str) -> frozenset[str]:
    """A name's words as the matcher reads them, legal forms and trade words left out."""
    tokens = analyze_name(name, "Person" if kind == "person" else "Organization").tokens
    return frozenset(t.canonical for t in tokens if not is_trade_word(t))


def _customer_file(path: Path) -> dict[str, str]:
    """Write the customer file; return what each planted customer stands for."""
    old, new = _sdn(OFAC_2023_03), _sdn(OFAC_2023_06)
    # an entry added in June whose name's words all stand in an older listing's name ("EAST STAR
    # INVESTMENTS LIMITED" beside "EAST STAR COMPANY") rightly alerts in March already: not planted
    cores = [_core(name, kind) for name, kind in old.values()]
    added = sorted((u for u in set(new) - set(old) if not any(_core(*new[u]) <= c for c in cores)), key=int)
    removed = sorted(set(old) - set(new), key=int)
    renamed = sorted((u for u in set(old) & set(new) if old[u][0] != new[u][0]), key=int)
    kept = sorted((u for u in set(old) & set(new) if old[u] == new[u]), key=int)
    assert added and removed, "the snapshots differ in entries both ways"
    plan: list[tuple[str, str, str, str]] = []
    for group, uids, table in (("added", added[::max(1, len(added) // 25)][:25], new),
                               ("removed", removed[::max(1, len(removed) // 12)][:12], old),
                               ("renamed-old", renamed[:5], old), ("renamed-new", renamed[:5], new),
                               ("kept", kept[::max(1, len(kept) // 12)][:12], new)):
        for uid in uids:
            name, kind = table[uid]
            plan.append((f"{group}-{uid}", _natural(name, kind), kind, group))
    plan += [(f"typo-{ref}", _misspelt(name), kind, "typo") for ref, name, kind, group in plan[:20]
             if group == "added"]
    plan += [(f"innocent-{i}", name, "organization" if name.endswith(("BV", "AG", "Ltd", "SARL")) else "person",
              "innocent") for i, name in enumerate(INNOCENT)]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "name", "type", "birth_date", "nationality", "country", "accounts"])
        for ref, name, kind, _ in plan:
            writer.writerow([ref, name, kind, "", "", "", "DE89370400440532013000" if ref.startswith("innocent-0")
                             else ""])
    return {ref: group for ref, _, _, group in plan}


@pytest.fixture(scope="module")
def snapshots(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, Path]]:
    tmp = tmp_path_factory.mktemp("delta")
    old_cache = os.environ.get("JOINTWATCH_CACHE")
    os.environ["JOINTWATCH_CACHE"] = str(tmp / "cache")
    engine = open_engine(str(tmp / "delta.db"), create=True)
    load_list(engine, open_list(OFAC_2023_03, "ofac-sdn"))
    yield engine, tmp
    engine.dispose()
    if old_cache is None:
        os.environ.pop("JOINTWATCH_CACHE", None)
    else:
        os.environ["JOINTWATCH_CACHE"] = old_cache


def test_delta_rescreen_equals_full_on_real_ofac_snapshots(snapshots: tuple[Engine, Path]) -> None:
    engine, tmp = snapshots
    plan = _customer_file(tmp / "customers.csv")
    with pytest.raises(NotFoundError):
        rescreen_delta(engine, open_screener(engine))   # nothing screened yet: nothing to compare with
    first = screen_customer_file(engine, open_screener(engine), tmp / "customers.csv")
    assert first.run.kind == "full" and first.run.screened == len(plan) and not first.errors
    alerted_first = {a.customer_ref for a in list_alerts(engine, None)}
    # entries still listed in March alert; entries only added in June cannot yet
    assert {r for r in plan if plan[r] in ("removed", "kept")} <= alerted_first
    assert not {r for r in alerted_first if plan[r] == "added"}

    load_list(engine, open_list(OFAC_2023_06, "ofac-sdn"))
    screener = open_screener(engine)
    delta = rescreen_delta(engine, screener)
    delta_pairs = open_alert_pairs(engine)
    assert delta.run.kind == "delta"
    assert delta.run.screened < delta.run.customers, "a delta screens only the customers a change touches"
    assert delta.changed_entities > 0 and delta.removed_entities > 0
    new_refs = {a.customer_ref for a in delta.new_alerts}
    assert {r for r in plan if plan[r] == "added"} <= new_refs
    assert {r for r in new_refs if plan[r] == "innocent"} == set()
    # alerts on entries removed in June are withdrawn, with the reason
    withdrawn = [a for a in list_alerts(engine, None, "withdrawn") if plan[a.customer_ref] == "removed"]
    assert {a.customer_ref for a in withdrawn} == {r for r in plan if plan[r] == "removed"}
    assert all("removed from us_ofac_sdn" in (a.reason or "") for a in withdrawn)

    full = rescreen_full(engine, screener)
    assert full.run.screened == full.run.customers
    assert open_alert_pairs(engine) == delta_pairs
    assert full.run.new_alerts == 0 and full.run.withdrawn_alerts == 0


def test_customer_file_errors_name_the_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("id,name,type,birth_date,nationality,country,accounts\n"
                    "c1,Hans Peter Becker,person,1971-02-14,DE,DE,DE89370400440532013000\n"
                    "c2,,person,,,,\n"
                    "c3,Marie Dubois,alien,,,,\n"
                    "c1,Hans Becker,person,,,,\n"
                    "c4,Anna Kowalska,person,1990-13-45,PL,PL,\n"
                    "c5,Acme Widgets Ltd,organization,,,GB,GB29NWBK60161331926819;12345\n", encoding="utf-8")
    rows, errors = read_customers(path)
    assert [r.ref for r in rows] == ["c1", "c5"]
    assert rows[0].birth_date == "1971-02-14" and rows[0].accounts == ("DE89370400440532013000",)
    assert rows[1].schema == "Organization" and rows[1].accounts == ("GB29NWBK60161331926819", "12345")
    assert [(e.line, e.id) for e in errors] == [(3, "c2"), (4, "c3"), (5, "c1"), (6, "c4")]
    assert "name" in errors[0].error and "type" in errors[1].error and "twice" in errors[2].error
    assert "birth" in errors[3].error
