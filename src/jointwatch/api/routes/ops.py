"""GET /health and GET /metrics: for load balancers and Prometheus; no data, no key, no audit."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import PlainTextResponse

from jointwatch.api.models import Health
from jointwatch.api.problems import Problem
from jointwatch.store import store_reachable

router = APIRouter(tags=["operations"])


@router.get("/health", response_model=Health, responses={503: {"model": Problem}})
def health(request: Request) -> Health:
    """ok when the service can reach its store."""
    if not store_reachable(request.app.state.engine):
        raise HTTPException(503, "the store cannot be reached")
    return Health(status="ok", worker=getattr(request.app.state, "worker_index", 0))


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(request: Request) -> PlainTextResponse:
    """Request counts by route and status and latency histograms, in Prometheus text format."""
    return PlainTextResponse(request.app.state.metrics.render(), media_type="text/plain; version=0.0.4")
