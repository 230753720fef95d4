"""Store fixtures: every store test runs on SQLite and, where a server is given, PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from jointwatch.store import database_url, open_engine
from jointwatch.store.schema import metadata

PG_ENV = "JOINTWATCH_TEST_PG_URL"


def _reset_postgres(url: str) -> None:
    engine = create_engine(database_url(url))
    with engine.begin() as connection:
        # every table the schema knows, so a new migration's tables never survive a reset
        # and the names tables had before a migration renamed them (0019: customer_alerts)
        tables = ", ".join([t.name for t in metadata.sorted_tables] + ["customer_alerts"])
        connection.execute(text(f"DROP TABLE IF EXISTS {tables}, alembic_version CASCADE"))
    engine.dispose()


def make_store(backend: str, tmp: Path) -> Engine:
    """A new, empty, migrated store on ``backend``."""
    if backend == "sqlite":
        return open_engine(str(tmp / "store.db"), create=True)
    url = os.environ.get(PG_ENV)
    if not url:
        if os.environ.get("JOINTWATCH_REQUIRE_PG"):
            pytest.fail(f"{PG_ENV} is not set but JOINTWATCH_REQUIRE_PG is")
        pytest.skip(f"set {PG_ENV} to run the store tests on PostgreSQL")
    _reset_postgres(url)
    return open_engine(url, create=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store(backend: str, tmp_path: Path) -> Iterator[Engine]:
    engine = make_store(backend, tmp_path)
    yield engine
    engine.dispose()
