"""What goes into screening and what comes out: queries, listed records, matches, explanations."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any

from jointwatch.names import AnalyzedName
from jointwatch.pickling import FastPickle

# Schemata a query of each type may match: a person is never an aircraft.
COMPATIBLE: dict[str, frozenset[str]] = {
    "Person": frozenset({"Person", "LegalEntity"}),
    "Organization": frozenset({"Organization", "Company", "LegalEntity", "PublicBody"}),
    "Company": frozenset({"Organization", "Company", "LegalEntity", "PublicBody"}),
    "LegalEntity": frozenset({"Person", "Organization", "Company", "LegalEntity", "PublicBody"}),
    "Vessel": frozenset({"Vessel"}),
    "Airplane": frozenset({"Airplane"}),
}
QUERY_SCHEMATA = ("Person", "Organization", "Company", "LegalEntity", "Vessel", "Airplane", "Thing")


def compatible(query_schema: str, listed_schema: str) -> bool:
    """Whether a query of this type may match a listed entity of that type (a Thing, anything)."""
    allowed = COMPATIBLE.get(query_schema)
    return allowed is None or listed_schema in allowed


@dataclass(frozen=True)
class Query:
    """A subject to screen: a traveller, a customer, a payment party."""

    name: str
    schema: str = "Person"
    birth_date: str | None = None          # YYYY, YYYY-MM or YYYY-MM-DD (already checked)
    countries: tuple[str, ...] = ()        # ISO 3166-1 alpha-2, lower case
    gender: str | None = None              # "male" / "female"
    id_numbers: tuple[str, ...] = ()       # passport, national ID … as written
    id: str | None = None                  # the caller's own reference (batch row id)

    def identity(self) -> str:
        """A digest of who was asked about: the key decided false positives are filed under."""
        from jointwatch.names import analyze_name  # noqa: PLC0415 - keeps this module light

        words = sorted(t.canonical for t in analyze_name(self.name, self.schema).tokens)
        raw = "|".join([" ".join(words), self.birth_date or "", self.schema])
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Weights(FastPickle):
    """Per word of a name: what it proves matched as written, and matched by skeleton only."""

    text: tuple[float, ...]
    key: tuple[float, ...]


@dataclass(slots=True)
class Listed(FastPickle):
    """One listed entity as the screening index holds it."""

    entity_id: str
    schema: str
    source: str
    reference: str
    list_version: str
    caption: str
    names: list[AnalyzedName] = field(default_factory=list)
    birth_dates: tuple[str, ...] = ()
    countries: frozenset[str] = frozenset()
    gender: str | None = None
    identifiers: frozenset[str] = frozenset()


@dataclass(frozen=True)
class WordMatch:
    """In an explanation: one query word matched to one listed word."""

    query: str
    listed: str
    rule: str            # exact, variant, transliteration, skeleton, short-/near-skeleton, fuzzy, initial, joined
    similarity: float
    weight: float        # how rare the word is on the lists (1 = never seen, ~0.2 = Mohammed)


@dataclass(frozen=True)
class Qualifier:
    """In an explanation: a fact besides the name that moved the score."""

    kind: str            # birth_date, country, gender, identifier, schema
    outcome: str         # match, partial, mismatch
    effect: str          # how the score changed, e.g. "x0.75" or "+0.04" or "decisive"
    detail: str


@dataclass(frozen=True)
class Explanation:
    words: list[WordMatch]
    unmatched_query: list[str]
    unmatched_listed: list[str]
    ignored: list[str]
    name_score: float
    qualifiers: list[Qualifier]


@dataclass(frozen=True)
class SharedLabel:
    """On a partner hit: whose entry it is and the rules it is shared under (jointwatch.releasability)."""

    originator: str          # the member that shared it ("border-police", or "border-police@agency-b")
    tlp: str
    handling: tuple[str, ...]
    version: int             # the entry's version that matched


@dataclass(frozen=True)
class Match:
    """A listed entity that may be the subject, with the evidence."""

    entity_id: str
    source: str
    reference: str           # the list's own id of the listing (QDi.354, 17293)
    schema: str
    caption: str
    name: str                # the listed name that matched best
    score: float
    list_version: str
    explanation: Explanation
    shared: SharedLabel | None = None   # a partner entry's hit (source "shared"); None for an official list

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
