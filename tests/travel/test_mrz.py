"""ICAO Doc 9303 machine-readable zones, on the specimen documents of Doc 9303 itself."""

from __future__ import annotations

from datetime import date

import pytest

from jointwatch.errors import MessageFormatError
from jointwatch.travel.dates import birth_year, expiry_year
from jointwatch.travel.mrz import check_digit, parse_mrz, read_mrz_file

TD3 = ["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10"]
TD1 = ["I<UTOD231458907<<<<<<<<<<<<<<<", "7408122F1204159UTO<<<<<<<<<<<6", "ERIKSSON<<ANNA<MARIA<<<<<<<<<<"]
TD2 = ["I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<", "D231458907UTO7408122F1204159<<<<<<<6"]
MRV_A = ["V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L8988901C4XXX4009078F96121096ZE184226B<<<<<<"]
MRV_B = ["V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<", "L8988901C4XXX4009078F9612109<<<<<<<<"]


def _with(line: str, position: int, char: str) -> str:
    return line[:position] + char + line[position + 1:]


def test_check_digit_weights_letters_and_fillers() -> None:
    assert check_digit("L898902C3") == "6"          # letters count 10..35, weights 7-3-1
    assert check_digit("740812") == "2"
    assert check_digit("<<<<<<<<<<<<<<") == "0"     # an empty personal number
    assert check_digit("D23145890") == "7"


def test_td3_specimen_passport() -> None:
    mrz = parse_mrz(TD3)
    assert (mrz.layout, mrz.document_code, mrz.issuing_state) == ("TD3", "P", "UTO")
    assert (mrz.surname, mrz.given_names) == ("ERIKSSON", "ANNA MARIA")
    assert mrz.document_number == "L898902C3"
    assert mrz.nationality == "UTO"
    assert mrz.birth_date == date(1974, 8, 12)
    assert mrz.sex == "female"
    assert mrz.expiry == date(2012, 4, 15)
    assert mrz.optional_data == "ZE184226B"
    assert mrz.valid


def test_td1_and_td2_specimen_identity_cards() -> None:
    for lines, layout in ((TD1, "TD1"), (TD2, "TD2")):
        mrz = parse_mrz(lines)
        assert mrz.layout == layout
        assert mrz.document_number == "D23145890"
        assert (mrz.surname, mrz.given_names, mrz.birth_date) == ("ERIKSSON", "ANNA MARIA", date(1974, 8, 12))
        assert mrz.valid, mrz.failed


def test_visas_have_no_composite_check() -> None:
    for lines, layout in ((MRV_A, "MRV-A"), (MRV_B, "MRV-B")):
        mrz = parse_mrz(lines)
        assert mrz.layout == layout
        assert mrz.document_number == "L8988901C"
        assert mrz.nationality == "XXX"
        assert mrz.birth_date == date(1940, 9, 7)
        assert mrz.expiry == date(1996, 12, 10)
        assert mrz.valid


@pytest.mark.parametrize(("lines", "line", "position", "field"), [
    (TD3, 1, 9, "document number"),
    (TD3, 1, 19, "birth date"),
    (TD3, 1, 27, "expiry date"),
    (TD3, 1, 42, "personal number"),
    (TD3, 1, 43, "composite"),
    (TD1, 0, 14, "document number"),
    (TD1, 1, 6, "birth date"),
    (TD1, 1, 14, "expiry date"),
    (TD1, 1, 29, "composite"),
    (TD2, 1, 9, "document number"),
    (TD2, 1, 19, "birth date"),
    (TD2, 1, 27, "expiry date"),
    (TD2, 1, 35, "composite"),
    (MRV_A, 1, 9, "document number"),
    (MRV_B, 1, 27, "expiry date"),
])
def test_every_check_digit_is_verified_and_named(lines: list[str], line: int, position: int, field: str) -> None:
    right = lines[line][position]
    wrong = str((int(right) + 1) % 10)
    broken = list(lines)
    broken[line] = _with(lines[line], position, wrong)
    mrz = parse_mrz(broken)
    assert not mrz.valid
    assert field in {p.location.split(", ")[-1] for p in mrz.failed}
    # the data is still read for the officer
    assert mrz.surname == "ERIKSSON"


def test_a_changed_data_character_fails_its_check_and_the_composite() -> None:
    broken = [TD3[0], _with(TD3[1], 14, "5")]     # birth year 1974 -> 1975
    failed = {p.location.split(", ")[-1] for p in parse_mrz(broken).failed}
    assert failed == {"birth date", "composite"}


def test_long_document_number_continues_into_optional_data() -> None:
    # TD1 with a 12-character number: 9 in place, '<' as check digit, the rest and its check digit in optional data
    number = "D23145890AB1"
    digit = check_digit(number)
    top = f"I<UTO{number[:9]}<{number[9:]}{digit}".ljust(30, "<")
    middle_core = "7408122F1204159UTO" + "<" * 11
    composite = check_digit(top[5:30] + middle_core[0:7] + middle_core[8:15] + middle_core[18:29])
    mrz = parse_mrz([top, middle_core + composite, TD1[2]])
    assert mrz.document_number == number
    assert mrz.valid, mrz.failed


def test_two_digit_years_take_the_right_century() -> None:
    today = date(2026, 11, 29)
    assert birth_year(74, today) == 1974
    assert birth_year(26, today) == 2026
    assert birth_year(27, today) == 1927       # a birth date is never in the future
    assert expiry_year(12, today) == 2012
    assert expiry_year(76, today) == 2076
    assert expiry_year(96, today) == 1996      # more than 50 years ahead: last century


def test_malformed_zones_are_refused_with_the_reason() -> None:
    with pytest.raises(MessageFormatError, match="not a machine-readable zone"):
        parse_mrz(["P<UTOERIKSSON", "L898902C36"])
    with pytest.raises(MessageFormatError, match="line 2.*not allowed"):
        parse_mrz([TD3[0], TD3[1].replace("<", "-")])
    impossible = _with(_with(TD3[1], 15, "1"), 16, "3")       # month 13
    mrz = parse_mrz([TD3[0], impossible])
    assert mrz.birth_date is None
    assert any("birth date" in p.location and "not a date" in p.reason for p in mrz.failed)


def test_a_file_of_zones() -> None:
    zones = read_mrz_file("\n".join(TD3) + "\n\n" + "\n".join(TD1) + "\n", "passports.txt")
    assert [z.layout for z in zones] == ["TD3", "TD1"]
    traveller = zones[0].traveller()
    assert traveller.name == "ANNA MARIA ERIKSSON"
    assert traveller.documents[0].number == "L898902C3"
