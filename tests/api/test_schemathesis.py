"""Property tests from the OpenAPI document: no input, however odd, makes the service answer 5xx.

schemathesis generates requests for every operation the document declares, sends them
with a valid admin key and checks the answers: valid bodies (positive) must get a status,
content type, headers and body the document declares; bodies that break the schema
(negative: wrong types, overlong strings, NUL bytes, odd unicode, missing fields) must be
refused with a 4xx problem. Nothing may ever be a 5xx.

Bounded and derandomised so the file runs in well under a minute per backend.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable

import numpy as np
import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from PIL import Image
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import Engine, create_engine

from jointwatch.api import create_app
from tests.api.conftest import Member, make_member

MAX_EXAMPLES = 25
CHECKS = {
    GenerationMode.POSITIVE: [not_a_server_error, status_code_conformance, content_type_conformance,
                              response_headers_conformance, response_schema_conformance],
    GenerationMode.NEGATIVE: [not_a_server_error, status_code_conformance, content_type_conformance],
}


def _operations() -> list[tuple[str, GenerationMode]]:
    """("POST /match", mode) for every operation of the document (which does not depend on the store).

    Negative cases only where there is something to get wrong: parameters, a body or a key.
    """
    document = create_app(create_engine("sqlite://")).openapi()
    cases = []
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            label = f"{method.upper()} {path}"
            cases.append((label, GenerationMode.POSITIVE))
            if {"parameters", "requestBody", "security"} & set(operation):
                cases.append((label, GenerationMode.NEGATIVE))
    return cases


@pytest.fixture(scope="session")
def api_schema(app: FastAPI) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.fixture(scope="session")
def media_banked(client: TestClient, un_store: Engine) -> None:
    """One item in the media bank, so the match routes match instead of refusing an empty bank (503)."""
    pixels = np.random.default_rng(354).integers(0, 256, (240, 320, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).resize((640, 480), Image.Resampling.BICUBIC).save(buffer, "PNG")
    contributor = make_member(un_store)
    banked = client.post("/media/items/upload", params={"content_type": "propaganda", "tlp": "green"},
                         content=buffer.getvalue(),
                         headers={**contributor.auth("analyst"), "Content-Type": "application/octet-stream"})
    assert banked.status_code == 201, banked.text


@pytest.mark.parametrize(("label", "mode"), _operations(), ids=lambda v: str(getattr(v, "value", v)))
def test_no_input_makes_a_server_error(label: str, mode: GenerationMode, api_schema: schemathesis.BaseSchema,
                                       new_member: Callable[[], Member], request: pytest.FixtureRequest) -> None:
    operation = api_schema.find_operation_by_label(label)
    assert operation is not None, label
    if label.startswith("POST /media/match"):
        request.getfixturevalue("media_banked")
    headers = new_member().auth("admin")
    checks = CHECKS[mode]

    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, checks=checks)

    check()


# What the runs above found once (500s), kept as plain regressions on both backends.
HOSTILE = ["A\x00B", "\ud800", "Ali \udfff Hassan"]


@pytest.mark.parametrize("text", HOSTILE, ids=["nul", "lone-surrogate", "surrogate-inside"])
def test_text_that_cannot_be_stored_is_422(text: str, client: TestClient, new_member: Callable[[], Member]) -> None:
    headers = {**new_member().auth("analyst"), "Content-Type": "application/json"}
    for path, body in (("/match", {"name": text}), ("/match", {"name": "Ali", "countries": [text]}),
                       ("/match", {"name": "Ali", "schema": text}),
                       ("/screen", {"subjects": [{"name": "Ali", "id": text}]}),
                       ("/decisions", {"subject": {"name": "Ali"}, "reference": text, "verdict": "false_positive",
                                       "reason": "r"})):
        response = client.post(path, content=json.dumps(body).encode(), headers=headers)
        assert response.status_code == 422, (path, body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("path", ["/entities/A%00B", "/entities/QDi.354?source=%00", "/lists/un%00/diff",
                                  "/lists?source=%00"])
def test_nul_in_path_or_query_is_400(path: str, client: TestClient, new_member: Callable[[], Member]) -> None:
    response = client.get(path, headers=new_member().auth("screener"))
    assert response.status_code == 400, response.text
    assert "NUL" in response.json()["detail"]
