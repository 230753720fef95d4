"""Per-key rate limits (429 with Retry-After) and the screening timeout (503)."""

from __future__ import annotations

import time
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from jointwatch.api import ServiceSettings, create_app
from jointwatch.api.ratelimit import RateLimiter
from jointwatch.store.audit import read_audit
from tests.api.conftest import Member

HARZI = {"name": "TARAK BEN TAHER BEN FALEH OUNI HARZI", "birth_date": "1982-05-03"}


def test_a_key_over_its_rate_gets_429(un_store: Engine, new_member: Callable[[], Member]) -> None:
    client = TestClient(create_app(un_store, ServiceSettings(rate_per_second=0.5, rate_burst=2)))
    member, other = new_member(), new_member()
    assert [client.get("/lists", headers=member.auth("screener")).status_code for _ in range(3)] == [200, 200, 429]
    refused = client.get("/lists", headers=member.auth("screener"))
    assert refused.status_code == 429
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert int(refused.headers["retry-after"]) >= 1
    # the bucket is per key: the same member's other key and another member go on
    assert client.get("/lists", headers=member.auth("analyst")).status_code == 200
    assert client.get("/lists", headers=other.auth("screener")).status_code == 200
    # refusals are counted in /metrics, not written to the audit trail
    assert [r.status for r in read_audit(un_store, member.id)] == [200, 200, 200]
    assert 'status="429"' in client.get("/metrics").text


def test_the_bucket_refills() -> None:
    limiter = RateLimiter(rate=100.0, burst=1)
    assert limiter.retry_after(1) is None
    assert limiter.retry_after(1) == 1
    time.sleep(0.02)
    assert limiter.retry_after(1) is None
    assert RateLimiter(rate=0, burst=1).retry_after(1) is None  # 0: no limit


def test_screening_past_the_timeout_is_503(un_store: Engine, new_member: Callable[[], Member]) -> None:
    member = new_member()
    with TestClient(create_app(un_store, ServiceSettings(screen_timeout=0.000_001))) as client:
        subjects = [{"name": f"Ali Hassan Mohammed {i}"} for i in range(200)]
        for path, body in (("/match", HARZI), ("/screen", {"subjects": subjects})):
            response = client.post(path, json=body, headers=member.auth("screener"))
            assert response.status_code == 503, (path, response.text)
            assert response.headers["content-type"].startswith("application/problem+json")
            assert "longer than" in response.json()["detail"]
    rows = read_audit(un_store, member.id)
    assert [(r.action, r.status) for r in rows] == [("match", 503), ("screen", 503)]
    assert all(r.result_summary.startswith("timed out") for r in rows)
