"""Entity ids are unique per source: OFAC uid 18716 (SBERBANK EUROPE AG) is on both the SDN and
the non-SDN list, and stays two listings everywhere (register, screening, customer alerts).
Stores loaded under the old ids are brought to the new ones by migration 0011."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, column, inspect, select, table

from jointwatch.payments.customers import screen_customer_file
from jointwatch.screening import open_screener
from jointwatch.sources import open_list
from jointwatch.sources.base import listing_id
from jointwatch.store import load_list, open_engine
from jointwatch.store.customers import list_alerts
from jointwatch.store.engine import alembic_config
from jointwatch.store.entities import show_entity
from jointwatch.store.schema import statements, version_statements
from tests.conftest import OFAC_2023_06, OFAC_CONS, UN_FILE

UID = "18716"


@pytest.fixture(scope="module")
def both_ofac(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    tmp = tmp_path_factory.mktemp("ids")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JOINTWATCH_CACHE", str(tmp / "cache"))
        engine = open_engine(str(tmp / "store.db"), create=True)
        load_list(engine, open_list(OFAC_2023_06, "ofac-sdn"))
        load_list(engine, open_list(OFAC_CONS, "ofac-cons"))
        customers = tmp / "customers.csv"
        customers.write_text("id,name,type\nc-1,SBERBANK EUROPE AG,organization\n", encoding="utf-8")
        screen_customer_file(engine, open_screener(engine, policy=None), customers)
        yield engine
        engine.dispose()


def test_listing_ids_are_named_after_their_source() -> None:
    assert listing_id("us_ofac_sdn", UID) == "us-ofac-sdn-18716"
    assert listing_id("us_ofac_cons", UID) == "us-ofac-cons-18716"
    assert listing_id("un_sc", "QDi.354") == "un-sc-QDi.354"   # UN and EU ids are what they were


def test_the_same_uid_on_two_lists_is_two_listings(both_ofac: Engine) -> None:
    views = show_entity(both_ofac, UID)
    assert {(v.source, v.entity_id) for v in views} == {
        ("us_ofac_sdn", "us-ofac-sdn-18716"), ("us_ofac_cons", "us-ofac-cons-18716")}
    for v in views:
        assert v.caption == "SBERBANK EUROPE AG"
        assert {s.source for s in v.statements} == {v.source}


def test_a_customer_on_both_lists_gets_an_alert_per_listing(both_ofac: Engine) -> None:
    alerts = list_alerts(both_ofac, None, "open", customer_ref="c-1")
    assert {(a.source, a.reference, a.entity_id) for a in alerts} >= {
        ("us_ofac_sdn", UID, "us-ofac-sdn-18716"), ("us_ofac_cons", UID, "us-ofac-cons-18716")}


def _snapshot(engine: Engine) -> tuple[set[tuple[str, ...]], set[tuple[str, ...]], set[tuple[str, ...]]]:
    with engine.connect() as connection:
        stmts = {tuple(r) for r in connection.execute(select(
            statements.c.id, statements.c.entity_id, statements.c.value, statements.c.source))}
        members = {tuple(r) for r in connection.execute(select(version_statements))}
        # the alerts' table is customer_alerts before migration 0019 renamed it
        name = "alerts" if inspect(connection).has_table("alerts") else "customer_alerts"
        held = table(name, column("id"), column("entity_id"))
        alerts = {tuple(r) for r in connection.execute(select(held.c.id, held.c.entity_id))}
    return stmts, members, alerts


def test_migration_gives_stores_loaded_before_the_ids_of_a_fresh_load(both_ofac: Engine, tmp_path: Path) -> None:
    fresh = _snapshot(both_ofac)
    config = alembic_config()
    with both_ofac.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0010")
    old_stmts, _, old_alerts = _snapshot(both_ofac)
    # before: both lists' 18716 had one id, so the screening index and the alerts merged them
    assert {e for _, e, _, s in old_stmts if s.startswith("us_ofac")} >= {"ofac-18716", "ofac-18716-sanction"}
    assert not any(e.startswith("us-ofac") for _, e, _, _ in old_stmts)
    assert {e for _, e in old_alerts} >= {"ofac-18716"}
    with both_ofac.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    assert _snapshot(both_ofac) == fresh


def test_a_store_with_other_lists_migrates_untouched(tmp_path: Path) -> None:
    engine = open_engine(str(tmp_path / "un.db"), create=True)
    load_list(engine, open_list(UN_FILE, "un"))
    before = _snapshot(engine)
    config = alembic_config()
    for target in ("0010", "head"):
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            (command.downgrade if target == "0010" else command.upgrade)(config, target)
        assert _snapshot(engine) == before
    engine.dispose()
