"""A store with the real UN list per backend, one app over each for the session, members made per test.

Every API test runs on SQLite and on PostgreSQL (the latter when ``JOINTWATCH_TEST_PG_URL``
is set; a skip unless ``JOINTWATCH_REQUIRE_PG`` is set too, then a failure). The
PostgreSQL store lives in a schema of this fixture instance's own (tests/postgres.py), so
the store tests, which reset their schema per test, never pull the tables from under a
session-long app.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from jointwatch.api import create_app
from jointwatch.sources import open_list
from jointwatch.store import load_list, open_engine
from jointwatch.store.audit import AuditEntry, read_audit
from jointwatch.store.members import ROLES, add_member, create_key
from tests.conftest import UN_FILE
from tests.postgres import drop_schema, postgres_url, reset_schema, with_search_path

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def store_of(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], Engine]]:
    """``store_of(backend)``: the store on that backend with the real UN list, loaded once per session."""
    tmp: Path = tmp_path_factory.mktemp("api")
    old = os.environ.get("JOINTWATCH_CACHE")
    os.environ["JOINTWATCH_CACHE"] = str(tmp / "cache")  # the index cache stays out of the user's home
    engines: dict[str, Engine] = {}
    # one schema per instance: conftests that import these fixtures get instances of their own, and
    # pytest may set one up after another's tests began (grouping by backend), so a shared name
    # would reset a schema under a live service
    schema = f"jointwatch_api_tests_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    pg_url: str | None = None

    def store(backend: str) -> Engine:
        nonlocal pg_url
        if backend not in engines:
            if backend == "sqlite":
                engine = open_engine(str(tmp / "api.db"), create=True)
            else:
                pg_url = postgres_url()
                reset_schema(pg_url, schema)
                engine = open_engine(with_search_path(pg_url, schema), create=True)
            load_list(engine, open_list(UN_FILE, "un"))
            engines[backend] = engine
        return engines[backend]

    yield store
    for engine in engines.values():
        engine.dispose()
    if pg_url is not None:
        drop_schema(pg_url, schema)
    if old is None:
        os.environ.pop("JOINTWATCH_CACHE", None)
    else:
        os.environ["JOINTWATCH_CACHE"] = old


@pytest.fixture(scope="session", params=BACKENDS)
def un_store(request: pytest.FixtureRequest, store_of: Callable[[str], Engine]) -> Engine:
    return store_of(str(request.param))


@pytest.fixture(scope="session")
def app(un_store: Engine) -> FastAPI:
    return create_app(un_store)


@pytest.fixture(scope="session")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@dataclass(frozen=True)
class Member:
    """A member made for one test, with one key per role."""

    id: int
    name: str
    keys: dict[str, str]

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}


def make_member(engine: Engine) -> Member:
    """A new member on ``engine`` with one key per role."""
    member = add_member(engine, f"agency-{uuid.uuid4().hex[:8]}")
    keys = {role: create_key(engine, member.id, f"{role}-user", role)[1] for role in ROLES}
    return Member(member.id, member.name, keys)


@pytest.fixture
def new_member(un_store: Engine) -> Callable[[], Member]:
    return lambda: make_member(un_store)


@pytest.fixture
def audit_of(un_store: Engine) -> Callable[[int], list[AuditEntry]]:
    return lambda member_id: read_audit(un_store, member_id)
