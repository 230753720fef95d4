"""A store with the real UN list and the OFAC SDN snapshot of 2023-06-05, loaded once."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from jointwatch.screening import Screener, index_from_store, open_screener
from jointwatch.screening.index import ScreeningIndex
from jointwatch.sources import open_list
from jointwatch.store import load_list, open_engine
from tests.conftest import OFAC_2023_06, UN_FILE


@pytest.fixture(scope="session")
def register(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    tmp = tmp_path_factory.mktemp("register")
    old = os.environ.get("JOINTWATCH_CACHE")
    os.environ["JOINTWATCH_CACHE"] = str(tmp / "cache")
    engine = open_engine(str(tmp / "register.db"), create=True)
    load_list(engine, open_list(UN_FILE, "un"))
    load_list(engine, open_list(OFAC_2023_06, "ofac-sdn"))
    yield engine
    engine.dispose()
    if old is None:
        os.environ.pop("JOINTWATCH_CACHE", None)
    else:
        os.environ["JOINTWATCH_CACHE"] = old


@pytest.fixture(scope="session")
def index(register: Engine) -> ScreeningIndex:
    return index_from_store(register)


@pytest.fixture(scope="session")
def screener(register: Engine, index: ScreeningIndex) -> Screener:
    return open_screener(register)


@pytest.fixture
def cache_dir() -> Path:
    return Path(os.environ["JOINTWATCH_CACHE"])
