"""Financing in the console: run a trace on an uploaded transaction file and read it as a graph,
a funding map and the typology findings.

The same call as `jointwatch network trace` (``jointwatch.network.analyse``) on DuckDB, the CLI's
default engine; never Spark from a web request. There is no trace route in the API and no trace
table in the store, so (a decision, see docs/console.md) the file is uploaded with the form, traced
in a worker thread while the browser waits (a small file takes about a second; the upload is capped
by the service's body limit), and the member's last trace is kept in this process's memory to be
opened again until the next trace or a restart (with `serve --workers N`, also in a folder the
workers share, so the page after the upload may be served by any of them). The uploaded file is
deleted as soon as it is read.
"""

from __future__ import annotations

import os
import pickle
import tempfile
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from jointwatch.api import Right
from jointwatch.errors import InvalidInputError, JointwatchError
from jointwatch.network import (
    METHOD_NAMES,
    ROLE_COLOURS,
    Analysis,
    EngineSettings,
    TraceSettings,
    account_ids,
    analyse,
    default_rates,
    flow_graph,
    method_label,
    world_map,
)
from jointwatch.web.pages import Refused, Upload, audit, field, redirect, render, require, upload_of, viewer_of
from jointwatch.web.sessions import Viewer

router = APIRouter(include_in_schema=False)
SUFFIXES = (".csv", ".parquet")
# one trace at a time per process, on a bounded DuckDB: a browser must not starve screening
ENGINE = EngineSettings(memory_limit="1GB", threads=2)
_running = threading.Semaphore(1)


@dataclass(frozen=True)
class LastTrace:
    """A member's last trace: what was traced, by whom and when, and the result."""

    analysis: Analysis
    filename: str
    user: str
    at: datetime


def _traces(request: Request) -> dict[int, LastTrace]:
    state = request.app.state
    if getattr(state, "console_traces", None) is None:
        state.console_traces = {}
    traces: dict[int, LastTrace] = state.console_traces
    return traces


def _shared_folder(request: Request) -> Path | None:
    """Where the workers of `serve --workers N` keep the members' last traces for each other (a
    folder only the service's user may read, made when it starts and removed when it stops);
    None with one process, whose memory is enough."""
    folder = getattr(request.app.state, "shared_folder", None)
    return Path(folder) if folder else None


def _keep(request: Request, member_id: int, last: LastTrace) -> None:
    _traces(request)[member_id] = last
    folder = _shared_folder(request)
    if folder is not None:
        partial = folder / f"trace-{member_id}.{os.getpid()}.tmp"
        partial.write_bytes(pickle.dumps(last, protocol=pickle.HIGHEST_PROTOCOL))
        partial.replace(folder / f"trace-{member_id}.pickle")  # whole or not at all, for a reader


def _last(request: Request, member_id: int) -> LastTrace | None:
    """The member's last trace, whichever worker ran it."""
    folder = _shared_folder(request)
    if folder is not None:
        path = folder / f"trace-{member_id}.pickle"
        if path.is_file():  # written by this service's own workers only, into a folder of its own
            last: LastTrace = pickle.loads(path.read_bytes())  # noqa: S301
            return last
    return _traces(request).get(member_id)


def _float(fields: dict[str, list[str]], name: str, default: float) -> float:
    value = field(fields, name)
    try:
        return float(value) if value else default
    except ValueError:
        raise InvalidInputError(f"{name.replace('_', ' ')}: {value[:20]!r} is not a number") from None


def settings_of(fields: dict[str, list[str]]) -> TraceSettings:
    """The CLI's trace options from the form, checked by TraceSettings itself."""
    hops = field(fields, "hops") or "4"
    if not hops.isdigit():
        raise InvalidInputError(f"hops: {hops[:20]!r} is not a whole number")
    return TraceSettings(hops=int(hops), lookback_days=_float(fields, "lookback_days", 7.0),
                         conduit_share=_float(fields, "conduit_share", 0.5),
                         since=field(fields, "since") or None, until=field(fields, "until") or None,
                         min_amount=_float(fields, "min_amount", 0.0), method=field(fields, "method") or "fifo")


def _run(upload: Upload, designated: list[str], settings: TraceSettings, typologies: bool,
         screener: Any = None) -> Analysis:
    """analyse() on the uploaded bytes, written to a private temporary file for DuckDB to read; with
    ``screener`` (the service's, as `--screen` opens the store's) holders the register matches are
    designated too."""
    suffix = Path(upload.filename).suffix.lower()
    if suffix not in SUFFIXES:
        raise InvalidInputError(f"{upload.filename[:80]!r}: a transaction file is .csv or .parquet")
    with tempfile.TemporaryDirectory(prefix="jointwatch-trace-") as folder, _running:
        path = Path(folder) / f"transactions{suffix}"
        path.write_bytes(upload.data)
        try:
            return analyse(path, designated, settings, engine_settings=ENGINE, rates=default_rates(),
                           screener=screener, typologies=typologies)
        except JointwatchError as refused:
            # the server's temporary path means nothing to the user: the file is the one they chose
            raise Refused(refused.http_status, str(refused).replace(str(path), Path(upload.filename).name)) from None


def _form(request: Request, viewer: Viewer, status: int = 200, **context: Any) -> HTMLResponse:
    last = _last(request, viewer.member_id)
    return render(request, "financing.html", status, viewer=viewer, active="financing", last=last,
                  sent=context.pop("sent", {}), methods=METHOD_NAMES, **context)


@router.get("/financing", response_class=HTMLResponse)
def financing(request: Request, viewer: Annotated[Viewer, Depends(viewer_of)]) -> HTMLResponse:
    """The trace form, and a link to the member's last trace if there is one."""
    require(viewer, Right.DECIDE, "trace financing")
    return _form(request, viewer)


@router.post("/financing", response_class=HTMLResponse)
async def run_trace(request: Request, viewer: Annotated[Viewer, Depends(viewer_of)]) -> Response:
    """Trace the uploaded file as `jointwatch network trace FILE --designated …` does, then show it."""
    fields, files = await upload_of(request, viewer.csrf, request.app.state.settings.max_body_bytes)
    require(viewer, Right.DECIDE, "trace financing")
    sent = {k: v[0] for k, v in fields.items() if k != "csrf"}
    upload = files.get("transactions")
    versions: dict[str, str] = {}
    try:
        if upload is None or not upload.data:
            raise InvalidInputError("choose a transaction file (.csv or .parquet) to trace")
        designated = account_ids(field(fields, "designated"))
        screen = field(fields, "screen") == "on"
        if not designated and not screen:
            raise InvalidInputError("give the designated account ids (comma-separated), or screen the holders")
        settings = settings_of(fields)
        typologies = field(fields, "typologies") == "on"
        screener = None
        if screen:  # fails closed as screening does: no usable list, no trace
            screener, versions = await anyio.to_thread.run_sync(request.app.state.screeners.current)
        analysis = await anyio.to_thread.run_sync(_run, upload, designated, settings, typologies, screener)
    except (JointwatchError, Refused) as refused:
        status = refused.http_status if isinstance(refused, JointwatchError) else refused.status
        await audit(request, viewer, "financing.trace", status, summary=f"refused: {refused}"[:300])
        return _form(request, viewer, status, error=str(refused), sent=sent)
    last = LastTrace(analysis, Path(upload.filename).name[:200], viewer.user.user, datetime.now(UTC))
    await anyio.to_thread.run_sync(_keep, request, viewer.member_id, last)
    trace = analysis.trace
    await audit(request, viewer, "financing.trace", 200, subject={"designated": designated, "screen": screen},
                list_versions=versions or None,
                summary=f"{trace.totals.get('traced', 0):,.2f} USD into {len(trace.designated)} designated accounts "
                        f"from {len(trace.originators)} originators in {len(trace.countries)} countries")
    return redirect("/financing/trace")


@router.get("/financing/trace", response_class=HTMLResponse)
async def last_trace(request: Request, viewer: Annotated[Viewer, Depends(viewer_of)]) -> HTMLResponse:
    """The member's last trace: flow graph, funding map, typology findings and the tables."""
    require(viewer, Right.DECIDE, "trace financing")
    last = await anyio.to_thread.run_sync(_last, request, viewer.member_id)
    if last is None:
        raise Refused(404, "Your member has no trace on this server yet (traces are kept until the service "
                           "restarts). Run one on the Financing page.")
    trace = last.analysis.trace
    graph = {**flow_graph(trace), "colours": ROLE_COLOURS}
    await audit(request, viewer, "financing.read", 200, summary=f"trace of {last.filename}")
    return render(request, "trace.html", viewer=viewer, active="financing", last=last, analysis=last.analysis,
                  trace=trace, method=method_label(trace.method, trace.settings.earmark_days), graph=graph,
                  map_svg=world_map(trace, inline_style=False), colours=ROLE_COLOURS)
