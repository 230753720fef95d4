"""A member's customer base reacts to partner entries as it reacts to list changes.

A bank (member B) has a customer "X Y", born 1975, whom no official list names (a made-up name,
new for every test, as the store and its entries are shared by the module's tests).
A partner (member A) shares an entry naming that person after the bank's first run: the
bank's next delta run (not a full one) raises the alert, the very alert a full run gives,
carrying the originator and the handling code; a withdrawal closes it at the next delta; an
entry shared with another member only raises nothing; an entry shared with a group the bank
joins afterwards alerts at the next delta. The screener is made afresh for every run as the
CLI does (``fresh``), or kept across runs as the service does (``kept``).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from jointwatch.api.app import create_app
from jointwatch.cli import app as cli_app
from jointwatch.payments import CustomerRun, open_alert_pairs, rescreen_delta, rescreen_full, screen_customer_file
from jointwatch.releasability import Labels
from jointwatch.screening import Screener, open_screener
from jointwatch.sharing import (
    EntryInput,
    PartnerIndex,
    SharedScreener,
    edit_entry,
    partner_entries,
    share_entry,
    withdraw_entry,
)
from jointwatch.sources import open_list
from jointwatch.store import (
    CustomerAlert,
    add_member,
    create_group,
    create_key,
    list_alerts,
    load_list,
    open_engine,
    set_group_member,
)
from tests.conftest import UN_FILE

CUSTOMERS = """id,name,type,birth_date
c-1,{name},person,1975-03-02
c-2,Hans Peter Becker,person,1980-01-01
c-3,Marie Claire Dubois,person,1969-05-05
"""
_n = itertools.count(1)
SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]


def made_up_name() -> str:
    """A person's name no list holds and no other made name resembles: three-syllable words of a counter."""
    n = next(_n) * 7919 + 104729

    def word(k: int) -> str:
        return "".join(SYLLABLES[(k // len(SYLLABLES) ** i) % len(SYLLABLES)] for i in range(3)).capitalize()

    return f"{word(n)} {word(n * 31 + 17)}"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, Path]]:
    root: Path = tmp_path_factory.mktemp("customers_shared")
    old = os.environ.get("JOINTWATCH_CACHE")
    os.environ["JOINTWATCH_CACHE"] = str(root / "cache")
    engine = open_engine(str(root / "store.db"), create=True)
    load_list(engine, open_list(UN_FILE, "un"))
    yield engine, root
    engine.dispose()
    if old is None:
        os.environ.pop("JOINTWATCH_CACHE", None)
    else:
        os.environ["JOINTWATCH_CACHE"] = old


@dataclass
class Bank:
    """The members of one test, the bank's customer file, and how its runs get a screener."""

    engine: Engine
    partner: int
    bank: int
    other: int
    screener: Callable[[], Screener]
    name: str                            # the customer "X Y"

    def full(self) -> CustomerRun:
        screener = self.screener()
        return rescreen_full(self.engine, screener, self.bank, partners=partner_entries(screener))

    def delta(self) -> CustomerRun:
        screener = self.screener()
        return rescreen_delta(self.engine, screener, self.bank, partners=partner_entries(screener))

    def share(self, labels: Labels, name: str | None = None) -> str:
        return share_entry(self.engine, self.partner, "officer", EntryInput(
            "Person", {"name": [name or self.name], "birthDate": ["1975"]}), labels).ref

    def alerts(self) -> list[CustomerAlert]:
        return list_alerts(self.engine, self.bank, "open")


def _screener_maker(engine: Engine, kind: str) -> Callable[[], Screener]:
    if kind == "fresh":
        return lambda: (lambda official: SharedScreener(official, PartnerIndex(engine, official)))(
            open_screener(engine))
    official = open_screener(engine)
    kept = SharedScreener(official, PartnerIndex(engine, official))
    return lambda: kept


@pytest.fixture(params=["fresh", "kept"])
def bank(request: pytest.FixtureRequest, store: tuple[Engine, Path]) -> Bank:
    engine, root = store
    n = next(_n)
    partner, bank, other = (add_member(engine, f"{role}-{n}").id for role in ("partner", "bank", "other"))
    made = Bank(engine, partner, bank, other, _screener_maker(engine, str(request.param)), made_up_name())
    path = root / f"customers-{n}.csv"
    path.write_text(CUSTOMERS.format(name=made.name), encoding="utf-8")
    screener = made.screener()
    first = screen_customer_file(engine, screener, path, bank, partners=partner_entries(screener))
    assert first.open_alerts == 0, "the planted customer must match no official listing"
    return made


def _same_as_full(bank: Bank) -> set[tuple[str, str]]:
    """The open alerts after a delta, checked against a full run over the same state."""
    after_delta = open_alert_pairs(bank.engine, bank.bank)
    fields = {(a.customer_ref, a.entity_id): (a.originator, a.tlp, a.handling) for a in bank.alerts()}
    full = bank.full()
    assert open_alert_pairs(bank.engine, bank.bank) == after_delta
    assert full.run.new_alerts == 0 and full.run.withdrawn_alerts == 0
    assert {(a.customer_ref, a.entity_id): (a.originator, a.tlp, a.handling) for a in bank.alerts()} == fields
    return after_delta


def test_an_entry_shared_after_a_run_alerts_at_the_next_delta(bank: Bank) -> None:
    ref = bank.share(Labels("members", (bank.bank,), "amber", ("consent-before-action",), "EU 2017/541 art. 3"))
    run = bank.delta()
    assert run.run.kind == "delta"
    assert [(a.customer_ref, a.reference, a.source) for a in run.new_alerts] == [("c-1", ref, "shared")]
    # the delta screened the customer the entry reaches, not the whole base
    assert run.run.screened < run.run.customers
    alert = run.new_alerts[0]
    assert alert.originator is not None and alert.originator.startswith("partner-")
    assert (alert.tlp, alert.handling) == ("amber", ("consent-before-action",))
    assert _same_as_full(bank) == {("c-1", ref)}
    # nothing changed since: the next delta screens no one again and keeps the alert
    quiet = bank.delta()
    assert (quiet.run.screened, quiet.run.new_alerts, quiet.run.withdrawn_alerts) == (1, 0, 0)  # c-1: its open alert

    withdraw_entry(bank.engine, ref, bank.partner, "officer", "cleared")
    gone = bank.delta()
    assert gone.run.withdrawn_alerts == 1 and bank.alerts() == []
    withdrawn = [a for a in list_alerts(bank.engine, bank.bank, "withdrawn") if a.reference == ref]
    assert withdrawn and "no longer matches" in (withdrawn[0].reason or "")
    assert _same_as_full(bank) == set()


def test_an_entry_shared_with_another_member_only_raises_nothing(bank: Bank) -> None:
    bank.share(Labels("members", (bank.other,), "green", (), "for the other one"))
    run = bank.delta()
    assert run.run.new_alerts == 0 and run.run.screened == 0
    assert _same_as_full(bank) == set()


def test_joining_a_group_that_receives_an_entry_alerts_at_the_next_delta(bank: Bank) -> None:
    group = create_group(bank.engine, f"neighbours-{next(_n)}", bank.partner)
    ref = bank.share(Labels("group", (group.id,), "amber", ("info-only",), "neighbours"))
    assert bank.delta().run.new_alerts == 0
    set_group_member(bank.engine, group.id, bank.bank, True)
    run = bank.delta()
    assert [(a.customer_ref, a.reference, a.handling) for a in run.new_alerts] == [("c-1", ref, ("info-only",))]
    assert _same_as_full(bank) == {("c-1", ref)}
    # and leaving it closes the alert at the next delta
    set_group_member(bank.engine, group.id, bank.bank, False)
    assert bank.delta().run.withdrawn_alerts == 1
    assert _same_as_full(bank) == set()


def test_an_entry_edited_to_name_the_customer_alerts_at_the_next_delta(bank: Bank) -> None:
    ref = bank.share(Labels("server", (), "green", (), "all of us"), name=made_up_name())
    assert bank.delta().run.new_alerts == 0
    edit_entry(bank.engine, ref, bank.partner, "officer", "the right name",
               EntryInput("Person", {"name": [bank.name], "birthDate": ["1975"]}))
    run = bank.delta()
    assert [(a.customer_ref, a.reference) for a in run.new_alerts] == [("c-1", ref)]
    assert _same_as_full(bank) == {("c-1", ref)}


runner = CliRunner()


def test_the_cli_delta_reacts_to_a_shared_entry(store: tuple[Engine, Path]) -> None:
    engine, root = store
    n = next(_n)
    partner, bank = (add_member(engine, f"{role}-cli-{n}") for role in ("partner", "bank"))
    path = root / f"cli-{n}.csv"
    name = made_up_name()
    path.write_text(CUSTOMERS.format(name=name), encoding="utf-8")
    env = {"JOINTWATCH_DB": str(root / "store.db"), "JOINTWATCH_MEMBER": None, "COLUMNS": "400"}
    common = ["--member", bank.name, "--max-list-age", "0", "--json"]
    assert runner.invoke(cli_app, ["customers", "screen", str(path), *common], env=env).exit_code == 0
    ref = share_entry(engine, partner.id, "officer", EntryInput("Person", {"name": [name], "birthDate": ["1975"]}),
                      Labels("members", (bank.id,), "amber", ("contact-originator",), "tell us")).ref
    result = runner.invoke(cli_app, ["customers", "rescreen", *common], env=env)
    assert result.exit_code == 0, result.output
    assert [(a.reference, a.originator, a.handling) for a in list_alerts(engine, bank.id, "open")] == \
        [(ref, partner.name, ("contact-originator",))]
    # a person reading the run sees whose entry it is and what its originator asks
    withdraw_entry(engine, ref, partner.id, "officer", "re-shared below")
    again = share_entry(engine, partner.id, "officer", EntryInput("Person", {"name": [name], "birthDate": ["1975"]}),
                        Labels("members", (bank.id,), "amber", ("info-only",), "tell us")).ref
    shown = runner.invoke(cli_app, ["customers", "rescreen", *common[:-1]], env=env)
    assert shown.exit_code == 0, shown.output
    assert again in shown.output and f"{partner.name} (TLP:AMBER, info-only)" in " ".join(shown.output.split())


def test_the_service_delta_reacts_to_a_shared_entry(store: tuple[Engine, Path]) -> None:
    """Through POST /customers/rescreen, with the service's screener kept across requests."""
    engine, _ = store
    n = next(_n)
    partner, bank = (add_member(engine, f"{role}-api-{n}") for role in ("partner", "bank"))
    auth = {"Authorization": f"Bearer {create_key(engine, bank.id, 'screener-user', 'screener')[1]}"}
    name = made_up_name()
    with TestClient(create_app(engine)) as client:
        first = client.post("/customers/screen", json={"content": CUSTOMERS.format(name=name)}, headers=auth)
        assert first.status_code == 200 and first.json()["open_alerts"] == 0
        ref = share_entry(engine, partner.id, "officer", EntryInput(
            "Person", {"name": [name], "birthDate": ["1975"]}),
            Labels("members", (bank.id,), "amber", ("no-further-dissemination",), "ours")).ref
        run = client.post("/customers/rescreen", headers=auth).json()
        assert run["run"]["kind"] == "delta"
        assert [(a["reference"], a["originator"], a["tlp"], a["handling"]) for a in run["new_alerts"]] == \
            [(ref, partner.name, "amber", ["no-further-dissemination"])]
        withdraw_entry(engine, ref, partner.id, "officer", "cleared")
        assert client.post("/customers/rescreen", headers=auth).json()["run"]["withdrawn_alerts"] == 1
        assert client.get("/customers/alerts", headers=auth).json() == []
