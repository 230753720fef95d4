"""The test PostgreSQL server: each test process keeps its stores in schemas of its own.

The suite runs on two workers (``-n 2 --dist loadfile``), so two test files may build
PostgreSQL stores at the same moment. A store in the shared ``public`` schema would have
its tables dropped under it by the other worker's next reset (CI once failed on
``relation "list_versions" does not exist`` that way); a schema named after the process
cannot be touched by another process.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import Engine, create_engine, text

from jointwatch.store import database_url, open_engine

PG_ENV = "JOINTWATCH_TEST_PG_URL"


def postgres_url() -> str:
    """The test server's URL, or skip (fail when PostgreSQL is required)."""
    url = os.environ.get(PG_ENV)
    if not url:
        if os.environ.get("JOINTWATCH_REQUIRE_PG"):
            pytest.fail(f"{PG_ENV} is not set but JOINTWATCH_REQUIRE_PG is")
        pytest.skip(f"set {PG_ENV} to run the PostgreSQL tests")
    return url


def process_schema(purpose: str) -> str:
    """A schema name no other test process uses: ``jointwatch_<purpose>_<pid>``."""
    return f"jointwatch_{purpose}_{os.getpid()}"


def with_search_path(url: str, schema: str) -> str:
    """``url`` with every connection's search_path set to ``schema`` (libpq ``options``)."""
    return f"{url}{'&' if '?' in url else '?'}options={quote(f'-csearch_path={schema}')}"


def reset_schema(url: str, schema: str) -> None:
    """An empty ``schema``: dropped with whatever any migration put in it, and made again."""
    engine = create_engine(database_url(url))
    with engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()


def drop_schema(url: str, schema: str) -> None:
    engine = create_engine(database_url(url))
    with engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def fresh_store(backend: str, tmp: Path, schema: str) -> Engine:
    """A new, empty, migrated store on ``backend`` (PostgreSQL: in ``schema``, skipped without a server)."""
    if backend == "sqlite":
        return open_engine(str(tmp / "store.db"), create=True)
    url = postgres_url()
    reset_schema(url, schema)
    return open_engine(with_search_path(url, schema), create=True)
