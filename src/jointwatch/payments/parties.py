"""How a payment party is screened when the message does not say what it is.

A pacs.008 or MT103 often gives a bare name: no private or organisation id, no BIC, no
birth date. Such a name is read as an organisation's when it carries a legal form (GmbH,
Ltd, A.Ş., S.A. de C.V. …) or a word only organisations' names hold (Group, Stiftung …);
the legal form is then left out of the name screened, as it proves nothing about which body
it is. Any other bare name is most likely a person's: it is screened as a person against
listed people, and against listed organisations too, where only a match of the whole listed
name that scores high counts (``UNTYPED_ORG_FLOOR``). A match of an organisation's name must
rest on at least one word spelled alike (``organisation_match_holds``): the engine's
organisation rules let one shared consonant skeleton carry a short name ("Austin Inc" and
SATNA), which held 8.6% of the benchmark's innocent company names. Scoring a bare personal name with
the organisation rules (evidence floor for short unique names) against every listed person
held one payment in nine on the benchmark (docs/payments.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml

from jointwatch.names import to_ascii
from jointwatch.screening import Match

# a bare name's match on a listed organisation counts only when every word of the listed name
# matched and it scores this high (set on the benchmark's innocent names and planted listed
# organisations, benchmarks/bench_payments.py)
UNTYPED_ORG_FLOOR = 0.7
# word-alignment rules that read the spelling, not just the consonant skeleton (screening.compare)
SPELLING_RULES = frozenset({"exact", "variant", "fuzzy"})
_DOTTED = re.compile(r"\b((?:\w\.){2,}\w?)")
_SPLIT = re.compile(r"[\s,;:/\\()\[\]&+]+")


@dataclass(frozen=True)
class ReadParty:
    """How a party's name goes to the engine."""

    schema: str          # Person, Organization, or LegalEntity (a bare name: person first)
    name: str            # the name to screen (legal forms left out for an organisation)
    why: str             # how it was read, for the hit's reason


@lru_cache(maxsize=1)
def _data() -> dict[str, frozenset[str]]:
    text = resources.files("jointwatch.resources").joinpath("payments.yml").read_text(encoding="utf-8")
    return {k: frozenset(v) for k, v in yaml.safe_load(text).items()}


def _words() -> tuple[frozenset[str], frozenset[str]]:
    data = _data()
    return data["legal_forms"], data["organisation_words"]


def _plain(word: str) -> str:
    return to_ascii(word).lower().replace(".", "").strip("'’-")


def without_legal_form(name: str) -> tuple[str, list[str]]:
    """The name with its legal-form words left out, and those words (as written)."""
    legal, last_only = _data()["legal_forms"], _data()["legal_forms_last_only"]
    words = [w for w in _SPLIT.split(_DOTTED.sub(lambda m: m.group(1).replace(".", ""), name)) if w]
    is_form = [_plain(w) in legal and (i == len(words) - 1 or _plain(w) not in last_only)
               for i, w in enumerate(words)]
    if not any(is_form):
        return name, []
    # an organisation's name: every legal-form word goes, wherever it stands ("S.A. de C.V.")
    forms = [w for w in words if _plain(w) in legal]
    kept = [w for w in words if _plain(w) not in legal]
    if not forms or not kept:
        return name, []
    return " ".join(kept), forms


@lru_cache(maxsize=100_000)
def read_party(name: str, schema: str) -> ReadParty:
    """How to screen a party the message calls ``schema`` (LegalEntity when it does not say)."""
    if schema == "Person":
        return ReadParty("Person", name, "a person (the message gives a private id or birth date)")
    stripped, forms = without_legal_form(name)
    if schema != "LegalEntity":
        return ReadParty("Organization", stripped, "an organisation (the message gives an organisation id or BIC)")
    if forms:
        return ReadParty("Organization", stripped, f"an organisation (legal form {' '.join(forms)})")
    _, organisation = _words()
    word = next((w for w in _SPLIT.split(name) if _plain(w) in organisation), None)
    if word is not None:
        return ReadParty("Organization", name, f"an organisation ({word!r} in the name)")
    return ReadParty("LegalEntity", name, "untyped: a person, or an organisation only if its whole listed name matches")


def organisation_match_holds(match: Match) -> bool:
    """Whether a match of an organisation's name rests on at least one word spelled alike
    (exact, spelling variant or close spelling), not on consonant skeletons alone."""
    return any(w.rule in SPELLING_RULES for w in match.explanation.words)


def only_legal_forms(words: list[str]) -> bool:
    """Whether these words of a listed name (the ones a query left unmatched) are all legal forms."""
    legal, _ = _words()
    return all(_plain(w) in legal for w in words)
