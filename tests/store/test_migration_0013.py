"""Migration 0013: what the CLI recorded before it acted as a member (member_id NULL) is given to
the store's own member ``local``, which the CLI acts as by default, so nothing made earlier is
lost; the freeze register's ``list_source`` column becomes ``source``."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, text

from jointwatch.store import database_url, get_member, iter_customers, list_alerts, list_assets
from jointwatch.store.engine import alembic_config, upgrade

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def test_rows_of_no_member_are_given_to_the_local_member(tmp_path: Path) -> None:
    engine = create_engine(database_url(str(tmp_path / "old.db")))
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0012")
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO customers (member_id, ref, name, schema, updated_at) "
            "VALUES (NULL, 'c1', 'Tarak Harzi', 'Person', :now)"), {"now": NOW})
        connection.execute(text(
            "INSERT INTO customer_runs (member_id, kind, list_versions, started_at, seconds, customers, screened, "
            "new_alerts, withdrawn_alerts) VALUES (NULL, 'full', '{}', :now, 1.0, 1, 1, 1, 0)"), {"now": NOW})
        connection.execute(text(
            "INSERT INTO customer_alerts (member_id, customer_ref, entity_id, source, reference, caption, "
            "listed_name, kind, score, list_version, status, run_id, created_at) VALUES (NULL, 'c1', 'un-1', "
            "'un_sc', 'QDi.354', 'Harzi', 'Harzi', 'name', 0.9, 'v1', 'open', 1, :now)"), {"now": NOW})
        connection.execute(text(
            "INSERT INTO frozen_assets (member_id, holder, account, institution, amount, frozen_amount, currency, "
            "frozen_on, list_source, reference, regime, country, status, created_at) VALUES (NULL, 'Harzi', "
            "'DE89370400440532013000', 'DEUTDEFF', 100, 100, 'EUR', :day, 'un_sc', 'QDi.354', 'ISIL', 'DE', "
            "'frozen', :now)"), {"day": date(2026, 11, 30), "now": NOW})
        connection.execute(text(
            "INSERT INTO whitelist (query_key, query_name, entity_id, source, reference, reason, created_at, "
            "member_id) VALUES ('k1', 'Hans Becker', 'un-2', 'un_sc', 'QDi.1', 'a different person', :now, NULL)"),
            {"now": NOW})
    upgrade(engine)
    local = get_member(engine, "local")
    [asset] = list_assets(engine, local.id)
    assert (asset.member_id, asset.source, asset.reference) == (local.id, "un_sc", "QDi.354")
    assert [c.ref for c in iter_customers(engine, local.id)] == ["c1"]
    assert [a.customer_ref for a in list_alerts(engine, local.id)] == ["c1"]
    with engine.connect() as connection:
        # migration 0019 renamed customer_alerts to alerts
        for table in ("customers", "customer_runs", "alerts", "frozen_assets", "whitelist"):
            owners = {r[0] for r in connection.execute(text(f"SELECT member_id FROM {table}"))}  # noqa: S608
            assert owners == {local.id}, table
    engine.dispose()
