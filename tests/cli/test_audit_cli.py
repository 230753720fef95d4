"""`jointwatch audit find` and `audit rotate-key`: the operator checks a suspected subject
against keyed audit digests, before and after a rotation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from jointwatch.api import create_app
from jointwatch.cli import app as cli
from jointwatch.sources import open_list
from jointwatch.store import load_list, open_engine
from tests.api.conftest import make_member
from tests.conftest import UN_FILE

runner = CliRunner()


def _jw(*args: str) -> object:
    result = runner.invoke(cli, [*args, "--json"], env={"COLUMNS": "500", "JOINTWATCH_DB": None},
                           catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_find_checks_a_name_under_every_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = str(tmp_path / "store.db")
    monkeypatch.setenv("JOINTWATCH_CACHE", str(tmp_path / "cache"))
    engine = open_engine(db, create=True)
    load_list(engine, open_list(UN_FILE, "un"))
    member = make_member(engine)
    with TestClient(create_app(engine)) as client:
        def match(body: dict[str, object]) -> None:
            assert client.post("/match", json=body, headers=member.auth("screener")).status_code == 200

        match({"name": "Ali Hassan", "birth_date": "1970"})
        rotated = _jw("audit", "rotate-key", "--db", db)
        match({"name": "Ali Hassan", "birth_date": "1970"})
        match({"name": "Ali Hassan"})  # another subject: no birth date
    found = _jw("audit", "find", "Ali Hassan", "--birth-date", "1970", "--db", db)
    assert isinstance(found, list) and isinstance(rotated, dict)
    assert [row["action"] for row in found] == ["match", "match"]
    first, second = (row["subject_digest"] for row in found)
    assert first != second and second.startswith(f"k{rotated['key']}:")
    assert _jw("audit", "find", "Ali Hasan", "--birth-date", "1970", "--db", db) == []
    engine.dispose()
