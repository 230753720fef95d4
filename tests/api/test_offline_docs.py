"""The interactive docs work without the internet: every asset they load is served by the service."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

URL = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_page_loads_nothing_from_outside(client: TestClient, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 200
    html = response.text
    assert not re.search(r"https?://", html), "the page names an outside address"
    assets = URL.findall(html)
    assert any(a.endswith(".js") for a in assets)
    for asset in assets:
        fetched = client.get(asset)
        assert fetched.status_code == 200, asset
        assert fetched.content


def test_swagger_ui_asks_no_online_validator(client: TestClient) -> None:
    # Swagger UI would otherwise send the OpenAPI document to validator.swagger.io
    assert '"validatorUrl": null' in client.get("/docs").text
