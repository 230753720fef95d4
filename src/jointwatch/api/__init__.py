"""The jointwatch HTTP service: thin FastAPI routers over the same library the CLI uses.

    from jointwatch.api import create_app
    app = create_app(open_engine("jointwatch.db"))   # serve with uvicorn, or test with TestClient

Several processes on one port, sharing the screening index: ``serve_workers`` (``jointwatch serve --workers N``).

Routes: POST /match, POST /screen, GET /entities/{reference}, GET /lists, GET /lists/{source}/diff,
POST|GET /decisions, GET /audit, GET /keys, GET /health, GET /metrics, GET /openapi.json.
"""

from jointwatch.api.app import create_app
from jointwatch.api.auth import RIGHTS, Right
from jointwatch.api.models import Subject
from jointwatch.api.routes.media import service_matcher, service_media_gate
from jointwatch.api.settings import ServiceSettings
from jointwatch.api.workers import listening_socket, serve_workers

__all__ = [
    "RIGHTS",
    "Right",
    "ServiceSettings",
    "Subject",
    "create_app",
    "listening_socket",
    "serve_workers",
    "service_matcher",
    "service_media_gate",
]
