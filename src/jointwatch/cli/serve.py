"""`jointwatch serve`: the HTTP service (FastAPI on uvicorn) over the store."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from jointwatch.cli.output import DbOption, MaxListAgeOption, StaleListsOption, console, err_console, run
from jointwatch.errors import ScreeningUnavailableError
from jointwatch.screening import ListPolicy, OnStale
from jointwatch.screening.freshness import DEFAULT_MAX_LIST_AGE_DAYS
from jointwatch.store import open_engine


def serve_command(
    host: Annotated[str, typer.Option(help="Address to listen on. Default: loopback only.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    cors_origin: Annotated[list[str] | None, typer.Option(
        "--cors-origin", help="A browser origin allowed to call the API; repeatable. Default: none (CORS closed).")
    ] = None,
    max_list_age: MaxListAgeOption = DEFAULT_MAX_LIST_AGE_DAYS,
    stale_lists: StaleListsOption = OnStale.refuse,
    db: DbOption = None,
) -> None:
    """Serve the HTTP API: /match, /screen, /entities, /lists, /decisions, /audit, /health, /metrics.

    Callers need an API key (`jointwatch keys create`). The screening index is built before
    the port opens, so the first request is as fast as the rest. Stop with Ctrl-C or SIGTERM:
    requests in flight are finished first. With no list loaded, or a list older than
    --max-list-age, screening routes answer 503 (never an empty "no match").
    """
    import uvicorn  # noqa: PLC0415 - only this command needs the server

    from jointwatch.api import ServiceSettings, create_app  # noqa: PLC0415

    engine = run(False, lambda: open_engine(db))
    policy = ListPolicy(max_list_age, OnStale(stale_lists))
    app = create_app(engine, ServiceSettings(cors_origins=tuple(cors_origin or ()), list_policy=policy))
    try:
        with console.status("building the screening index"):
            _, versions = app.state.screeners.current()
        console.print(f"lists: {escape(', '.join(f'{s} {v}' for s, v in versions.items()))}", highlight=False)
    except ScreeningUnavailableError as exc:
        # the service still starts (members and keys can be managed, lists loaded), but refuses to screen
        err_console.print(f"[bold yellow]warning:[/] screening answers 503 until this is fixed: {escape(str(exc))}",
                          highlight=False, markup=True)
    uvicorn.run(app, host=host, port=port, server_header=False, proxy_headers=False, timeout_graceful_shutdown=30)
