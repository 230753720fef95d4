"""GET /health and GET /metrics: for load balancers and Prometheus; no data, no key, no audit."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import PlainTextResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from jointwatch.api.models import Health
from jointwatch.api.problems import Problem

router = APIRouter(tags=["operations"])


@router.get("/health", response_model=Health, responses={503: {"model": Problem}})
def health(request: Request) -> Health:
    """ok when the service can reach its store."""
    try:
        with request.app.state.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        raise HTTPException(503, "the store cannot be reached") from error
    return Health(status="ok")


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(request: Request) -> PlainTextResponse:
    """Request counts by route and status and latency histograms, in Prometheus text format."""
    return PlainTextResponse(request.app.state.metrics.render(), media_type="text/plain; version=0.0.4")
