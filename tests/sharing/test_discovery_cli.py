"""`jointwatch discover …` end to end on the real UN store: a holder opens an offer, an asker finds
its TLP:RED entry blind, the holder's `discover show` has who asked, when and how many keys, and a
spent budget exits 4 with the holder not asked (never read as "no hit")."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine
from typer.testing import CliRunner, Result

from jointwatch.cli import app as cli_app
from jointwatch.errors import InvalidInputError, LimitReachedError, NotFoundError
from jointwatch.store import blind_queries
from tests.api.conftest import Member, make_member
from tests.sharing.test_discovery_api import NO_OFFER, QUERY, share_red

runner = CliRunner()


def _jw(engine: Engine) -> Callable[..., Result]:
    db = str(engine.url.database)

    def run(*args: object) -> Result:
        return runner.invoke(cli_app, [*map(str, args), "--db", db],
                             env={"COLUMNS": "400", "JOINTWATCH_MEMBER": None}, catch_exceptions=False)
    return run


def _json(result: Result, code: int = 0) -> Any:
    assert result.exit_code == code, result.output
    return json.loads(result.stdout)


def test_a_holder_offers_an_asker_finds_and_the_holder_sees_only_who_when_and_how_many(
        store_of: Callable[[str], Engine]) -> None:
    engine = store_of("sqlite")
    jw = _jw(engine)
    holder, asker = make_member(engine), make_member(engine)
    share_red(engine, holder)
    assert jw("discover", "show", "--member", holder.name).exit_code == NotFoundError.exit_code

    opened = _json(jw("discover", "offer", "--member", holder.name, "--daily-keys", "500", "--json"))
    assert (opened["holder"], opened["status"], opened["daily_keys"], opened["scope"]) == (holder.name, "open", 500,
                                                                                          "server")
    assert "seed" not in json.dumps(opened)
    changed = _json(jw("discover", "offer", "--member", holder.name, "--per-minute", "9", "--json"))
    assert (changed["daily_keys"], changed["per_minute"]) == (500, 9)
    assert jw("discover", "offer", "--member", holder.name, "--scope", "world").exit_code == InvalidInputError.exit_code

    found = _json(jw("discover", "query", QUERY, "--birth-date", "1982", "--holder", holder.name,
                     "--member", asker.name, "--json"))
    [answer] = found["answers"]
    assert answer["holder"] == holder.name and answer["hit"] is True and answer["refused"] is None
    [hit] = answer["hits"]
    assert hit["strength"] >= 0.7 and set(hit["words"]) <= set(QUERY.split())
    table = jw("discover", "query", QUERY, "--birth-date", "1982", "--holder", holder.name, "--member", asker.name)
    assert table.exit_code == 0 and "hit" in table.stdout and holder.name in table.stdout
    assert "Harzi" not in table.stdout and "sh-" not in table.stdout  # the holder's words and refs: never
    none = jw("discover", "query", "John Smith", "--holder", holder.name, "--member", asker.name)
    assert none.exit_code == 0 and "no hit" in none.stdout  # as `jointwatch screen`: no hit is 0 too

    shown = _json(jw("discover", "show", "--member", holder.name, "--json"))
    assert [(r["asker"], r["keys"], r["outcome"]) for r in shown["log"]] == [(asker.name, 16, "evaluated")] * 3
    assert [(s["asker"], s["keys"], s["queries"]) for s in shown["spend"]] == [(asker.name, 48, 3)]
    text = jw("discover", "show", "--member", holder.name).stdout
    assert asker.name in text and "evaluated" in text
    for word in ("Tarek", "Harzy", "John", "Smith"):
        assert word not in text and word not in json.dumps(shown)
    [spend] = [r for r in _json(jw("discover", "spend", "--member", asker.name, "--json"))
               if r["holder"] == holder.name]
    assert (spend["spent"], spend["budget"], spend["queries"]) == (48, 500, 3)
    assert holder.name in jw("discover", "spend", "--member", asker.name).stdout

    closed = _json(jw("discover", "offer", "--member", holder.name, "--close", "--json"))
    assert closed["status"] == "closed"
    refused = jw("discover", "query", QUERY, "--holder", holder.name, "--member", asker.name, "--json")
    assert refused.exit_code == NotFoundError.exit_code and json.loads(refused.stdout)["message"] == NO_OFFER
    unknown = jw("discover", "query", QUERY, "--holder", "agency-nonexistent", "--member", asker.name, "--json")
    assert unknown.exit_code == NotFoundError.exit_code and json.loads(unknown.stdout)["message"] == NO_OFFER


def test_a_spent_budget_exits_4_and_the_holder_was_not_asked(store_of: Callable[[str], Engine]) -> None:
    engine = store_of("sqlite")
    jw = _jw(engine)
    holder, asker = make_member(engine), make_member(engine)
    share_red(engine, holder)
    _json(jw("discover", "offer", "--member", holder.name, "--daily-keys", "20", "--json"))
    first = jw("discover", "query", QUERY, "--birth-date", "1982", "--holder", holder.name, "--member", asker.name)
    assert first.exit_code == 0 and "hit" in first.stdout
    spent = jw("discover", "query", QUERY, "--birth-date", "1982", "--holder", holder.name, "--member", asker.name,
               "--json")
    assert spent.exit_code == LimitReachedError.exit_code == 4
    [answer] = json.loads(spent.stdout)["answers"]
    assert not answer["hit"] and "budget" in answer["refused"] and (answer["spent"], answer["budget"]) == (16, 20)
    table = jw("discover", "query", QUERY, "--holder", holder.name, "--member", asker.name)
    assert table.exit_code == 4 and "refused: not asked" in table.stdout
    assert [q.outcome for q in blind_queries(engine, holder.id)] == ["refused", "refused", "evaluated"]
    [seen] = _json(jw("discover", "show", "--member", holder.name, "--json"))["spend"]
    assert (seen["keys"], seen["refused"]) == (16, 2)


def test_query_help_documents_the_exit_codes(store_of: Callable[[str], Engine]) -> None:
    help_text = runner.invoke(cli_app, ["discover", "query", "--help"], env={"COLUMNS": "200"}).stdout
    for said in ("0 done, hit or no hit", "7 a bad query", "9 no list loaded", "6 a --holder", "4 when a holder"):
        assert said in " ".join(help_text.split()), said


def test_asking_without_lists_fails_closed(tmp_path: Any) -> None:
    from jointwatch.store import open_engine  # noqa: PLC0415

    engine = open_engine(str(tmp_path / "empty.db"), create=True)
    holder: Member = make_member(engine)
    asker: Member = make_member(engine)
    share_red(engine, holder)
    jw = _jw(engine)
    assert jw("discover", "offer", "--member", holder.name).exit_code == 0
    assert jw("discover", "query", QUERY, "--member", asker.name).exit_code == 9
    assert blind_queries(engine, holder.id) == []
    engine.dispose()


def test_a_hit_printed_by_hits_opens_a_request_as_one_word(store_of: Callable[[str], Engine]) -> None:
    engine = store_of("sqlite")
    jw = _jw(engine)
    holder, asker = make_member(engine), make_member(engine)
    share_red(engine, holder)
    assert jw("discover", "offer", "--member", holder.name).exit_code == 0
    printed = jw("discover", "query", QUERY, "--birth-date", "1982", "--holder", holder.name, "--member", asker.name,
                 "--hits")
    assert printed.exit_code == 0, printed.output
    [line] = printed.stdout.splitlines()
    name, day, token = line.rsplit(":", 2)
    assert name == holder.name and len(day) == 10 and "Harzi" not in line
    none = jw("discover", "query", "John Smith", "--holder", holder.name, "--member", asker.name, "--hits")
    assert none.exit_code == 0 and none.stdout == ""

    opened = _json(jw("requests", "open", "--hit", line, "--member", asker.name, "--name", QUERY,
                      "--reason", "traveller at Schiphol", "--legal-basis", "EU 2017/541 art. 3", "--json"))
    assert opened["holder"] == holder.name and opened["state"] == "open"
    both = jw("requests", "open", "--hit", line, "--token", token, "--member", asker.name, "--name", QUERY,
              "--reason", "r", "--legal-basis", "b")
    assert both.exit_code == InvalidInputError.exit_code
    bad = jw("requests", "open", "--hit", f"{holder.name}:yesterday:{token}", "--member", asker.name, "--name", QUERY,
             "--reason", "r", "--legal-basis", "b")
    assert bad.exit_code == InvalidInputError.exit_code
    forged = jw("requests", "open", "--hit", f"{holder.name}:{day}:{'0' * len(token)}", "--member", asker.name,
                "--name", QUERY, "--reason", "r", "--legal-basis", "b")
    assert forged.exit_code == NotFoundError.exit_code
