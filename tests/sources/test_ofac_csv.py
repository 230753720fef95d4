"""OFAC legacy CSV: the 2021 triplet, the consolidated list and the 2023 single files."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jointwatch.errors import ListFormatError
from jointwatch.sources.base import Record
from jointwatch.sources.ofac_csv import parse_ofac_cons, parse_ofac_sdn
from jointwatch.sources.ofac_remarks import split_remarks
from tests.conftest import OFAC_2023_03, OFAC_2023_06, OFAC_CONS, OFAC_TRIPLET


def _raw_rows(path: Path) -> list[list[str]]:
    text = path.read_text(encoding="utf-8").rstrip("\x1a\r\n")
    return [[f.strip() for f in row] for row in csv.reader(io.StringIO(text)) if row]


@pytest.fixture(scope="module")
def triplet() -> dict[str, Record]:
    parsed = parse_ofac_sdn(OFAC_TRIPLET)
    assert [p.name for p in parsed.paths] == ["sdn.csv", "alt.csv", "add.csv"]
    return {r.reference: r for r in parsed.records}


def test_triplet_loads_every_row(triplet: dict[str, Record]) -> None:
    primary = _raw_rows(OFAC_TRIPLET / "sdn.csv")
    assert set(triplet) == {row[0] for row in primary}
    # every alt.csv name is on its entity
    for row in _raw_rows(OFAC_TRIPLET / "alt.csv"):
        main = triplet[row[0]].main
        names = main.get("alias") + main.get("previousName")
        # FollowTheMoney drops a pair of quotes around a whole name
        name = " ".join(row[3].split())
        assert name in names or name.strip("'\"") in names, row
    # every add.csv row with content is an Address of its entity
    for row in _raw_rows(OFAC_TRIPLET / "add.csv"):
        if any(v not in ("", "-0-") for v in row[2:]):
            assert any(e.schema.name == "Address" and e.id.endswith("") for e in triplet[row[0]].entities)


def test_harzi_17293_field_by_field(triplet: dict[str, Record]) -> None:
    record = triplet["17293"]
    harzi = record.main
    assert harzi.schema.name == "Person"
    assert harzi.id == "us-ofac-sdn-17293"
    assert harzi.get("name") == ["AL-HARZI, Tariq Bin-Al-Tahar Bin Al Falih Al-'Awni"]
    assert harzi.get("lastName") == ["AL-HARZI"]
    assert set(harzi.get("birthDate")) == {"1982-05-03", "1982-03-05", "1981"}
    assert harzi.get("birthPlace") == ["Tunis, Tunisia"]
    assert harzi.get("passportNumber") == ["Z-050399"]
    # weak a.k.a. in the remarks, strong ones from alt.csv
    assert harzi.get("weakAlias") == ["HOUDOUD, Abu Omar"]
    assert "AL-HARZI, Tariq Tahir Faleh Al-Awni" in harzi.get("alias")
    assert "HARZI, Tariq Tahir Falih 'Awni" in harzi.get("alias")
    assert harzi.get("programId") == ["SDGT"]
    sanction = next(e for e in record.entities if e.schema.name == "Sanction")
    assert sanction.get("authorityId") == ["17293"]
    assert sanction.get("program") == ["SDGT"]


def test_yasin_6931_identifiers(triplet: dict[str, Record]) -> None:
    record = triplet["6931"]
    yasin = record.main
    assert yasin.get("birthDate") == ["1960-04-10"]
    assert yasin.get("citizenship") == ["us"]
    assert set(yasin.get("passportNumber")) == {"27082171", "M0887925"}
    assert yasin.get("socialSecurityNumber") == ["156-92-9858"]
    passports = {e.first("number"): e for e in record.entities if e.schema.name == "Passport"}
    assert passports["27082171"].get("country") == ["us"]
    assert passports["27082171"].get("startDate") == ["1992-06-21"]
    assert passports["M0887925"].get("country") == ["iq"]
    # the remark is kept whole as well, so nothing unparsed is lost
    assert any("Amman, Jordan" in note for note in yasin.get("notes"))


def test_vessel_and_gender_from_remarks() -> None:
    records = {r.reference: r for r in parse_ofac_sdn(OFAC_2023_06).records}
    vessels = [r.main for r in records.values() if r.main.schema.name == "Vessel"]
    assert len(vessels) == 740
    with_imo = [v for v in vessels if v.get("imoNumber")]
    assert len(with_imo) > 600
    raw = {row[0]: row for row in _raw_rows(OFAC_2023_06)}
    for vessel in with_imo[:50]:
        assert vessel.first("imoNumber").replace("IMO", "") in raw[vessel.id.rsplit("-", 1)[1]][11]
    males = [r.main for r in records.values() if "Gender Male" in raw[r.reference][11]]
    assert males and all(m.get("gender") == ["male"] for m in males)


@pytest.mark.parametrize("path", [OFAC_2023_03, OFAC_2023_06])
def test_2023_snapshots_load_completely(path: Path) -> None:
    parsed = parse_ofac_sdn(path)
    raw = _raw_rows(path)
    records = {r.reference: r for r in parsed.records}
    assert set(records) == {row[0] for row in raw}
    assert parsed.published is not None and parsed.published.isoformat() in path.name
    for row in raw:
        assert records[row[0]].main.get("name") == [" ".join(row[1].split())]


def test_consolidated_list() -> None:
    records = {r.reference: r for r in parse_ofac_cons(OFAC_CONS).records}
    assert set(records) == {row[0] for row in _raw_rows(OFAC_CONS / "cons_prim.csv")}
    haniya = records["9639"].main
    assert haniya.get("name") == ["HANIYA, Ismail Abdul Salah"]
    assert haniya.get("birthDate") == ["1962"]
    assert set(haniya.get("alias")) >= {"HANIYA, Ismail", "HANIYYA, Ismaeel"}
    assert haniya.get("programId") == ["NS-PLC"]


def _consume(path: Path) -> None:
    for _ in parse_ofac_sdn(path).records:
        pass


def test_wrong_number_of_fields_names_line(tmp_path: Path) -> None:
    lines = OFAC_2023_03.read_text(encoding="utf-8").splitlines()
    lines[99] = '999999,"BROKEN ROW","individual"'
    path = tmp_path / "sdn.csv"
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(ListFormatError, match=r"sdn\.csv, line 100: expected 12 fields, found 3"):
        _consume(path)


def test_binary_and_duplicates_are_refused(tmp_path: Path) -> None:
    nul = tmp_path / "nul.csv"
    nul.write_bytes(b'36,"A\x00B",-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n')
    with pytest.raises(ListFormatError, match="NUL"):
        _consume(nul)
    dup = tmp_path / "dup.csv"
    row = '36,"AEROCARIBBEAN AIRLINES",-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n'
    dup.write_text(row + row, encoding="utf-8")
    with pytest.raises(ListFormatError, match="line 2: ent_num 36 appears twice"):
        _consume(dup)


def test_a_file_cut_at_a_line_end_is_refused(tmp_path: Path) -> None:
    # the first 500 rows of a real snapshot, cut cleanly: it would load as a 500-entity SDN list
    lines = OFAC_2023_03.read_bytes().split(b"\r\n")[:500]
    path = tmp_path / "sdn.csv"
    path.write_bytes(b"\r\n".join(lines) + b"\r\n")
    with pytest.raises(ListFormatError, match=r"sdn\.csv, after line 500: no end-of-file mark"):
        _consume(path)


def test_latin1_file_is_read_as_windows_1252(tmp_path: Path) -> None:
    path = tmp_path / "old.csv"
    path.write_bytes('7,"JOS\xc9 GARC\xcdA",individual,"SDNT",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n\x1a'
                     .encode("cp1252"))
    (record,) = list(parse_ofac_sdn(path).records)
    assert record.main.get("name") == ["JOSÉ GARCÍA"]


def test_alias_without_primary_is_an_error(tmp_path: Path) -> None:
    folder = tmp_path / "sdn"
    folder.mkdir()
    (folder / "sdn.csv").write_text('36,"A",-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \n\x1a')
    (folder / "alt.csv").write_text('37,1,"aka","B",-0- \n\x1a')
    with pytest.raises(ListFormatError, match="ent_num 37 has no primary record"):
        _consume(folder)


@given(st.lists(st.text(alphabet=st.characters(blacklist_characters=";'"), max_size=20), max_size=6))
@settings(max_examples=200, deadline=None)
def test_split_remarks_keeps_every_part(parts: list[str]) -> None:
    remark = "; ".join(parts)
    assert list(split_remarks(remark)) == [p.strip() for p in parts if p.strip()]


def test_split_remarks_respects_quoted_names() -> None:
    remark = "DOB 1981; a.k.a. 'SMITH; John'; a.k.a. 'O'BRIEN, Pat'."
    assert list(split_remarks(remark)) == ["DOB 1981", "a.k.a. 'SMITH; John'", "a.k.a. 'O'BRIEN, Pat'."]
    # an apostrophe in a place name opens no quote (this once swallowed "Gender Male")
    remark = "POB Biqa' Valley, Lebanon; nationality Lebanon; Gender Male; a.k.a. 'Hajji'"
    assert list(split_remarks(remark)) == [
        "POB Biqa' Valley, Lebanon", "nationality Lebanon", "Gender Male", "a.k.a. 'Hajji'"]
