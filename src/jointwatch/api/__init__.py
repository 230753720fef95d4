"""The jointwatch HTTP service: thin FastAPI routers over the same library the CLI uses.

    from jointwatch.api import create_app
    app = create_app(open_engine("jointwatch.db"))   # serve with uvicorn, or test with TestClient

Routes: POST /match, POST /screen, GET /entities/{reference}, GET /lists, GET /lists/{source}/diff,
POST|GET /decisions, GET /audit, GET /keys, GET /health, GET /metrics, GET /openapi.json.
"""

from jointwatch.api.app import create_app
from jointwatch.api.auth import RIGHTS, Right
from jointwatch.api.models import Subject
from jointwatch.api.routes.media import service_matcher, service_media_gate
from jointwatch.api.settings import ServiceSettings

__all__ = [
    "RIGHTS",
    "Right",
    "ServiceSettings",
    "Subject",
    "create_app",
    "service_matcher",
    "service_media_gate",
]
