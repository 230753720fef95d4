"""A store with the real UN list, one app over it for the session, and members made per test."""

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


@pytest.fixture(scope="session")
def un_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    tmp: Path = tmp_path_factory.mktemp("api")
    old = os.environ.get("JOINTWATCH_CACHE")
    os.environ["JOINTWATCH_CACHE"] = str(tmp / "cache")  # the index cache stays out of the user's home
    engine = open_engine(str(tmp / "api.db"))
    load_list(engine, open_list(UN_FILE, "un"))
    yield engine
    engine.dispose()
    if old is None:
        os.environ.pop("JOINTWATCH_CACHE", None)
    else:
        os.environ["JOINTWATCH_CACHE"] = old


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


@pytest.fixture
def new_member(un_store: Engine) -> Callable[[], Member]:
    def make() -> Member:
        member = add_member(un_store, f"agency-{uuid.uuid4().hex[:8]}")
        keys = {role: create_key(un_store, member.id, f"{role}-user", role)[1] for role in ROLES}
        return Member(member.id, member.name, keys)

    return make


@pytest.fixture
def audit_of(un_store: Engine) -> Callable[[int], list[AuditEntry]]:
    return lambda member_id: read_audit(un_store, member_id)
