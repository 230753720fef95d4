"""`jointwatch serve`: the HTTP service (FastAPI on uvicorn) over the store."""

from __future__ import annotations

import gc
import math
import os
import shutil
import socket
import tempfile
from typing import Annotated, Any

import typer
from rich.markup import escape

from jointwatch import settings as S
from jointwatch.cli.output import (
    Commands,
    DbOption,
    console,
    err_console,
    handles_errors,
    setting_option,
)
from jointwatch.cli.screening_options import MaxListAgeOption, StaleListsOption
from jointwatch.errors import ScreeningUnavailableError
from jointwatch.screening import DEFAULT_MAX_LIST_AGE_DAYS, ListPolicy, OnStale
from jointwatch.store import open_engine


def _finite(value: float | None) -> float | None:
    # click's ranges let NaN through (it compares false with every bound) and take "inf": a rate
    # or a timeout of either would silently switch a limit off
    if value is not None and not math.isfinite(value):
        raise typer.BadParameter("must be a finite number")
    return value


def _seconds(value: float) -> float:
    if not (math.isfinite(value) and value > 0):
        raise typer.BadParameter("must be a finite number of seconds, more than 0")
    return value


# Every ServiceSettings field is an option here with its environment variable, declared (name,
# default, description) in jointwatch.settings; tests/cli/test_serve_settings.py checks none is missing.
@handles_errors
def serve(
    host: Annotated[str, setting_option(S.HOST)] = S.HOST.default,
    port: Annotated[int, setting_option(S.PORT, min=1, max=65535)] = S.PORT.default,
    workers: Annotated[int, setting_option(S.WORKERS, min=1, max=64)] = S.WORKERS.default,
    cors_origin: Annotated[list[str] | None, setting_option(S.CORS_ORIGINS, metavar="ORIGIN")] = None,
    max_list_age: MaxListAgeOption = DEFAULT_MAX_LIST_AGE_DAYS,
    stale_lists: StaleListsOption = OnStale.refuse,
    max_body_bytes: Annotated[int, setting_option(S.MAX_BODY_BYTES, min=1)] = S.MAX_BODY_BYTES.default,
    max_batch: Annotated[int, setting_option(S.MAX_BATCH, min=1)] = S.MAX_BATCH.default,
    max_job: Annotated[int, setting_option(S.MAX_JOB, min=1)] = S.MAX_JOB.default,
    max_job_body_bytes: Annotated[int, setting_option(S.MAX_JOB_BODY_BYTES, min=1)] = S.MAX_JOB_BODY_BYTES.default,
    threshold: Annotated[float | None, setting_option(S.THRESHOLD, min=0, max=1)] = S.THRESHOLD.default,
    rate_per_second: Annotated[float, setting_option(S.RATE_PER_SECOND, min=0, callback=_finite)
                               ] = S.RATE_PER_SECOND.default,
    rate_burst: Annotated[int, setting_option(S.RATE_BURST, min=1)] = S.RATE_BURST.default,
    screen_timeout: Annotated[float, setting_option(S.SCREEN_TIMEOUT, callback=_seconds)
                              ] = S.SCREEN_TIMEOUT.default,
    job_poll_seconds: Annotated[float, setting_option(S.JOB_POLL_SECONDS, callback=_seconds)
                                ] = S.JOB_POLL_SECONDS.default,
    job_stop_after: Annotated[int | None, setting_option(S.JOB_STOP_AFTER, min=1)] = S.JOB_STOP_AFTER.default,
    media_decode_workers: Annotated[int, setting_option(S.MEDIA_DECODE_WORKERS, min=1)
                                    ] = S.MEDIA_DECODE_WORKERS.default,
    media_disputes_per_day: Annotated[int, setting_option(S.MEDIA_DISPUTES_PER_DAY, min=1)
                                      ] = S.MEDIA_DISPUTES_PER_DAY.default,
    max_evidence_bytes: Annotated[int, setting_option(S.MAX_EVIDENCE_BYTES, min=1)] = S.MAX_EVIDENCE_BYTES.default,
    console_idle_minutes: Annotated[float, setting_option(S.CONSOLE_IDLE_MINUTES, min=0.1, callback=_finite)
                                    ] = S.CONSOLE_IDLE_MINUTES.default,
    db: DbOption = None,
) -> None:
    """Serve the HTTP API: /match, /screen, /entities, /lists, /decisions, /audit, /health, /metrics.

    Callers need an API key (`jointwatch keys create`). The screening index is built before
    the port opens, so the first request is as fast as the rest. Stop with Ctrl-C or SIGTERM:
    requests in flight are finished first. With no list loaded, or a list older than
    --max-list-age, screening routes answer 503 (never an empty "no match").
    """
    import uvicorn  # noqa: PLC0415 - only this command needs the server

    from jointwatch.api import ServiceSettings, create_app, listening_socket, serve_workers  # noqa: PLC0415
    from jointwatch.web import mount_console  # noqa: PLC0415

    if workers > 1 and not hasattr(os, "fork"):
        raise typer.BadParameter("several workers need fork (Linux, macOS); use --workers 1", param_hint="--workers")
    engine = open_engine(db)
    settings = ServiceSettings(
        max_body_bytes=max_body_bytes, max_batch=max_batch, max_job=max_job, max_job_body_bytes=max_job_body_bytes,
        threshold=threshold, cors_origins=tuple(cors_origin or ()), rate_per_second=rate_per_second,
        rate_burst=rate_burst, screen_timeout=screen_timeout, job_poll_seconds=job_poll_seconds,
        job_stop_after=job_stop_after, list_policy=ListPolicy(max_list_age, OnStale(stale_lists)),
        media_decode_workers=media_decode_workers, media_disputes_per_day=media_disputes_per_day,
        max_evidence_bytes=max_evidence_bytes, console_idle_minutes=console_idle_minutes)
    app = create_app(engine, settings)
    mount_console(app)
    try:
        with console.status("building the screening index"):
            versions = app.state.screeners.warm()
        console.print(f"lists: {escape(', '.join(f'{s} {v}' for s, v in versions.items()))}", highlight=False)
    except ScreeningUnavailableError as exc:
        # the service still starts (members and keys can be managed, lists loaded), but refuses to screen
        err_console.print(f"[bold yellow]warning:[/] screening answers 503 until this is fixed: {escape(str(exc))}",
                          highlight=False, markup=True)
    options: dict[str, Any] = {"server_header": False, "proxy_headers": False, "timeout_graceful_shutdown": 30}
    if workers == 1:
        # the index's millions of objects live as long as the service: kept out of the collector's
        # full passes, which otherwise stalled a request every so often for ~0.35 s
        gc.collect()
        gc.freeze()
        uvicorn.run(app, host=host, port=port, **options)
        return
    sock = listening_socket(host, port)
    engine.dispose(close=False)  # every worker opens connections of its own
    # what the workers keep for each other (the console's last traces): only this user may read it
    shared = tempfile.mkdtemp(prefix="jointwatch-serve-")
    app.state.shared_folder = shared

    def run_worker(index: int, shared: socket.socket) -> None:
        engine.dispose(close=False)
        app.state.worker_index = index
        uvicorn.Server(uvicorn.Config(app, host=host, port=port, **options)).run(sockets=[shared])

    console.print(f"{workers} workers on http://{host}:{port} (parent pid {os.getpid()})", highlight=False)
    try:
        code = serve_workers(workers, sock, run_worker)
    finally:
        sock.close()
        shutil.rmtree(shared, ignore_errors=True)
    if code:
        raise typer.Exit(code)


COMMANDS: Commands = [("serve", serve)]
