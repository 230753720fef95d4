"""`jointwatch share …` end to end: three members of one real store (the UN list loaded from
../shared/data) share, read, edit, withdraw and screen partner entries through the commands,
as liaison officers would; each member sees exactly what it is allowed to."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from jointwatch.cli import app
from jointwatch.errors import ConflictError, ForbiddenError, InvalidInputError, NotFoundError
from tests.conftest import UN_FILE

runner = CliRunner()
SUBJECT = "Abu Qatada Zarqawi Testfield"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str | None]:
    """A store with the UN list and the members A, B and C (each test shares entries of its own)."""
    root = tmp_path_factory.mktemp("share")
    environment: dict[str, str | None] = {"JOINTWATCH_DB": str(root / "jointwatch.db"), "COLUMNS": "400",
                                          "JOINTWATCH_CACHE": str(root / "cache"), "JOINTWATCH_MEMBER": None,
                                          "JOINTWATCH_USER": "officer"}
    assert _run(environment, "lists", "load", UN_FILE, "--format", "un").exit_code == 0
    for member in ("A", "B", "C"):
        assert _run(environment, "members", "add", member).exit_code == 0
    return environment


def _run(env: dict[str, str | None], *args: object) -> Result:
    return runner.invoke(app, [str(a) for a in args], env=env, catch_exceptions=False)


def jw(env: dict[str, str | None], *args: object, code: int = 0) -> Any:
    """Run a command with --json, check its exit code, and return what it printed (parsed)."""
    result = _run(env, *args, "--json")
    assert result.exit_code == code, result.output
    return json.loads(result.stdout)


def share(env: dict[str, str | None], member: str, *labels: object, name: str = SUBJECT) -> str:
    out = jw(env, "share", "add", "--member", member, "--name", name, "--birth-date", "1971-03-04",
             "--nationality", "jo", "--passport", "K0912345", "--reason", "Europol SIENA 2026/114", *labels)
    ref = out["ref"]
    assert isinstance(ref, str) and ref.startswith("sh-")
    return ref


def test_a_shares_to_b_under_a_handling_code_and_c_cannot_tell_it_exists(env: dict[str, str | None]) -> None:
    ref = share(env, "A", "--to", "B", "--handling", "consent-before-action", "--tlp", "TLP:AMBER")

    listed = jw(env, "share", "list", "--member", "B")
    assert [e["ref"] for e in listed if e["ref"] == ref] == [ref]
    seen = jw(env, "share", "show", ref, "--member", "B")
    assert seen["originator"] == "A" and seen["handling"] == ["consent-before-action"] and seen["tlp"] == "amber"
    assert seen["entity"]["properties"]["passportNumber"] == ["K0912345"]
    assert "audience" not in seen and "trail" not in seen     # who else got it is the originator's to know
    text = _run(env, "share", "show", ref, "--member", "B")
    assert "originator: A" in text.stdout and "consent-before-action" in text.stdout

    assert ref not in [e["ref"] for e in jw(env, "share", "list", "--member", "C")]
    hidden = jw(env, "share", "show", ref, "--member", "C", code=NotFoundError.exit_code)
    missing = jw(env, "share", "show", "sh-00000000000000000000", "--member", "C", code=NotFoundError.exit_code)
    assert hidden["message"].replace(ref, "REF") == missing["message"].replace("sh-00000000000000000000", "REF")
    assert hidden["error"] == missing["error"] == "NotFoundError"

    # the originator sees where it went and who read it
    own = jw(env, "share", "show", ref, "--member", "A")
    assert own["audience"] == ["B"]
    assert [v["change"] for v in own["history"]] == ["shared"]
    assert {(t["action"], t["member"]) for t in own["trail"]} >= {("shared", "A"), ("viewed", "B")}
    assert not any(t["member"] == "C" for t in own["trail"])


def test_only_the_originator_edits(env: dict[str, str | None]) -> None:
    ref = share(env, "A", "--to", "B")
    refused = jw(env, "share", "edit", ref, "--member", "B", "--note", "mine now", "--tlp", "red",
                 code=ForbiddenError.exit_code)
    assert refused["error"] == "ForbiddenError"
    jw(env, "share", "edit", ref, "--member", "C", "--note", "x", code=NotFoundError.exit_code)

    edited = jw(env, "share", "edit", ref, "--member", "A", "--note", "second passport", "--passport", "K0912345",
                "--passport", "P7654321", "--tlp", "red")
    assert edited["version"] == 2 and edited["tlp"] == "red" and edited["distribution"] == "members"
    props = edited["entity"]["properties"]
    assert props["passportNumber"] == ["K0912345", "P7654321"] and props["name"] == [SUBJECT]  # the rest kept
    history = jw(env, "share", "show", ref, "--member", "A")["history"]
    assert [(v["version"], v["change"], v["note"]) for v in history][-1] == (2, "edited", "second passport")
    jw(env, "share", "edit", ref, "--member", "A", "--tlp", "green", code=InvalidInputError.exit_code)  # no --note


def test_rules_refused_with_the_reason(env: dict[str, str | None]) -> None:
    no_reason = jw(env, "share", "add", "--member", "A", "--name", "Some Body", code=InvalidInputError.exit_code)
    assert "reason" in no_reason["message"]
    red = jw(env, "share", "add", "--member", "A", "--name", "Some Body", "--reason", "r", "--tlp", "red",
             "--distribution", "server", code=InvalidInputError.exit_code)
    assert "TLP:RED" in red["message"]
    jw(env, "share", "add", "--member", "A", "--name", "Some Body", "--reason", "r", "--distribution", "connected",
       "--handling", "no-further-dissemination", code=InvalidInputError.exit_code)
    jw(env, "share", "add", "--member", "A", "--name", "Some Body", "--reason", "r", "--handling", "secret",
       code=InvalidInputError.exit_code)
    jw(env, "share", "add", "--member", "A", "--name", "Some Body", "--reason", "r", "--to", "Nobody",
       code=NotFoundError.exit_code)
    jw(env, "share", "add", "--member", "A", "--reason", "r", code=InvalidInputError.exit_code)     # no name
    jw(env, "share", "add", "--member", "A", "--name", "Some Body", "--reason", "r", "--expires", "next week",
       code=InvalidInputError.exit_code)


def test_withdrawn_stops_matching_for_b_and_reads_as_withdrawn(env: dict[str, str | None]) -> None:
    name = "Khattab Obeidullah Varnasquez"
    ref = share(env, "A", "--to", "B", "--handling", "info-only", name=name)
    hits = jw(env, "screen", name, "--member", "B")["matches"]
    hit = next(m for m in hits if m["reference"] == ref)
    assert hit["source"] == "shared"
    assert ref not in [m["reference"] for m in jw(env, "screen", name, "--member", "C")["matches"]]

    jw(env, "share", "withdraw", ref, "--member", "B", "--reason", "x", code=ForbiddenError.exit_code)
    out = jw(env, "share", "withdraw", ref, "--member", "A", "--reason", "case closed")
    assert out["status"] == "withdrawn"
    assert jw(env, "share", "show", ref, "--member", "B")["status"] == "withdrawn"
    assert "withdrawn" in _run(env, "share", "show", ref, "--member", "B").stdout
    assert ref not in [m["reference"] for m in jw(env, "screen", name, "--member", "B")["matches"]]
    assert ref not in [e["ref"] for e in jw(env, "share", "list", "--member", "B")]
    assert ref in [e["ref"] for e in jw(env, "share", "list", "--member", "B", "--all-statuses")]
    jw(env, "share", "withdraw", ref, "--member", "A", "--reason", "again", code=ConflictError.exit_code)
    jw(env, "share", "edit", ref, "--member", "A", "--note", "n", "--tlp", "green", code=ConflictError.exit_code)
    matched = [t for t in jw(env, "share", "show", ref, "--member", "A")["trail"] if t["action"] == "matched"]
    assert matched and {t["member"] for t in matched} == {"B"}


def test_groups_are_changed_by_their_owner_only(env: dict[str, str | None]) -> None:
    group = jw(env, "share", "groups", "add", "Levant liaison", "--member", "A")
    assert group == {"name": "Levant liaison", "owner": "A", "members": ["A"]}
    jw(env, "share", "groups", "add", "Levant liaison", "--member", "B", code=ConflictError.exit_code)
    ref = share(env, "A", "--group", "Levant liaison", name="Zubair Hanifa Oltramare")
    jw(env, "share", "show", ref, "--member", "B", code=NotFoundError.exit_code)

    refused = jw(env, "share", "groups", "join", "Levant liaison", "B", "--member", "B",
                 code=ForbiddenError.exit_code)
    assert "owner" in refused["message"]
    joined = jw(env, "share", "groups", "join", "Levant liaison", "B", "--member", "A")
    assert joined["members"] == ["A", "B"]
    assert jw(env, "share", "show", ref, "--member", "B")["distribution"] == "group"
    assert "Levant liaison" in _run(env, "share", "groups", "list").stdout

    jw(env, "share", "groups", "leave", "Levant liaison", "B", "--member", "C", code=ForbiddenError.exit_code)
    jw(env, "share", "groups", "leave", "Levant liaison", "A", "--member", "A", code=ConflictError.exit_code)
    jw(env, "share", "groups", "leave", "Levant liaison", "B", "--member", "A")
    jw(env, "share", "show", ref, "--member", "B", code=NotFoundError.exit_code)
    jw(env, "share", "groups", "join", "No such group", "B", "--member", "A", code=NotFoundError.exit_code)


def test_an_entry_from_an_ftm_file(env: dict[str, str | None], tmp_path: Path) -> None:
    entity = {"schema": "Vessel", "properties": {"name": ["Sea Falcon"], "imoNumber": ["IMO9321483"],
                                                 "flag": ["km"]}}
    path = tmp_path / "vessel.json"
    path.write_text(json.dumps(entity), encoding="utf-8")
    out = jw(env, "share", "add", "--member", "A", "--file", path, "--distribution", "server", "--tlp", "green",
             "--reason", "convoy reports")
    assert out["schema"] == "Vessel" and out["entity"]["properties"]["imoNumber"] == ["IMO9321483"]
    assert out["ref"] in [e["ref"] for e in jw(env, "share", "list", "--member", "C")]
    assert out["ref"] not in [e["ref"] for e in jw(env, "share", "list", "--member", "C", "--mine")]
    path.write_text("{not json", encoding="utf-8")
    jw(env, "share", "add", "--member", "A", "--file", path, "--reason", "r", code=InvalidInputError.exit_code)


def test_share_add_help_explains_tlp_and_handling(env: dict[str, str | None]) -> None:
    text = _run(env, "share", "add", "--help").stdout
    for word in ("amber+strict", "named recipients", "consent-before-action", "no-further-dissemination",
                 "connected"):
        assert word in text
