"""A list load on a running service's store: no request fails, none goes unaudited; two loads at once both end cleanly.

Real processes on a real SQLite file: `jointwatch lists load` of the OFAC SDN list (about
219,000 statements: long enough that a load holding the write lock while it parses made
requests wait past SQLite's old 5 s busy timeout) runs while threads call /match.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from jointwatch.api import create_app
from jointwatch.sources import open_list
from jointwatch.store import latest_versions, load_list, open_engine
from jointwatch.store.audit import read_audit
from tests.api.conftest import make_member
from tests.conftest import OFAC_TRIPLET, UN_FILE


def _load(db: Path, path: Path, fmt: str) -> subprocess.Popen[str]:
    """`jointwatch lists load` in a process of its own."""
    env = {**os.environ, "JOINTWATCH_CACHE": str(db.parent / "cache")}
    jointwatch = str(Path(sys.executable).parent / "jointwatch")
    command = [jointwatch, "lists", "load", str(path), "--format", fmt, "--db", str(db)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _write_locked(db: Path, process: subprocess.Popen[str]) -> bool:
    """Wait until ``process`` holds the store's write lock; False if it ended first."""
    while process.poll() is None:
        probe = sqlite3.connect(db, timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
        except sqlite3.OperationalError:
            return True  # busy: the load is writing
        finally:
            probe.close()
        threading.Event().wait(0.02)
    return False


def test_requests_during_a_load_all_answer_and_are_audited(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "store.db"
    monkeypatch.setenv("JOINTWATCH_CACHE", str(tmp_path / "cache"))  # the index cache stays out of the home
    engine = open_engine(str(db), create=True)
    load_list(engine, open_list(UN_FILE, "un"))
    member = make_member(engine)
    statuses: list[int] = []
    loading = _load(db, OFAC_TRIPLET, "ofac-sdn")
    assert _write_locked(db, loading), loading.communicate()

    def caller(client: TestClient) -> None:
        while loading.poll() is None:
            response = client.post("/match", headers=member.auth("screener"),
                                   json={"name": "Tarak Ben Taher Harzi", "birth_date": "1982"})
            statuses.append(response.status_code)

    with TestClient(create_app(engine), raise_server_exceptions=False) as client:
        threads = [threading.Thread(target=caller, args=(client,)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    _out, err = loading.communicate()
    assert loading.returncode == 0, err
    assert statuses and set(statuses) <= {200}, sorted(set(statuses))
    rows = [row for row in read_audit(engine, member.id, limit=10_000) if row.action == "match"]
    assert len(rows) == len(statuses)  # every answer has its audit row


def test_two_loads_at_once_both_end_cleanly(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    open_engine(str(db), create=True).dispose()
    first = _load(db, OFAC_TRIPLET, "ofac-sdn")
    assert _write_locked(db, first), first.communicate()
    second = _load(db, UN_FILE, "un")  # starts while the first is writing
    results = [(p.wait(), p.communicate()) for p in (first, second)]
    for code, (_out, err) in results:
        # the second waits for the first's write; past the busy timeout it would be exit 4, never a traceback
        assert code in (0, 4), err
        assert "Traceback" not in err
        if code == 4:
            assert "busy" in err
    loaded = set(latest_versions(open_engine(str(db))))
    assert len(loaded) == 2 if all(code == 0 for code, _ in results) else len(loaded) == 1
