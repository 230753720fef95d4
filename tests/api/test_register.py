"""GET /entities, /lists, /lists/{source}/diff, /health, /metrics, /openapi.json; problems, CORS."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.api.conftest import Member


def test_entity_with_provenance(client: TestClient, new_member: Callable[[], Member]) -> None:
    response = client.get("/entities/QDi.354", headers=new_member().auth("screener"))
    assert response.status_code == 200, response.text
    listing = response.json()["listings"][0]
    assert listing["reference"] == "QDi.354" and listing["listed_now"]
    assert any(s["prop"] == "birthDate" and s["value"] == "1982-05-03" for s in listing["statements"])
    assert all(s["first_seen"] and s["source"] for s in listing["statements"])


def test_unknown_entity_is_404_problem(client: TestClient, new_member: Callable[[], Member]) -> None:
    response = client.get("/entities/QDi.99999", headers=new_member().auth("screener"))
    assert response.status_code == 404
    assert response.json()["type"].endswith("not-found")


def test_lists_and_diff(client: TestClient, new_member: Callable[[], Member]) -> None:
    headers = new_member().auth("screener")
    versions = client.get("/lists", headers=headers).json()["versions"]
    assert len(versions) == 1 and versions[0]["entities"] > 500
    source = versions[0]["source"]
    # one version loaded: nothing to compare with, which is a 404 that says so
    response = client.get(f"/lists/{source}/diff", headers=headers)
    assert response.status_code == 404 and "no version before" in response.json()["detail"]
    same = client.get(f"/lists/{source}/diff", params={"from": versions[0]["version"]}, headers=headers)
    assert same.status_code == 200
    assert same.json()["added"] == [] and same.json()["changed"] == []


def test_health(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok", "worker": 0}


def test_metrics_prometheus_text(client: TestClient, new_member: Callable[[], Member]) -> None:
    client.post("/match", json={"name": "Ali Hassan"}, headers=new_member().auth("screener"))
    client.get("/entities/QDi.354")  # 401: counted under the route template, not the path
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = response.text
    assert "# TYPE jointwatch_http_requests_total counter" in text
    assert 'jointwatch_http_requests_total{method="POST",route="/match",status="200"}' in text
    assert 'route="/entities/{reference}",status="401"' in text
    assert "QDi.354" not in text
    assert "# TYPE jointwatch_http_request_duration_seconds histogram" in text
    assert 'jointwatch_http_request_duration_seconds_bucket{method="POST",route="/match",le="+Inf"}' in text
    for line in text.splitlines():  # every sample line is "name{labels} number"
        if not line.startswith("#"):
            float(line.rsplit(" ", 1)[1])


def test_openapi_document(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    for path in ("/match", "/screen", "/entities/{reference}", "/lists", "/lists/{source}/diff", "/decisions", "/audit",
                 "/health", "/metrics"):
        assert path in document["paths"], path
    assert {"HTTPBearer", "APIKeyHeader"} <= set(document["components"]["securitySchemes"])
    assert "schema" in document["components"]["schemas"]["Subject"]["properties"]


def test_unknown_route_is_a_problem(client: TestClient) -> None:
    response = client.get("/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


def test_cors_is_closed_by_default(client: TestClient) -> None:
    response = client.options("/match", headers={"Origin": "https://evil.example",
                                                 "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in response.headers
