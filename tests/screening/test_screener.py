"""Screening against the real register (UN 2026-02-27 + OFAC SDN 2023-06-05).

QDi.354 (UN) and 17293 (OFAC) are the same man; QDi.353, his brother Ali, shares four of
his five name parts and his father's name, but not his birth date.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from jointwatch.errors import QueryError
from jointwatch.names import analyze_name
from jointwatch.screening import DEFAULT_THRESHOLD, Query, Screener
from jointwatch.screening.from_store import iter_listed
from jointwatch.screening.index import ScreeningIndex, analyze_names
from jointwatch.store.decisions import record_decision, withdraw_decision
from jointwatch.store.members import acting_member
from jointwatch.store.versions import latest_versions

OFAC = "AL-HARZI, Tariq Bin-Al-Tahar Bin Al Falih Al-'Awni"
UN = "TARAK BEN TAHER BEN FALEH OUNI HARZI"
NATIVE = "طارق بن الطاھر بن الفالح العوني الحرزي"


def refs(matches: list) -> list[tuple[str, str]]:
    return [(m.source, m.reference) for m in matches]


@pytest.mark.parametrize("spelling", [OFAC, UN, NATIVE, "Tariq al-Harzi", "HARZI Tarak", "Tarik Harzy"])
def test_every_spelling_finds_both_listings(screener: Screener, spelling: str) -> None:
    matches = screener.screen(Query(spelling, birth_date="1982-05-03"))
    assert {("un_sc", "QDi.354"), ("us_ofac_sdn", "17293")} <= set(refs(matches[:2]))
    assert all(m.score >= DEFAULT_THRESHOLD for m in matches)


def test_match_carries_source_reference_version_and_explanation(screener: Screener) -> None:
    match = next(m for m in screener.screen(Query(OFAC)) if m.reference == "QDi.354")
    assert match.entity_id == "un-sc-QDi.354"
    assert match.list_version.startswith("2026-02-27-")
    # OFAC's romanisation finds the UN listing best through its original-script name, every word
    # written as one convention would write it
    words = {(w.query, w.listed, w.rule) for w in match.explanation.words}
    assert ("Tariq", "طارق", "transliteration") in words
    assert ("HARZI", "الحرزي", "transliteration") in words
    assert ("'Awni", "العوني", "transliteration") in words
    assert match.explanation.unmatched_query == [] and match.explanation.unmatched_listed == []
    assert set(match.explanation.ignored) >= {"Bin"}
    # a rare family name weighs more than a common given name
    weight = {w.listed: w.weight for w in match.explanation.words}
    assert weight["الحرزي"] > weight["طارق"]


def test_cross_script_original_name_finds_its_entry(screener: Screener) -> None:
    top = screener.screen(Query(NATIVE))[0]
    assert (top.source, top.reference) == ("un_sc", "QDi.354")
    ofac = next(m for m in screener.screen(Query(NATIVE)) if m.reference == "17293")
    assert {w.rule for w in ofac.explanation.words} == {"transliteration"}
    assert ofac.score >= DEFAULT_THRESHOLD  # a perfect cross-script match alerts (it did not: 0.506)


def test_birth_date_separates_the_brothers(screener: Screener) -> None:
    # "Ben Taher Ben Faleh Ouni Harzi" is both brothers' patronymic chain
    query = Query("Taher Faleh Ouni Harzi", birth_date="1982-05-03")
    by_ref = {m.reference: m for m in screener.screen(query, threshold=0.0, limit=50)}
    assert by_ref["QDi.354"].score > by_ref["QDi.353"].score
    dob = {q.kind: q for q in by_ref["QDi.353"].explanation.qualifiers}["birth_date"]
    assert dob.outcome == "mismatch" and "1986-03-09" in dob.detail


def test_birth_date_match_alone_never_raises_an_alert(screener: Screener) -> None:
    # the same birth date with another man's name
    assert screener.screen(Query("Pierre Dupont", birth_date="1982-05-03")) == []


def test_birth_date_mismatch_lowers_the_score(screener: Screener) -> None:
    plain = {m.reference: m.score for m in screener.screen(Query(UN), threshold=0.0)}
    wrong = {m.reference: m.score for m in screener.screen(Query(UN, birth_date="1950"), threshold=0.0)}
    right = {m.reference: m.score for m in screener.screen(Query(UN, birth_date="1982"), threshold=0.0)}
    assert wrong["QDi.354"] < plain["QDi.354"] <= right["QDi.354"]


def test_listed_passport_number_is_decisive(screener: Screener) -> None:
    # Z050399 is the passport on both listings; the name given is only a fragment
    matches = screener.screen(Query("T. Harzi", id_numbers=("Z-050399",)))
    assert {("un_sc", "QDi.354"), ("us_ofac_sdn", "17293")} <= set(refs(matches))
    top = matches[0]
    assert top.score >= 0.95
    assert any(q.kind == "identifier" and q.effect == "decisive" for q in top.explanation.qualifiers)


def test_a_person_never_matches_a_vessel(screener: Screener) -> None:
    # OFAC lists vessels with person-like names; a traveller is never one
    vessels = [e for e in screener.index.entities if e.schema == "Vessel"]
    name = vessels[0].names[0].original
    assert all(m.schema != "Vessel" for m in screener.screen(Query(name), threshold=0.0))
    assert vessels[0].entity_id in {m.entity_id for m in screener.screen(Query(name, schema="Vessel"))}


def test_common_name_alone_is_not_an_alert_but_with_birth_date_it_is(screener: Screener) -> None:
    # OFAC 19930 is "MOHAMMED, Ali" (a.k.a. KONY, Ali), born 1992, 1993, 1994 or 1995:
    # the name alone proves little, the name with one of those years is worth a look
    assert "19930" not in {m.reference for m in screener.screen(Query("Mohammed Ali"))}
    assert "19930" in {m.reference for m in screener.screen(Query("Mohammed Ali", birth_date="1993"))}
    assert "19930" not in {m.reference for m in screener.screen(Query("Mohammed Ali", birth_date="1970"))}


def test_a_false_positive_is_suppressed_for_its_member_and_comes_back_when_withdrawn(
        register: Engine, screener: Screener) -> None:
    query = Query("Tariq al-Harzi", birth_date="1982-05-03")
    member = acting_member(register).id
    assert "QDi.354" in {m.reference for m in screener.screen(query, member_id=member)}
    decision = record_decision(register, member, "test", query.identity(), query.name, query.birth_date, "QDi.354",
                               "un_sc", "false_positive", "test: decided not the listed man")
    try:
        assert "QDi.354" not in {m.reference for m in screener.screen(query, member_id=member)}
        assert "17293" in {m.reference for m in screener.screen(query, member_id=member)}
        assert "QDi.354" in {m.reference for m in screener.screen(query)}  # no member: no member's decisions
    finally:
        withdraw_decision(register, member, decision.id)
    assert "QDi.354" in {m.reference for m in screener.screen(query, member_id=member)}


def test_identity_ignores_order_and_spelling_variants() -> None:
    assert Query("Mohammed Omar").identity() == Query("OMAR, Muhammad").identity()
    assert Query("Mohammed Omar").identity() != Query("Mohammed Omar", birth_date="1960").identity()


@pytest.mark.parametrize(("query", "field"), [
    (Query(""), "name"),
    (Query("x"), "name"),
    (Query("x" * 10_000), "name"),
    (Query("😀😀😀"), "name"),
    (Query("\x00\x01"), "name"),
    (Query("Tariq Harzi", birth_date="1982-13-45"), "birth_date"),
    (Query("Tariq Harzi", birth_date="yesterday"), "birth_date"),
    (Query("Tariq Harzi", countries=("Atlantis",)), "country"),
    (Query("Tariq Harzi", gender="x"), "gender"),
    (Query("Tariq Harzi", schema="Spaceship"), "schema"),
])
def test_bad_queries_are_refused_with_the_field(screener: Screener, query: Query, field: str) -> None:
    with pytest.raises(QueryError, match=field):
        screener.screen(query)


def test_mixed_scripts_and_emoji_still_screen(screener: Screener) -> None:
    matches = screener.screen(Query("طارق HARZI 😀", birth_date="1982-05-03"))
    assert "QDi.354" in {m.reference for m in matches}


def test_cross_script_recall_on_all_un_original_names(register: Engine) -> None:
    """Every UN name in a non-Latin script, screened against an index with Latin names only."""
    versions = [v for v in latest_versions(register).values()]
    latin_only, queries = [], []
    for listed in iter_listed(register, versions):
        native = [n for n in listed.names if n.scripts and n.scripts != {"Latin"}]
        latin = [n.original for n in listed.names if n not in native]
        if listed.source == "un_sc":
            queries += [(n.original, listed.entity_id, listed.schema) for n in native]
        listed.names = analyze_names(latin, listed.schema)
        if listed.names:
            latin_only.append(listed)
    screener = Screener(ScreeningIndex(latin_only))
    assert len(queries) >= 370
    found = sum(1 for text, entity_id, schema in queries
                if entity_id in [m.entity_id for m in screener.screen(Query(text, schema=schema), threshold=0.0,
                                                                         limit=1)])
    assert found / len(queries) >= 0.85, f"{found}/{len(queries)}"


def test_index_is_cached_on_disk_and_reused(register: Engine, index: ScreeningIndex, cache_dir) -> None:  # type: ignore[no-untyped-def]
    from jointwatch.screening import index_from_store

    assert list(cache_dir.glob("screening-*.pickle"))
    again = index_from_store(register)
    assert len(again) == len(index)
    assert [n.original for n in again.names[:50]] == [n.original for n in index.names[:50]]


def test_analysis_of_listed_names_matches_the_query_side(index: ScreeningIndex) -> None:
    listed = next(e for e in index.entities if e.reference == "QDi.354")
    assert analyze_name(UN) in listed.names
