"""`jointwatch serve`: the HTTP service (FastAPI on uvicorn) over the store."""

from __future__ import annotations

from typing import Annotated

import typer

from jointwatch.cli.output import DbOption, console, run
from jointwatch.store import open_engine


def serve_command(
    host: Annotated[str, typer.Option(help="Address to listen on. Default: loopback only.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    cors_origin: Annotated[list[str] | None, typer.Option(
        "--cors-origin", help="A browser origin allowed to call the API; repeatable. Default: none (CORS closed).")
    ] = None,
    db: DbOption = None,
) -> None:
    """Serve the HTTP API: /match, /screen, /entities, /lists, /decisions, /audit, /health, /metrics.

    Callers need an API key (`jointwatch keys create`). The screening index is built before
    the port opens, so the first request is as fast as the rest. Stop with Ctrl-C or SIGTERM:
    requests in flight are finished first.
    """
    import uvicorn  # noqa: PLC0415 - only this command needs the server

    from jointwatch.api import ServiceSettings, create_app  # noqa: PLC0415

    engine = run(False, lambda: open_engine(db))
    app = create_app(engine, ServiceSettings(cors_origins=tuple(cors_origin or ())))
    with console.status("building the screening index"):
        _, versions = run(False, app.state.screeners.current)
    console.print(f"lists: {', '.join(f'{s} {v}' for s, v in versions.items()) or 'none loaded'}", highlight=False)
    uvicorn.run(app, host=host, port=port, server_header=False, proxy_headers=False, timeout_graceful_shutdown=30)
