"""Travellers screened against the real register: statuses, reasons, documents, the carrier's reply."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import Engine
from typer.testing import CliRunner, Result

from jointwatch.cli import app
from jointwatch.errors import most_serious_exit
from jointwatch.screening import Screener
from jointwatch.store.travel_documents import ReportedDocument, find_documents, load_documents
from jointwatch.travel.edifact import read_interchange, read_interchanges
from jointwatch.travel.read import read_travellers
from jointwatch.travel.reply import carrier_reply, cusres_reply
from jointwatch.travel.screen import screen_manifest
from tests.conftest import DATA
from tests.travel.test_messages import REFUSED, paxlst_interchange
from tests.travel.test_mrz import TD3

runner = CliRunner()
ENV = {"COLUMNS": "500", "JOINTWATCH_DB": None}

# QDi.354 is TARAK BEN TAHER BEN FALEH OUNI HARZI, born 1982-05-03, Tunisian passport Z050399
MANIFEST = (
    "UNA:+.? 'UNB+UNOA:4+TESTAIR:ZZ+NLAPIS:ZZ+261129:0900+REF001++APIS'"
    "UNH+MSG1+PAXLST:D:05B:UN:IATA+TA100/261129+01:F'BGM+745'"
    "TDT+20+TA100+++TA'LOC+125+IST'DTM+189:2611301015:201'LOC+87+AMS'DTM+232:2611301330:201'"
    "NAD+FL+++AL-HARZI:TAREK BIN TAHER'ATT+2++M'DTM+329:820503'NAT+2+TUN'RFF+AVF:ABC123'DOC+P+Z999999'LOC+91+TUN'"
    "NAD+FL+++DOE:JOHN'ATT+2++M'DTM+329:800101'NAT+2+USA'DOC+P+Z 050-399'LOC+91+TUN'"
    "NAD+FL+++JANSEN:ANNA'ATT+2++F'DTM+329:910311'NAT+2+NLD'DOC+P+NX1234567'LOC+91+NLD'"
    "NAD+FL+++VAN DER BERG:PIETER'ATT+2++M'DTM+329:750102'NAT+2+NLD'DOC+P+NP7654321'LOC+91+NLD'"
    "NAD+FL+++OUNI HARZI:TARAK'ATT+2++M'DTM+329:7X0503'NAT+2+TUN'"
    "CNT+42:5'UNT+40+MSG1'UNZ+1+REF001'"
)


def _screen(register: Engine, screener: Screener, text: str = MANIFEST):
    [manifest] = read_travellers(text, "manifest.edi")
    return screen_manifest(manifest, screener, lambda numbers: find_documents(register, numbers))


def test_statuses_and_reasons(register: Engine, screener: Screener) -> None:
    load_documents(register, "test-sltd", [ReportedDocument("NX1234567", "NLD", status="stolen"),
                                           ReportedDocument("NP7654321", "BEL", status="lost")])
    result = _screen(register, screener)
    by_surname = {r.traveller.surname: r for r in result.results}

    harzi = by_surname["AL-HARZI"]                 # variant spelling, same birth date
    assert harzi.status == "hit"
    assert harzi.matches[0].reference == "QDi.354"
    assert any(r.kind == "name_and_birth_date" and "QDi.354" in r.detail for r in harzi.reasons)

    doe = by_surname["DOE"]                        # another name, QDi.354's passport number (spaces, dash)
    assert doe.status == "hit"
    assert any(r.kind == "listed_document" and "QDi.354" in r.detail for r in doe.reasons)

    jansen = by_surname["JANSEN"]                  # a document reported stolen by that issuing country
    assert jansen.status == "hit"
    assert [(d.number, d.status, d.source) for d in jansen.reported_documents] == [("NX1234567", "stolen", "test-sltd")]

    berg = by_surname["VAN DER BERG"]              # same number reported lost, but by another country
    assert berg.status == "clear" and not berg.reasons and not berg.reported_documents

    unreadable = by_surname["OUNI HARZI"]          # a listed name whose birth date cannot be read: refer
    assert unreadable.status == "refer"
    kinds = {r.kind for r in unreadable.reasons}
    assert {"listed_name", "unreadable"} <= kinds
    assert result.counts() == {"clear": 1, "refer": 1, "hit": 3}


def test_document_expired_before_the_flight_refers(register: Engine, screener: Screener) -> None:
    expired = MANIFEST.replace("NAD+FL+++JANSEN:ANNA'ATT+2++F'DTM+329:910311'NAT+2+NLD'DOC+P+NX1234567'",
                               "NAD+FL+++JANSEN:ANNA'ATT+2++F'DTM+329:910311'NAT+2+NLD'DOC+P+NX7777777'DTM+36:261129'")
    jansen = next(r for r in _screen(register, screener, expired).results if r.traveller.surname == "JANSEN")
    assert jansen.status == "refer"                 # the flight leaves on 2026-11-30
    assert [(r.kind, r.detail) for r in jansen.reasons] == [
        ("expired_document", "P NX7777777 expired on 2026-11-29, before the flight")]


def test_failed_mrz_check_digit_refers(register: Engine, screener: Screener) -> None:
    broken = TD3[1][:43] + "1"
    [manifest] = read_travellers(f"{TD3[0]}\n{broken}\n", "swipe.txt")
    [result] = screen_manifest(manifest, screener).results
    assert result.status == "refer"
    assert [r.kind for r in result.reasons] == ["check_digit"]


def test_shared_messages_screen_clear_without_error(register: Engine, screener: Screener) -> None:
    for path in sorted((DATA / "travel" / "paxlst").iterdir()):
        if path.name in REFUSED:
            continue
        [manifest] = read_travellers(path.read_text(encoding="utf-8"), path.name)
        result = screen_manifest(manifest, screener)
        assert result.counts()["hit"] == 0, path.name
        assert len(result.results) == len(manifest.travellers)


def test_cusres_reply_boards_or_refers_each_traveller(register: Engine, screener: Screener) -> None:
    result = _screen(register, screener)
    reply = read_interchange(cusres_reply(result), "reply", ("CUSRES",))
    assert (reply.sender, reply.recipient) == ("NLAPIS", "TESTAIR")
    [message] = reply.messages
    names = [s.get(3, 0) for s in message.segments if s.tag == "NAD"]
    directives = [s.get(0) for s in message.segments if s.tag == "ERC"]
    assert names == [r.traveller.surname for r in result.results]
    assert directives == ["2Z" if r.status != "clear" else "0Z" for r in result.results]
    assert not any("QDi" in s.get(3) for s in message.segments if s.tag == "FTX")   # reasons stay with us


def jw(*args: object, db: Engine) -> Result:
    argv = [str(a) for a in args] + ["--db", str(db.url.database)]
    return runner.invoke(app, argv, env=ENV, catch_exceptions=False)


def test_cli_screen_json_and_reply(register: Engine, tmp_path: Path) -> None:
    message = tmp_path / "manifest.edi"
    message.write_text(MANIFEST, encoding="utf-8")
    reply = tmp_path / "reply.edi"
    result = jw("travel", "screen", message, DATA / "travel" / "paxlst" / "loader_Test1.txt", "--json",
                "--reply", reply, db=register)
    assert result.exit_code == 8, result.output          # travellers to look at
    clear = jw("travel", "screen", DATA / "travel" / "paxlst" / "loader_Test1.txt", db=register)
    assert clear.exit_code == 0, clear.output
    first, crew = json.loads(result.stdout)["manifests"]
    assert first["travellers"][0]["status"] == "hit"
    assert first["travellers"][0]["matches"][0]["reference"] == "QDi.354"
    assert crew["kind"] == "crew" and crew["counts"]["clear"] == 8
    assert reply.read_text().count("UNH+1+CUSRES") == 2
    # a refused file gets no reply, and the earlier run's reply is not left there to be sent for it
    cut = tmp_path / "cut.edi"
    cut.write_text(MANIFEST[: len(MANIFEST) // 2], encoding="utf-8")
    refused = jw("travel", "screen", cut, "--reply", reply, db=register)
    assert refused.exit_code == 7, refused.output
    assert not reply.exists()


def test_cli_bad_message_exit_7_names_segment(register: Engine) -> None:
    result = jw("travel", "screen", DATA / "travel" / "pnrgov" / "parsers_pnrBadFormat.txt", db=register)
    assert result.exit_code == 7
    assert "segment 28 (UNZ)" in result.output


def test_cli_mrz_exit_codes() -> None:
    ok = runner.invoke(app, ["travel", "mrz", *TD3, "--json"], env=ENV)
    assert ok.exit_code == 0 and json.loads(ok.stdout)["document_number"] == "L898902C3"
    bad = runner.invoke(app, ["travel", "mrz", TD3[0], TD3[1][:43] + "1"], env=ENV)
    assert bad.exit_code == 7 and "composite" in bad.stdout


def test_cli_documents_load_is_all_or_nothing(register: Engine, tmp_path: Path) -> None:
    good = tmp_path / "sltd.csv"
    good.write_text("number,issuing_country,status\nAB123456,FRA,stolen\nCD654321,DEU,lost\n")
    assert jw("travel", "documents", "load", good, "--source", "cli-sltd", db=register).exit_code == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("number,issuing_country,status\nEF111111,ITA,stolen\nGH222222,ITA,misplaced\n")
    result = jw("travel", "documents", "load", bad, "--source", "cli-sltd", db=register)
    assert result.exit_code == 7 and "line 3, status" in result.output
    listed = json.loads(jw("travel", "documents", "list", "--json", db=register).stdout)
    assert listed["cli-sltd"] == 2
    assert [d.number for d in find_documents(register, ["AB-123456", "EF111111"])] == ["AB123456"]


def _directives(reply: str) -> dict[str, str]:
    """Surname → ERC code of every traveller a CUSRES text answers."""
    answered: dict[str, str] = {}
    for interchange in read_interchanges(reply, "reply", ("CUSRES",)):
        for message in interchange.messages:
            surname = ""
            for segment in message.segments:
                if segment.tag == "NAD":
                    surname = segment.get(3, 0)
                elif segment.tag == "ERC":
                    answered[surname] = segment.get(0)
    return answered


def test_a_listed_traveller_in_a_second_interchange_is_screened_and_referred(register: Engine,
                                                                             tmp_path: Path) -> None:
    flight = tmp_path / "appended.edi"
    flight.write_text(paxlst_interchange("1", "JANSEN") + "\n" + MANIFEST, encoding="utf-8")
    reply = tmp_path / "reply.edi"
    result = jw("travel", "screen", flight, "--json", "--reply", reply, db=register)
    assert result.exit_code == 8, result.output          # AL-HARZI of the second interchange: a hit
    manifests = json.loads(result.stdout)["manifests"]
    assert [m["reference"] for m in manifests] == ["1", "REF001"]
    assert manifests[1]["travellers"][0]["status"] == "hit"
    answered = _directives(reply.read_text(encoding="utf-8"))
    every = ["JANSEN", "AL-HARZI", "DOE", "JANSEN", "VAN DER BERG", "OUNI HARZI"]
    assert set(answered) == set(every)                    # a directive for every traveller read
    assert answered["AL-HARZI"] == "2Z" and answered["OUNI HARZI"] == "2Z"


def test_the_reply_to_several_lists_has_one_interchange_each_with_its_own_reference(
        register: Engine, screener: Screener) -> None:
    text = paxlst_interchange("1", "A") + paxlst_interchange("2", "B")
    results = [screen_manifest(m, screener) for m in read_travellers(text, "x")]
    reply = carrier_reply(results)
    assert reply is not None
    interchanges = read_interchanges(reply, "reply", ("CUSRES",))
    assert len(interchanges) == 2
    assert len({i.reference for i in interchanges}) == 2   # a carrier tells the answers apart by them


def test_a_file_with_text_after_unz_is_refused_and_never_boarded(register: Engine, tmp_path: Path) -> None:
    flight = tmp_path / "tail.edi"
    flight.write_text(paxlst_interchange("1", "JANSEN") + "\nNAD+FL+++OUNI HARZI:TARAK'", encoding="utf-8")
    reply = tmp_path / "reply.edi"
    result = jw("travel", "screen", flight, "--reply", reply, db=register)
    assert result.exit_code == 7
    assert "after segment 10 (UNZ)" in result.stderr
    assert not reply.exists() or "JANSEN" not in reply.read_text()    # nobody of that file told to board


def test_one_bad_file_does_not_stop_a_batch(register: Engine) -> None:
    files = sorted((DATA / "travel" / "pnrgov").iterdir())
    result = jw("travel", "screen", *files, "--json", db=register)
    assert result.exit_code == 7                          # a bad file: worse than any traveller to look at
    body = json.loads(result.stdout)
    assert len(body["manifests"]) == len(files) - 1      # the other 29 are screened
    [bad] = body["rejected"]
    assert bad["source"].endswith("parsers_pnrBadFormat.txt")
    assert (bad["location"], bad["exit_code"]) == ("segment 28 (UNZ)", 7)
    assert "longer than 14 characters" in bad["reason"]
    assert body["exit_code"] == 7
    assert "parsers_pnrBadFormat.txt, segment 28 (UNZ)" in result.stderr


def test_a_bad_file_is_not_hidden_behind_a_hit(register: Engine, tmp_path: Path) -> None:
    listed = tmp_path / "listed.edi"
    listed.write_text(MANIFEST, encoding="utf-8")
    reply = tmp_path / "reply.edi"
    result = jw("travel", "screen", DATA / "travel" / "pnrgov" / "parsers_pnrBadFormat.txt", listed,
                DATA / "travel" / "paxlst" / "loader_Test1.txt", "--reply", reply, db=register)
    assert result.exit_code == 7, result.output
    assert "hit" in result.stdout                         # the good files are screened and shown
    assert set(_directives(reply.read_text(encoding="utf-8"))) >= {"AL-HARZI", "Steur"}


def test_most_serious_exit_orders_a_batch() -> None:
    cases = [([], 0), ([0, 0], 0), ([0, 8], 8), ([8, 7, 0], 7), ([7, 9, 8], 9), ([0, 3, 7], 3), ([4, 9], 9)]
    for codes, worst in cases:
        assert most_serious_exit(codes) == worst, codes
