"""Store fixtures: every store test runs on SQLite and, where a server is given, PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.postgres import PG_ENV, drop_schema, fresh_store, process_schema

# emptied before each store is made; another worker's stores live in its own schema
PG_SCHEMA = process_schema("store_tests")


def make_store(backend: str, tmp: Path) -> Engine:
    """A new, empty, migrated store on ``backend``."""
    return fresh_store(backend, tmp, PG_SCHEMA)


@pytest.fixture(scope="session", autouse=True)
def _drop_pg_schema() -> Iterator[None]:
    yield
    url = os.environ.get(PG_ENV)
    if url:
        drop_schema(url, PG_SCHEMA)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store(backend: str, tmp_path: Path) -> Iterator[Engine]:
    engine = make_store(backend, tmp_path)
    yield engine
    engine.dispose()
