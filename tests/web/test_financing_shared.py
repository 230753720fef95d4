"""The console's last financing trace across the workers of `serve --workers N`.

Two apps over one store stand for two workers (each has its own memory, as forked workers do);
the folder `serve` makes for them is given to both. A trace kept by one is the member's last
trace on the other; without the shared folder (one process) each keeps its own, as before.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from starlette.requests import Request

from jointwatch.api import create_app
from jointwatch.network import SimulationSettings, analyse, simulate
from jointwatch.store import open_engine
from jointwatch.web.financing import LastTrace, _keep, _last


def _request(app: FastAPI) -> Request:
    return Request({"type": "http", "app": app, "method": "GET", "path": "/console/financing/trace", "headers": []})


@pytest.fixture(scope="module")
def last_trace(tmp_path_factory: pytest.TempPathFactory) -> LastTrace:
    out = tmp_path_factory.mktemp("trace")
    summary = simulate(out, SimulationSettings(transactions=1000, networks=1, donors=6, countries=4, days=30, seed=3),
                       "csv", None)
    truth = json.loads(Path(str(summary["truth"])).read_text(encoding="utf-8"))
    analysis = analyse(Path(str(summary["transactions"])), [truth["networks"][0]["designated"]])
    return LastTrace(analysis, "payments.csv", "ann", datetime.now(UTC))


def test_a_trace_kept_by_one_worker_is_the_last_trace_on_another(tmp_path: Path, last_trace: LastTrace) -> None:
    engine = open_engine(str(tmp_path / "jw.db"), create=True)
    first, second = create_app(engine), create_app(engine)
    for app in (first, second):
        app.state.shared_folder = str(tmp_path / "shared")
    (tmp_path / "shared").mkdir()
    assert _last(_request(second), 7) is None
    _keep(_request(first), 7, last_trace)
    seen = _last(_request(second), 7)
    assert seen is not None
    assert (seen.filename, seen.user, seen.at) == (last_trace.filename, last_trace.user, last_trace.at)
    assert seen.analysis.trace.designated == last_trace.analysis.trace.designated
    assert seen.analysis.trace.totals == last_trace.analysis.trace.totals
    assert _last(_request(second), 8) is None  # another member's is not there


def test_one_process_keeps_its_trace_in_memory_only(tmp_path: Path, last_trace: LastTrace) -> None:
    engine = open_engine(str(tmp_path / "jw.db"), create=True)
    first, second = create_app(engine), create_app(engine)
    _keep(_request(first), 7, last_trace)
    assert _last(_request(first), 7) is last_trace
    assert _last(_request(second), 7) is None
    assert not list(tmp_path.glob("**/trace-*"))
