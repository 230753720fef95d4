"""Shared test fixtures: where the real list files live (never copied into the repo)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
LISTS = DATA / "lists"
FIXTURES = REPO / "tests" / "fixtures"

UN_FILE = LISTS / "un_consolidated_2026-02-27.xml"
OFAC_TRIPLET = LISTS / "ofac_sdn_2021-07"
OFAC_CONS = LISTS / "ofac_cons_2021"
OFAC_2023_03 = LISTS / "ofac_sdn_2023-03-01.csv"
OFAC_2023_06 = LISTS / "ofac_sdn_2023-06-05.csv"


@pytest.fixture(scope="session", autouse=True)
def _real_data_present() -> None:
    # the tests are about real lists: a missing data folder is a failure, not a skip
    assert UN_FILE.exists(), f"real list data not found at {LISTS}"
