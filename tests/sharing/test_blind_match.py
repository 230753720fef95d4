"""Blind scoring on real records: OFAC persons as a holder's restricted entries (as the OFAC SDN
list of 2023-06-05 publishes them), asked about as the UN list writes them, words weighed by
the real UN list's index. The blind path is the real one: prepare, the holder's evaluation
with its day key, finish, look up."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from jointwatch.releasability import Labels
from jointwatch.screening import Query
from jointwatch.screening.from_store import index_from_store
from jointwatch.screening.index import ScreeningIndex
from jointwatch.sharing import oprf
from jointwatch.sharing.blind_match import DEFAULT_THRESHOLD
from jointwatch.sharing.discovery import BlindHit, BlindIndex, build_index, day_key, finish, look_up, prepare
from jointwatch.store import StoredEntry
from jointwatch.store.discovery import Offer

EPOCH = "2026-12-04"
ASKER = "member:2"
# OFAC SDN 2023-06-05: uid, name, birth date, document
OFAC = (("30622", "AL-QIZANI, Ashraf", "1991-10-05", "13601334"),
        ("6948", "HIJAZI, Riad", "1968", "548915411"),
        ("7746", "MRDJA, Darko", "1967-06-28", ""),
        ("23508", "KIM, Song", "1964-01-11", ""))


@pytest.fixture(scope="module")
def official(store_of: Callable[[str], Engine]) -> ScreeningIndex:
    return index_from_store(store_of("sqlite"))


@pytest.fixture(scope="module")
def holder() -> tuple[Offer, BlindIndex]:
    now = datetime.now(UTC)
    offer = Offer(1, b"s" * 32, 6400, 30, "server", "red", "open", now, now)
    labels = Labels("originator", (), "red", (), "restricted")
    entries = []
    for i, (uid, name, born, number) in enumerate(OFAC, start=1):
        properties = {"name": [name], "birthDate": [born], "idNumber": [number] if number else []}
        entries.append(StoredEntry(i, f"sh-ofac{uid}", 1, "holder", None, "Person", name, labels, "active", 1,
                                   now, now, i, {"id": uid, "schema": "Person", "properties": properties}))
    return offer, build_index(offer, "holder", ASKER, EPOCH, entries)


def ask(official: ScreeningIndex, holder: tuple[Offer, BlindIndex], query: Query,
        threshold: float = DEFAULT_THRESHOLD) -> list[BlindHit]:
    offer, index = holder
    blinded = prepare(query, official)
    key = day_key(offer, ASKER, EPOCH)
    return look_up(finish(blinded, [oprf.blind_evaluate(key, e) for e in blinded.elements]), index, threshold)


def strength(hits: list[BlindHit]) -> float:
    return max((h.strength for h in hits), default=0.0)


def test_an_ofac_person_is_found_blind_by_its_un_original_script_name(
        official: ScreeningIndex, holder: tuple[Offer, BlindIndex]) -> None:
    hits = ask(official, holder, Query("أشرف القيزاني", birth_date="1991"))
    assert len(hits) == 1
    assert hits[0].agreed == ("name", "birth_year")
    hits = ask(official, holder, Query("رائد محمد حسن محمد حجازي", birth_date="1968"))   # UN QDi.380's own spelling
    assert len(hits) == 1 and "name" in hits[0].agreed


def test_an_ofac_person_is_found_blind_by_its_un_latin_spelling(
        official: ScreeningIndex, holder: tuple[Offer, BlindIndex]) -> None:
    # the UN's longer name: its patronymic chain costs little, as in plaintext screening
    hits = ask(official, holder, Query("Ri’ad Muhammad Hasan Muhammad Hijazi", birth_date="1968"))
    assert len(hits) == 1 and hits[0].agreed == ("name", "birth_year")
    assert hits[0].words == ("Ri’ad", "Hijazi")


@pytest.mark.parametrize("name", ["Elemér Magyar", "宋峰", "Kalina Łacina", "Mohammed Ali"])
def test_an_innocent_name_that_shares_only_skeletons_or_one_word_is_no_hit(
        official: ScreeningIndex, holder: tuple[Offer, BlindIndex], name: str) -> None:
    # Magyar and Darko's MRDJA share a deletion of their skeletons ("mr"), two edits apart;
    # song and feng are both one edit from "sng": one listed word, not two (born 1967 / 1964 like them)
    for year in ("1964", "1967", None):
        assert ask(official, holder, Query(name, birth_date=year)) == []


def test_scores_order_as_plaintext_screening_would(official: ScreeningIndex, holder: tuple[Offer, BlindIndex]) -> None:
    def score(name: str, year: str | None = None) -> float:
        return strength(ask(official, holder, Query(name, birth_date=year), threshold=0.0))

    exact = score("Ashraf al-Qizani", "1991")
    assert exact > score("Ashraf al-Gizani", "1991") > score("Ashraf Ahmed", "1991") > 0
    assert exact > score("Ashraf al-Qizani") > score("Ashraf al-Qizani", "1950")
    # a document that agrees decides it, whatever the name
    hits = ask(official, holder, Query("Someone Else", id_numbers=("13601334",)))
    assert len(hits) == 1 and "document" in hits[0].agreed
