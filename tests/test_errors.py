"""The one error hierarchy (jointwatch.errors): every class lives there, has its own problem
type and a sensible (exit code, HTTP status), is listed in docs/errors.md, and gives the same
answer on the command line (exit code) and from the service (status and problem type)."""

from __future__ import annotations

import importlib
import json
import pkgutil
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import jointwatch
from jointwatch import errors
from jointwatch.api.problems import PROBLEM_TYPE, install_problem_handlers
from jointwatch.cli import app as cli_app
from jointwatch.errors import (
    ConflictError,
    DownloadError,
    InvalidInputError,
    JointwatchError,
    LimitReachedError,
    catalogue,
    catalogue_markdown,
)
from jointwatch.store.decisions import record_decision
from jointwatch.store.members import add_member
from tests.store.conftest import make_store

DOCS = Path(__file__).resolve().parents[1] / "docs"
# the exit codes a status may come with: a caller's mistake is never exit 1, a server fault never 7
EXITS_OF_STATUS = {403: {4}, 404: {6}, 409: {4}, 422: {3, 7}, 429: {4}, 500: {1, 4}, 501: {10}, 502: {5}, 503: {4, 9}}
# modules that run something when imported (a migration environment, the CLI's __main__)
NOT_IMPORTED = (".migrations", "__main__")


def _every_subclass(cls: type[JointwatchError]) -> set[type[JointwatchError]]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub} | _every_subclass(sub)
    return found


def _import_every_module() -> None:
    for info in pkgutil.walk_packages(jointwatch.__path__, "jointwatch."):
        if not any(part in info.name for part in NOT_IMPORTED):
            try:
                importlib.import_module(info.name)
            except ImportError:
                pass  # an optional extra (spark, media) that is not installed declares no error class


def test_every_error_class_is_in_errors_py_and_in_the_catalogue() -> None:
    _import_every_module()
    elsewhere = {f"{c.__module__}.{c.__name__}" for c in _every_subclass(JointwatchError)
                 if c.__module__ != errors.__name__}
    assert not elsewhere, "error classes belong in jointwatch/errors.py (one hierarchy)"
    listed = {kind.name for kind in catalogue()}
    public = {c.__name__ for c in _every_subclass(JointwatchError) | {JointwatchError}
              if not c.__name__.startswith("_")}
    assert listed == public


def test_each_class_has_its_own_problem_type_and_sensible_codes() -> None:
    kinds = catalogue()
    slugs = [kind.slug for kind in kinds]
    assert len(slugs) == len(set(slugs)), sorted(s for s in slugs if slugs.count(s) > 1)
    for kind in kinds:
        assert kind.http_status in EXITS_OF_STATUS, kind
        assert kind.exit_code in EXITS_OF_STATUS[kind.http_status], kind
        assert kind.summary, f"{kind.name} needs a docstring: it is its line in docs/errors.md"
        if kind.http_status == 503:   # "try again" says when
            assert getattr(errors, kind.name).retry_after > 0, kind
    # a value the caller got wrong is a ValueError too (pydantic validators turn it into a field error)
    assert all(issubclass(getattr(errors, k.name), ValueError) for k in kinds if k.slug.startswith("invalid-")
               and k.name != "ListFormatError")


def test_docs_list_every_error() -> None:
    """docs/errors.md holds the table catalogue_markdown() prints (python -m jointwatch.errors)."""
    assert catalogue_markdown() in (DOCS / "errors.md").read_text(encoding="utf-8"), \
        "docs/errors.md is out of date: paste the output of `python -m jointwatch.errors` into it"


def _instance(cls: type[JointwatchError]) -> JointwatchError:
    if issubclass(cls, errors._Located):
        return cls("file.csv", "line 2", "what is wrong")
    if cls is DownloadError:
        return DownloadError("un_sc", None, "what is wrong")
    return cls("what is wrong")


@pytest.mark.parametrize("name", [kind.name for kind in catalogue()])
def test_the_service_answers_each_class_with_its_status_and_type(name: str) -> None:
    cls = getattr(errors, name)
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/fail")
    def fail() -> None:
        raise _instance(cls)

    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/fail")
    problem = answer.json()
    assert (answer.status_code, problem["type"]) == (cls.http_status, PROBLEM_TYPE + cls.slug)
    assert answer.headers["content-type"] == "application/problem+json"
    # a server fault is logged, not told: its message may name the database
    assert ("what is wrong" in problem["detail"]) == (cls.http_status != 500)


def _cli(*args: str, db: Path) -> tuple[int, dict[str, object]]:
    result = CliRunner().invoke(cli_app, [*args, "--db", str(db), "--json"], env={"JOINTWATCH_DB": None},
                                catch_exceptions=False)
    return result.exit_code, json.loads(result.stdout) if result.stdout.strip() else {}


def test_members_add_refusals_say_what_happened(tmp_path: Path) -> None:
    make_store("sqlite", tmp_path).dispose()
    db = tmp_path / "store.db"
    # a member with no name is a bad value (was exit 4 "store error"), a taken name a conflict
    assert _cli("members", "add", " ", db=db) == (7, {"error": "InvalidInputError", "exit_code": 7,
                                                       "message": "a member needs a name"})
    code, answer = _cli("members", "add", "Acme", "--country", "Atlantis", db=db)
    assert (code, answer["error"]) == (7, "InvalidInputError")
    assert _cli("members", "add", "Acme", db=db)[0] == 0
    code, answer = _cli("members", "add", "Acme", db=db)
    assert (code, answer["error"]) == (4, "ConflictError")


def test_store_validation_is_invalid_input(tmp_path: Path) -> None:
    engine = make_store("sqlite", tmp_path)
    member = add_member(engine, "Acme")
    with pytest.raises(InvalidInputError, match="verdict 'maybe'") as bad_verdict:
        record_decision(engine, member.id, "alice", "key", "Ann Smith", None, "QDi.354", None, "maybe", "looked")
    with pytest.raises(InvalidInputError, match="needs a reason") as no_reason:
        record_decision(engine, member.id, "alice", "key", "Ann Smith", None, "QDi.354", None, "false_positive", " ")
    for caught in (bad_verdict, no_reason):
        assert (caught.value.exit_code, caught.value.http_status, caught.value.slug) == (7, 422, "invalid-input")
    with pytest.raises(ConflictError) as taken:
        add_member(engine, "Acme")
    assert (taken.value.exit_code, taken.value.http_status) == (4, 409)
    engine.dispose()


def test_limit_reached_is_a_conflict_with_a_wait() -> None:
    limit = LimitReachedError("10 disputes today", retry_after=3600)
    assert isinstance(limit, ConflictError) and (limit.http_status, limit.retry_after) == (429, 3600)
