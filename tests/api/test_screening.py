"""POST /match and POST /screen against the real UN list; bad and oversized bodies."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.api.conftest import Member

HARZI = {"name": "TARAK BEN TAHER BEN FALEH OUNI HARZI", "birth_date": "1982-05-03"}


def test_match_finds_harzi(client: TestClient, new_member: Callable[[], Member]) -> None:
    response = client.post("/match", json=HARZI, headers=new_member().auth("screener"))
    assert response.status_code == 200, response.text
    body = response.json()
    best = body["matches"][0]
    assert best["reference"] == "QDi.354"
    assert best["score"] >= body["threshold"]
    assert best["list_version"] == body["list_versions"][best["source"]]
    assert best["explanation"]["words"], "every match says why"
    assert any(q["kind"] == "birth_date" and q["outcome"] == "match" for q in best["explanation"]["qualifiers"])


def test_screen_batch_reports_bad_subjects_and_goes_on(client: TestClient,
                                                       new_member: Callable[[], Member]) -> None:
    subjects = [{**HARZI, "id": "p1"}, {"name": "", "id": "p2"}, {"name": "Maria Gonzalez Fernandez", "id": "p3"}]
    response = client.post("/screen", json={"subjects": subjects}, headers=new_member().auth("screener"))
    assert response.status_code == 200, response.text
    body = response.json()
    results = {r["id"]: r for r in body["results"]}
    assert results["p1"]["matches"][0]["reference"] == "QDi.354"
    assert "name is empty" in results["p2"]["error"]
    assert results["p3"]["error"] is None
    assert (body["screened"], body["errors"]) == (2, 1)


def _problem(response, status: int) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "Traceback" not in response.text
    return response.json()  # type: ignore[no-any-return]


def test_bad_bodies_are_422_naming_the_field(client: TestClient, new_member: Callable[[], Member]) -> None:
    headers = new_member().auth("screener")
    missing = _problem(client.post("/match", json={"birth_date": "1982"}, headers=headers), 422)
    assert [e["field"] for e in missing["errors"]] == ["name"]
    unknown = _problem(client.post("/match", json={"name": "Ali", "birthdate": "1982"}, headers=headers), 422)
    assert unknown["errors"][0]["field"] == "birthdate"
    wrong_type = _problem(client.post("/match", json={"name": ["Ali"]}, headers=headers), 422)
    assert wrong_type["errors"][0]["field"] == "name"
    for body, field in (({"name": "  "}, "name"), ({"name": "Ali Hassan", "birth_date": "1982-13-45"}, "birth_date"),
                        ({"name": "Ali Hassan", "gender": "x"}, "gender"),
                        ({"name": "Ali Hassan", "schema": "Spaceship"}, "schema"),
                        ({"name": "Ali Hassan", "countries": ["Atlantis"]}, "countries")):
        problem = _problem(client.post("/match", json=body, headers=headers), 422)
        assert problem["detail"].startswith(field), problem
        assert problem["type"].endswith("invalid-subject")
    out_of_range = _problem(client.post("/match", json={"name": "Ali Hassan", "threshold": 2}, headers=headers), 422)
    assert out_of_range["errors"][0]["field"] == "threshold"


def test_not_json_is_400(client: TestClient, new_member: Callable[[], Member]) -> None:
    headers = {**new_member().auth("screener"), "Content-Type": "application/json"}
    problem = _problem(client.post("/match", content=b"{not json", headers=headers), 400)
    assert "JSON" in problem["detail"]


def test_a_value_is_not_echoed_in_errors(client: TestClient, new_member: Callable[[], Member]) -> None:
    response = client.post("/match", json={"name": "Secret Traveller", "gender": 7},
                           headers=new_member().auth("screener"))
    assert response.status_code == 422
    assert "Secret Traveller" not in response.text


def test_batch_over_the_limit_is_413(client: TestClient, new_member: Callable[[], Member]) -> None:
    subjects = [{"name": f"Person {i}"} for i in range(1001)]
    # async=false: inline only (without it, a larger batch is accepted as a job, see test_jobs.py)
    problem = _problem(client.post("/screen?async=false", json={"subjects": subjects},
                                   headers=new_member().auth("screener")), 413)
    assert "1,000" in problem["detail"]


def test_body_over_a_megabyte_is_413(client: TestClient, new_member: Callable[[], Member]) -> None:
    headers = new_member().auth("screener")
    big = {"subjects": [{"name": "x" * 900, "id": str(i)} for i in range(1200)]}
    problem = _problem(client.post("/screen", json=big, headers=headers), 413)
    assert "bytes" in problem["detail"]

    def chunks():  # type: ignore[no-untyped-def]
        # no Content-Length: the limit is enforced on what arrives
        yield b'{"subjects": ['
        for _ in range(2000):
            yield b'{"name": "' + b"y" * 900 + b'"},'
        yield b'{"name": "z"}]}'

    _problem(client.post("/screen", content=chunks(), headers={**headers, "Content-Type": "application/json"}), 413)
