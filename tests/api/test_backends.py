"""The same requests answer the same on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from jointwatch.api import create_app
from tests.api.conftest import make_member

QUERIES = [
    {"name": "TARAK BEN TAHER BEN FALEH OUNI HARZI", "birth_date": "1982-05-03"},
    {"name": "Tarek Harzi"},
    {"name": "Ali Hassan", "threshold": 0.6, "limit": 50},
    {"name": "Al-Qaida", "schema": "Organization"},
    {"name": "Maria Gonzalez Fernandez"},
]


def _matches_on(engine: Engine) -> list[list[tuple[str, str, float]]]:
    """(entity id, reference, score) of every match of every query, as /match answers on ``engine``."""
    with TestClient(create_app(engine)) as client:
        headers = make_member(engine).auth("screener")
        answers = []
        for query in QUERIES:
            response = client.post("/match", json=query, headers=headers)
            assert response.status_code == 200, response.text
            answers.append([(m["entity_id"], m["reference"], m["score"]) for m in response.json()["matches"]])
    return answers


@pytest.mark.postgres
def test_match_is_the_same_on_sqlite_and_postgresql(store_of: Callable[[str], Engine]) -> None:
    sqlite = _matches_on(store_of("sqlite"))
    postgresql = _matches_on(store_of("postgresql"))
    assert any(sqlite), "the queries find something"
    assert sqlite[0][0][1] == "QDi.354"
    for query, on_sqlite, on_postgresql in zip(QUERIES, sqlite, postgresql, strict=True):
        assert [(e, r) for e, r, _ in on_sqlite] == [(e, r) for e, r, _ in on_postgresql], query["name"]
        assert [s for _, _, s in on_sqlite] == pytest.approx([s for _, _, s in on_postgresql], abs=1e-9)
