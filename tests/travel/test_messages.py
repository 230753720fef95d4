"""The GTAS PAXLST and PNRGOV test messages in ../shared/data/travel, read field by field."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jointwatch.errors import MessageFormatError
from jointwatch.travel.edifact import read_interchange
from jointwatch.travel.read import detect_format, read_travel_file, read_travellers
from tests.conftest import DATA

TRAVEL = DATA / "travel"
# refused whole: text glued onto UNZ (BadFormat), a stray "13Nov09" after UNZ (multiple_flight_leg)
REFUSED = ("parsers_pnrBadFormat.txt", "loader_multiple_flight_leg_apis.txt")
ALL = sorted(p for p in TRAVEL.glob("*/*") if p.name not in REFUSED)
MULTI_LEG = TRAVEL / "paxlst" / "loader_multiple_flight_leg_apis.txt"


def _one(name: str):
    folder = "paxlst" if (TRAVEL / "paxlst" / name).exists() else "pnrgov"
    manifests = read_travel_file(TRAVEL / folder / name)
    assert len(manifests) == 1
    return manifests[0]


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_every_shared_message_parses_with_named_travellers(path: Path) -> None:
    manifests = read_travel_file(path)
    assert manifests and all(m.travellers for m in manifests)
    assert detect_format(path.read_text(encoding="utf-8")) == path.parent.name
    for manifest in manifests:
        for traveller in manifest.travellers:
            assert traveller.surname, (path.name, traveller.location)
            assert traveller.location.startswith("segment ")


def test_bad_message_is_rejected_naming_the_segment() -> None:
    with pytest.raises(MessageFormatError) as caught:
        read_travel_file(TRAVEL / "pnrgov" / "parsers_pnrBadFormat.txt")
    assert caught.value.location == "segment 28 (UNZ)"
    assert "longer than 14 characters" in caught.value.reason
    assert caught.value.exit_code == 7


def test_paxlst_crew_list_field_by_field() -> None:
    manifest = _one("loader_Test1.txt")
    assert manifest.kind == "crew"                      # BGM+250
    assert manifest.sender == "APIS*C3K"
    [flight] = manifest.flights
    leg = (flight.carrier, flight.number, flight.departure_airport, flight.arrival_airport)
    assert leg == ("UA", "0989", "FRA", "IAD")
    assert flight.departure == datetime(2017, 1, 27, 17, 25)
    assert flight.arrival == datetime(2017, 1, 28, 7, 10)
    assert [t.surname for t in manifest.travellers] == ["Steur", "Adomat", "Nalek", "Meissener", "Pelzing", "Merfort",
                                                        "Sautter", "Zschieschak"]
    first = manifest.travellers[0]
    assert (first.given_names, first.role, first.gender) == ("Andrea Pat", "crew", "female")
    assert first.birth_date == date(1978, 7, 6)
    assert (first.nationality, first.residence, first.birth_place) == ("GBR", "GBR", "Hartford USA")
    assert (first.embarkation, first.debarkation) == ("FRA", "IAD")
    [doc] = first.documents
    assert (doc.type, doc.number, doc.issuing_country, doc.expiry) == ("P", "123456789", "GBR", date(2061, 2, 18))
    assert manifest.declared_count == 8                 # CNT+41+8 (crew), matches the list
    assert not any("CNT" in w for w in manifest.warnings)


def test_paxlst_non_default_separators_and_count_mismatch() -> None:
    manifest = _one("loader_airline2.edi")              # UNA:*.? $ : '*' separates elements, '$' ends segments
    assert manifest.kind == "passengers"
    assert [f"{f.carrier}{f.number}" for f in manifest.flights] == ["TN506"]
    assert len(manifest.travellers) == 10
    betton = manifest.travellers[0]
    assert (betton.surname, betton.given_names, betton.gender) == ("BETTON", "DAVID", "male")
    assert betton.birth_date == date(1954, 10, 16)
    assert betton.references == {"AVF": "QXGYLO"}
    documents = [(d.number, d.issuing_country, d.expiry) for d in betton.documents]
    assert documents == [("178556534", "USA", date(2018, 2, 21))]
    assert manifest.travellers[-1].documents[0].number == "153284238"
    assert "CNT declares 136 travellers, the list holds 10" in manifest.warnings
    assert any("parts 10 received" in w for w in manifest.warnings)   # UNH S010 part 10 of a multi-part list


def test_paxlst_multiple_legs() -> None:
    text = MULTI_LEG.read_text(encoding="utf-8")
    [manifest] = read_travellers(text[:text.rindex("13Nov09")], MULTI_LEG.name)   # without the stray text
    legs = [(f.number, f.departure_airport, f.arrival_airport) for f in manifest.flights]
    assert legs == [("877", "MIA", "IAD"), ("827", "IAD", "JFK"), ("827", "JFK", "CDG")]
    assert manifest.flights[2].arrival == datetime(2008, 8, 11, 6, 30)
    barrett, lang = manifest.travellers
    assert (barrett.surname, barrett.nationality, barrett.residence) == ("BARRETT", "FRA", "FRA")
    assert barrett.references == {"AVF": "GJIO3RT", "ABO": "UUI34T543"}
    assert barrett.documents[0].number == "YY3478621G"
    assert (lang.given_names, lang.gender, lang.birth_date) == ("KRISTIN", "female", date(1960, 6, 6))


def test_paxlst_routing_locations_and_no_documents() -> None:
    manifest = _one("parsers_apisMessage.txt")           # leading spaces, LOC+92 routing
    assert [(f.departure_airport, f.arrival_airport) for f in manifest.flights] == [("ATL", "ORD"), ("ORD", "JFK")]
    clark = manifest.travellers[0]
    assert clark.references["AEA"] == "1234567890ABC"
    assert clark.documents == []


def test_pnrgov_docs_preferred_to_booking_name() -> None:
    manifest = _one("loader_pnr1.txt")
    assert manifest.kind == "reservations"
    smith, jones = manifest.travellers
    assert smith.surname == "SMITHJR"
    assert smith.references["PNR"] == "MFN4TI"
    assert "JOHN SMITHJR" in smith.other_names           # TIF+SMITHJR+JOHNMR: the booking name, title dropped
    assert (smith.birth_date, smith.gender, smith.nationality) == (date(1964, 7, 12), "male", "GBR")
    [doc] = smith.documents
    assert (doc.type, doc.number, doc.issuing_country, doc.expiry) == ("P", "123456789", "GBR", date(2019, 8, 23))
    assert smith.references["TKT"] == "0062120234533"
    assert jones.documents == []                          # DOCS without a number: birth date only
    assert jones.birth_date == date(1964, 7, 12)
    legs = [(f.departure_airport, f.arrival_airport, f.departure) for f in smith.flights]
    assert legs == [("LHR", "JFK", datetime(2010, 12, 12, 9, 15)), ("JFK", "YVR", datetime(2010, 12, 12, 22, 0))]
    assert smith.flights[0].arrival == datetime(2010, 12, 12, 12, 30)


def test_pnrgov_issue_example_docs_and_codeshare() -> None:
    manifest = _one("loader_codeshare.edi")               # UNA:+\*' has five service characters
    park = manifest.travellers[0]
    assert park.birth_date == date(1972, 9, 10)
    assert [(d.number, d.issuing_country, d.expiry) for d in park.documents] == [("JR3364288", "KR", date(2016, 7, 5))]
    assert park.references["PNR"] == "2LS6KP"
    assert any("five service characters" in w for w in manifest.warnings)
    codeshare = [f for f in park.flights if f.operating_carrier]
    assert codeshare and codeshare[0].carrier == "KE" and codeshare[0].operating_carrier == "SQ"


def test_pnrgov_infant_gets_its_own_passport() -> None:
    manifest = _one("loader_adult_and_infant.edi")
    adult, infant = manifest.travellers
    assert adult.role == "passenger" and adult.birth_date == date(1976, 5, 30)
    assert [d.number for d in adult.documents] == ["52263000"]
    assert infant.role == "infant" and infant.birth_date == date(2011, 8, 10)
    assert [d.number for d in infant.documents] == ["AO234000"]


def test_pnrgov_visa_from_doco() -> None:
    ackary = _one("parsers_pnrWithDoco.txt").travellers[0]
    assert (ackary.surname, ackary.given_names) == ("ACKARY", "CHARLES MUHAMMAD")
    assert [(d.type, d.number) for d in ackary.documents] == [("P", "602120901"), ("V", "8675309")]
    assert ackary.birth_place == "HERE VA"


def test_pnrgov_three_pnrs_with_locators() -> None:
    manifest = _one("loader_3_pnrs.edi")
    assert {t.references["PNR"] for t in manifest.travellers} == {"W9TEND", "D1RGHI", "GBFKSK"}
    dye = [t for t in manifest.travellers if t.surname == "DYE"]
    assert [(t.given_names, t.role) for t in dye] == [("DOLAN", "passenger"), ("KAYLA", "passenger"),
                                                      ("ARCHER", "infant")]


def test_broken_envelopes_are_rejected_whole() -> None:
    base = "UNB+UNOA:4+A+B+260101:0000+1'UNH+1+PAXLST:D:05B:UN:IATA'BGM+745'NAD+FL+++DOE:JOHN'"
    with pytest.raises(MessageFormatError, match="UNZ while message .1. is open"):
        read_interchange(base + "UNZ+1+1'")
    with pytest.raises(MessageFormatError, match="no UNZ"):
        read_interchange(base + "UNT+3+1'")
    with pytest.raises(MessageFormatError, match="starts with UNB"):
        read_interchange("UNH+1+PAXLST:D:05B:UN:IATA'UNT+2+1'")
    with pytest.raises(MessageFormatError, match="expected PAXLST"):
        read_travellers(base.replace("PAXLST", "CUSRES") + "UNT+3+1'UNZ+1+1'", "x", "paxlst")
    with pytest.raises(MessageFormatError, match="empty input"):
        read_travellers("  \n", "x")


def test_a_bad_traveller_segment_is_reported_and_the_rest_read() -> None:
    message = ("UNB+UNOA:4+A+B+260101:0000+1'UNH+1+PAXLST:D:05B:UN:IATA'BGM+745'"
               "NAD+FL+++DOE:JOHN'DTM+329:991399'DOC+P+X1'NAD+FL+++ROE:JANE'DTM+329:800101'"
               "CNT+42:2'UNT+9+1'UNZ+1+1'")
    [manifest] = read_travellers(message, "m.edi")
    doe, roe = manifest.travellers
    assert doe.birth_date is None and [(p.location, p.reason) for p in doe.problems] == [
        ("segment 5 (DTM)", "'991399' is not a date")]
    assert doe.documents[0].number == "X1"
    assert roe.birth_date == date(1980, 1, 1) and not roe.problems


def test_csv_travellers_with_a_bad_row() -> None:
    text = ("surname,given_names,birth_date,gender,nationality,document_number,issuing_country,expiry\r\n"
            "OUNI HARZI,TARAK,1982-05-03,M,TUN,Z050399,TUN,2030-01-01\r\n"
            "DOE,JOHN,03/05/1982,M,USA,,,\r\n")
    [manifest] = read_travellers(text, "people.csv")
    assert manifest.format == "csv"
    harzi, doe = manifest.travellers
    assert (harzi.name, harzi.birth_date, harzi.gender) == ("TARAK OUNI HARZI", date(1982, 5, 3), "male")
    assert [(d.number, d.issuing_country, d.expiry) for d in harzi.documents] == [("Z050399", "TUN", date(2030, 1, 1))]
    assert doe.birth_date is None
    assert [(p.location, p.reason) for p in doe.problems] == [
        ("line 3, birth_date", "'03/05/1982' is not a date (YYYY-MM-DD)")]
    with pytest.raises(MessageFormatError, match="line 1: no 'surname' column"):
        read_travellers("name,dob\nX,1\n", "people.csv", "csv")


def test_multi_part_list_is_joined_in_part_order() -> None:
    def part(number: int, last: str, surname: str) -> str:
        return (f"UNH+M{number}+PAXLST:D:05B:UN:IATA+XY100/261130+{number}:{last}'BGM+745'"
                "TDT+20+XY100+++XY'LOC+125+CDG'DTM+189:2611300900:201'LOC+87+JFK'DTM+232:2611301200:201'"
                f"NAD+FL+++{surname}:ANNE'DTM+329:800101'UNT+9+M{number}'")
    message = "UNB+UNOA:4+XY+US+261130:0800+7'" + part(2, "F", "SECOND") + part(1, "C", "FIRST") + "UNZ+2+7'"
    [manifest] = read_travellers(message, "parts.edi")
    assert [t.surname for t in manifest.travellers] == ["FIRST", "SECOND"]
    assert [f"{f.carrier}{f.number}" for f in manifest.flights] == ["XY100"]      # each part repeats the leg
    assert not any("parts" in w for w in manifest.warnings)
    [alone] = read_travellers(message.replace(part(1, "C", "FIRST"), ""), "parts.edi")
    assert any("parts 2 received" in w for w in alone.warnings)


def paxlst_interchange(reference: str, *surnames: str, una: str = "UNA:+.? '") -> str:
    """A one-list PAXLST interchange whose travellers have these surnames (written with UNA's separators)."""
    travellers = "".join(f"NAD+FL+++{s}:ANNE'DTM+329:800101'" for s in surnames)
    text = (f"UNB+UNOA:4+XY+US+261130:0800+{reference}'UNH+1+PAXLST:D:05B:UN:IATA'BGM+745'"
            f"TDT+20+XY100+++XY'LOC+125+CDG'DTM+189:2611300900:201'{travellers}"
            f"UNT+{5 + 2 * len(surnames)}+1'UNZ+1+{reference}'")
    component, data, _, _, _, terminator = una[3:9]
    return una + text.replace(":", component).replace("+", data).replace("'", terminator)


def test_every_interchange_of_a_file_is_read() -> None:
    # a listed traveller appended as a second interchange, with other separators: read, not ignored
    text = paxlst_interchange("1", "FIRST") + "\r\n" + paxlst_interchange("2", "OUNI HARZI", "THIRD", una="UNA*+.? $")
    first, second = read_travellers(text, "two.edi")
    assert [t.surname for t in first.travellers] == ["FIRST"]
    assert [t.surname for t in second.travellers] == ["OUNI HARZI", "THIRD"]
    assert (first.reference, second.reference) == ("1", "2")
    # segments are numbered from the start of the file, so a place names one segment
    assert [t.location for t in (*first.travellers, *second.travellers)] == [
        "segment 7 (NAD)", "segment 17 (NAD)", "segment 19 (NAD)"]
    assert not any("UNZ" in w for w in first.warnings + second.warnings)


@pytest.mark.parametrize("after", [
    "13Nov09",                                                    # the stray text of a GTAS message
    "NAD+FL+++OUNI HARZI:TARAK'",                                 # a traveller outside any interchange
    "UNB+UNOA:4+XY+US+261130:0800+2'UNH+1+PAXLST:D:05B:UN:IATA'BGM+745'NAD+FL+++OUNI HARZI:TARAK'",  # cut short
])
def test_text_after_unz_that_is_not_an_interchange_refuses_the_file(after: str) -> None:
    with pytest.raises(MessageFormatError) as caught:
        read_travellers(paxlst_interchange("1", "FIRST") + "\n" + after, "tail.edi")
    assert caught.value.exit_code == 7
    assert caught.value.location and "segment" in caught.value.location


def test_the_shared_message_with_text_after_unz_is_refused() -> None:
    with pytest.raises(MessageFormatError) as caught:
        read_travel_file(MULTI_LEG)
    assert caught.value.location == "after segment 50 (UNZ)"
    assert "13Nov09" in caught.value.reason


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.from_regex(r"[A-Z]{1,12}", fullmatch=True), min_size=1, max_size=4),
                min_size=1, max_size=5),
       st.sampled_from(["", "\n", "\r\n", "  \n"]),
       st.sampled_from(["UNA:+.? '", "UNA*+.? $", "UNA:+.?*'"]))
def test_every_traveller_of_every_interchange_is_read(lists: list[list[str]], gap: str, una: str) -> None:
    text = gap.join(paxlst_interchange(str(i), *surnames, una=una if i % 2 else "UNA:+.? '")
                    for i, surnames in enumerate(lists, start=1))
    manifests = read_travellers(text, "many.edi")
    assert [[t.surname for t in m.travellers] for m in manifests] == lists


def test_an_interchange_without_una_keeps_the_separators_its_unb_shows() -> None:
    starred = paxlst_interchange("1", "FIRST", una="UNA*+.? $")
    text = starred + starred.removeprefix("UNA*+.? $").replace("+1$", "+2$") + paxlst_interchange("3", "THIRD")[9:]
    manifests = read_travellers(text, "three.edi")
    assert [(m.reference, [t.surname for t in m.travellers]) for m in manifests] == [
        ("1", ["FIRST"]), ("2", ["FIRST"]), ("3", ["THIRD"])]
