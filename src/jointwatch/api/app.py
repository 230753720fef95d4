"""The FastAPI application: routers, middleware, error handling, over one store engine."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi_offline import FastAPIOffline
from sqlalchemy import Engine
from starlette.types import ASGIApp, Receive, Scope, Send

from jointwatch import __version__
from jointwatch.api.auth import AuthenticateMiddleware, KeyCache, keyed_routes
from jointwatch.api.jobs import JobWorker
from jointwatch.api.metrics import Metrics
from jointwatch.api.middleware import AuditBacklog, BodyLimitMiddleware, ObserveMiddleware
from jointwatch.api.problems import Problem, install_problem_handlers
from jointwatch.api.ratelimit import RateLimiter
from jointwatch.api.routes import (
    alerts,
    decisions,
    discovery,
    evidence,
    federation,
    jobs,
    media,
    members,
    ops,
    payments,
    register,
    requests,
    screening,
    shared,
    taxii,
    travel,
)
from jointwatch.api.screeners import ListWarningMiddleware, Screeners
from jointwatch.api.settings import ServiceSettings
from jointwatch.store import AuditWriter

DESCRIPTION = """Screening against the official terrorist and sanctions lists, for partner agencies.

Send your key as `Authorization: Bearer <key>` or `X-API-Key: <key>`. Every request that
reads or changes data is audited under your member. Errors are RFC 9457 problem details.
"""


DOCS_ASSETS = "/docs-assets"  # where the Swagger UI and ReDoc files are served

# every route behind a key may answer 429 (see ratelimit.py)
RATE_LIMITED: dict[int | str, dict[str, Any]] = {
    429: {"model": Problem, "description": "Over this key's rate limit; see Retry-After."}}


class _JobBodyLimit:
    """The body limit by path: POST /jobs may carry a large batch, an evidence upload a large file,
    every other route the usual limit."""

    def __init__(self, app: ASGIApp, max_bytes: int, job_max_bytes: int, evidence_max_bytes: int) -> None:
        self.usual = BodyLimitMiddleware(app, max_bytes)
        self.jobs = BodyLimitMiddleware(app, job_max_bytes)
        self.evidence = BodyLimitMiddleware(app, evidence_max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.usual
        if scope["type"] == "http" and scope["path"] == "/jobs":
            limit = self.jobs
        elif scope["type"] == "http" and evidence.is_upload_path(scope["path"]):
            limit = self.evidence
        await limit(scope, receive, send)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The batch worker runs while the app serves; on shutdown it stops after its current subject."""
    worker: JobWorker = app.state.job_worker
    # with several workers (api.workers) only worker 0 screens jobs, the others find theirs in the store
    if getattr(app.state, "worker_index", 0) == 0:
        worker.start()  # also resumes the jobs a stopped service left queued or running
    try:
        yield
    finally:
        await anyio.to_thread.run_sync(worker.stop)


def create_app(engine: Engine, settings: ServiceSettings | None = None) -> FastAPI:
    """The service over ``engine`` (an opened, migrated store)."""
    settings = settings or ServiceSettings()
    # /docs and /redoc load Swagger UI and ReDoc from files shipped in fastapi-offline, never a CDN:
    # agencies run the service without the internet. validatorUrl None: Swagger UI would otherwise
    # send the OpenAPI document to validator.swagger.io.
    app = FastAPIOffline(title="jointwatch", version=__version__, description=DESCRIPTION, lifespan=_lifespan,
                         static_url=DOCS_ASSETS, swagger_ui_parameters={"validatorUrl": None})
    app.state.engine = engine
    app.state.settings = settings
    app.state.metrics = Metrics()
    app.state.screeners = Screeners(engine, settings.threshold, policy=settings.list_policy)
    app.state.rate_limiter = RateLimiter(settings.rate_per_second, settings.rate_burst)
    app.state.job_worker = JobWorker(engine, app.state.screeners, settings.job_poll_seconds, settings.job_stop_after)
    app.state.audit_backlog = AuditBacklog(engine)
    app.state.audit_writer = AuditWriter(engine)
    app.state.keys = KeyCache(engine)
    keyed = (screening.router, jobs.router, register.router, decisions.router, alerts.router, members.router,
             travel.router, payments.router, media.router, evidence.router, shared.router,
             federation.router, taxii.router, discovery.router, requests.router)
    for router in keyed:
        app.include_router(router, responses=RATE_LIMITED)
    app.include_router(ops.router)  # no key, so no rate limit
    install_problem_handlers(app)
    # added innermost first: body limit, key check (before the body is read; so that the body
    # limit's refusals are audited), CORS (only when origins are configured; its preflight needs
    # no key, and a 401 or 413 still carries its headers), then observe outermost
    app.add_middleware(_JobBodyLimit, max_bytes=settings.max_body_bytes, job_max_bytes=settings.max_job_body_bytes,
                       evidence_max_bytes=settings.max_evidence_bytes)
    app.add_middleware(AuthenticateMiddleware, keys=app.state.keys, routes=keyed_routes(keyed))
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "X-API-Key", "Content-Type"])
    app.add_middleware(ListWarningMiddleware, screeners=app.state.screeners)
    app.add_middleware(ObserveMiddleware, writer=app.state.audit_writer, metrics=app.state.metrics,
                       backlog=app.state.audit_backlog)
    return app
