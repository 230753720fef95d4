"""How bare party names are read, and what that does to holds on the real register (UN list +
OFAC SDN 2023-06-05): innocent names that the organisation rules used to hold pass, listed
people under variant spellings and listed organisations by their whole names are still held."""

from __future__ import annotations

import pytest

from jointwatch.names import analyze_name
from jointwatch.payments.delta import name_tokens, token_of
from jointwatch.payments.parties import read_party, without_legal_form
from jointwatch.payments.screening import PaymentScreener
from jointwatch.screening import Screener


@pytest.mark.parametrize(("name", "schema", "screened"), [
    ("Alpine Freight AG", "Organization", "Alpine Freight"),
    ("Akça Ltd.", "Organization", "Akça"),
    ("Casa Grande S.A. de C.V.", "Organization", "Casa Grande de"),
    ("Hänel AG & Co. OHG", "Organization", "Hänel"),
    ("OOO Romashka", "Organization", "Romashka"),
    ("Bennett and Sons", "Organization", "Bennett and Sons"),       # no legal form, but an organisation's word
    ("Hans und Maria Müller", "LegalEntity", "Hans und Maria Müller"),  # a joint account, not a company
    ("Kim Sa Rang", "LegalEntity", "Kim Sa Rang"),                  # "Sa" inside a name is not S.A.
    ("Park Se Ri", "LegalEntity", "Park Se Ri"),
    ("Ab Rahman", "LegalEntity", "Ab Rahman"),
])
def test_bare_names_are_read_as_people_or_organisations(name: str, schema: str, screened: str) -> None:
    read = read_party(name, "LegalEntity")
    assert (read.schema, read.name) == (schema, screened)


def test_the_message_type_wins_and_legal_forms_are_not_screened() -> None:
    assert read_party("Acme Widgets Ltd", "Person").schema == "Person"
    org = read_party("Acme Widgets Ltd", "Organization")
    assert (org.schema, org.name) == ("Organization", "Acme Widgets")
    assert without_legal_form("Ltd") == ("Ltd", [])   # nothing but a legal form: the name stays


@pytest.mark.parametrize("name", ["Adrian Smith", "Alexis Garrett", "Aaron Cooper", "Anthony Evans", "Brian Farmer",
                                  "Austin Inc", "Armani SPA", "Akça Ltd.", "Alves Ltda.", "Guidotti Group"])
def test_innocent_bare_names_the_organisation_rules_held_now_pass(screener: Screener, name: str) -> None:
    # each of these held a benchmark payment: "Adrian Smith" scored 0.60 on أنصار الشريعة – درنة by two
    # consonant skeletons, "Austin Inc" 0.62 on SATNA by one
    assert PaymentScreener(screener).screen_name(name, "LegalEntity") == []


@pytest.mark.parametrize(("name", "ref"), [
    ("Tarak Ben Taher Harzy", "QDi.354"),           # a listed person, misspelt, no id in the message
    ("Al-Qaida", "QDe.004"),                        # listed organisations by their whole names
    ("HAMAS", "4695"),
    ("Bank Melli Iran", "25578"),
    ("Mahan Air", "12927"),
    ("Rosneft Trading SA", "18299"),
    ("Sberbank of Russia", "17018"),               # listed as PUBLIC JOINT STOCK COMPANY SBERBANK OF RUSSIA
])
def test_listed_parties_without_an_id_are_still_held(screener: Screener, name: str, ref: str) -> None:
    assert ref in {m.reference for m in PaymentScreener(screener).screen_name(name, "LegalEntity")}


def test_stored_words_read_back_as_the_engine_analyses_them() -> None:
    for name, schema in (("AL-HARZI, Tariq Bin-Al-Tahar", "Person"), ("طارق الحرزي", "Person"),
                         ("Van Dijk Logistics BV", "Organization"), ("Muhammad Ali", "Person")):
        analysed = analyze_name(name, schema)
        back = [token_of(s) for s in name_tokens(analysed)]
        assert [(t.text, t.canonical, t.keys, t.native, t.known) for t in back] == [
            (t.text, t.canonical, t.keys, t.native, t.known) for t in analysed.tokens]
