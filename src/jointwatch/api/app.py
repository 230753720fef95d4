"""The FastAPI application: routers, middleware, error handling, over one store engine."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from sqlalchemy import Engine

from jointwatch import __version__
from jointwatch.api.metrics import Metrics
from jointwatch.api.middleware import BodyLimitMiddleware, ObserveMiddleware
from jointwatch.api.problems import install_problem_handlers
from jointwatch.api.routes import decisions, members, ops, register, screening
from jointwatch.api.screeners import Screeners
from jointwatch.api.settings import ServiceSettings

DESCRIPTION = """Screening against the official terrorist and sanctions lists, for partner agencies.

Send your key as `Authorization: Bearer <key>` or `X-API-Key: <key>`. Every request that
reads or changes data is audited under your member. Errors are RFC 9457 problem details.
"""


def create_app(engine: Engine, settings: ServiceSettings | None = None) -> FastAPI:
    """The service over ``engine`` (an opened, migrated store)."""
    settings = settings or ServiceSettings()
    app = FastAPI(title="jointwatch", version=__version__, description=DESCRIPTION)
    app.state.engine = engine
    app.state.settings = settings
    app.state.metrics = Metrics()
    app.state.screeners = Screeners(engine, settings.threshold)
    for router in (screening.router, register.router, decisions.router, members.router, ops.router):
        app.include_router(router)
    install_problem_handlers(app)
    # added innermost first: CORS (only when origins are configured), body limit, then observe outermost
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "X-API-Key", "Content-Type"])
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(ObserveMiddleware, engine=engine, metrics=app.state.metrics)
    return app
