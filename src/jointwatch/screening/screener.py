"""Screening one subject: retrieve candidates, score every listed name, explain, filter.

The one scorer that the CLI, the API, travel, payments and network all call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from jointwatch.errors import QueryError
from jointwatch.names import AnalyzedName, Token, analyze_name
from jointwatch.screening.compare import align, name_features
from jointwatch.screening.index import ScreeningIndex
from jointwatch.screening.model import COMPATIBLE, QUERY_SCHEMATA, Explanation, Listed, Match, Query, WordMatch
from jointwatch.screening.qualifiers import apply_qualifiers, parse_birth_date
from jointwatch.screening.score import DEFAULT_THRESHOLD, name_score

MAX_QUERY_CHARS = 500
CANDIDATES = 200

# A decided false positive: (query identity, entity id) → suppressed.
Suppressor = Callable[[str, list[str]], set[str]]


def prepare(query: Query) -> Query:
    """The query checked and normalised; QueryError names the field that is wrong."""
    name = query.name if isinstance(query.name, str) else ""
    if not name.strip():
        raise QueryError("name is empty")
    if len(name) > MAX_QUERY_CHARS:
        raise QueryError(f"name is {len(name)} characters long (at most {MAX_QUERY_CHARS})")
    if query.schema not in QUERY_SCHEMATA:
        raise QueryError(f"schema {query.schema!r} is not one of {', '.join(QUERY_SCHEMATA)}")
    analyzed = analyze_name(name, query.schema)
    letters = sum(len(t.text) for t in analyzed.tokens)
    if letters < 2:
        raise QueryError(f"name {name!r} has fewer than two letters that can be read")
    birth = parse_birth_date(query.birth_date) if query.birth_date else None
    gender = (query.gender or "").strip().lower() or None
    if gender in ("m", "male"):
        gender = "male"
    elif gender in ("f", "female"):
        gender = "female"
    elif gender is not None:
        raise QueryError(f"gender {query.gender!r} is not male/female/m/f")
    from jointwatch.sources.countries import country_code  # noqa: PLC0415 - only when countries are given

    countries = []
    for raw in query.countries:
        code = country_code(raw)
        if code is None:
            raise QueryError(f"country {raw!r} is not a country name or ISO code")
        countries.append(code)
    return replace(query, birth_date=birth, gender=gender, countries=tuple(countries),
                   id_numbers=tuple(n for n in query.id_numbers if n and n.strip()))


@dataclass
class NameComparison:
    score: float
    explanation: Explanation


class Screener:
    """Screens subjects against one index. Thread-safe for reading."""

    def __init__(self, index: ScreeningIndex, threshold: float = DEFAULT_THRESHOLD,
                 suppressor: Suppressor | None = None) -> None:
        self.index = index
        self.threshold = threshold
        self.suppressor = suppressor

    def weight(self, token: Token) -> float:
        return self.index.weight(token)

    def compare(self, query: AnalyzedName, listed: AnalyzedName) -> NameComparison:
        """The name score of two analysed names, with the word-by-word explanation."""
        matches = align(query, listed)
        features = name_features(query, listed, matches, self.weight)
        score = name_score(features)
        q_used = {id(m.query) for m in matches}
        c_used = {id(m.listed) for m in matches}
        explanation = Explanation(
            words=[WordMatch(m.query.original, m.listed.original, m.rule, round(m.similarity, 3),
                             round(self.weight(m.query), 3)) for m in matches],
            unmatched_query=[t.original for t in query.tokens if id(t) not in q_used],
            unmatched_listed=[t.original for t in listed.tokens if id(t) not in c_used],
            ignored=list(query.ignored) + list(listed.ignored),
            name_score=score,
            qualifiers=[],
        )
        return NameComparison(score, explanation)

    def _best_name(self, query: AnalyzedName, entity: Listed, first: int | None) -> tuple[AnalyzedName, NameComparison]:
        best: tuple[AnalyzedName, NameComparison] | None = None
        for name in entity.names:
            result = self.compare(query, name)
            if best is None or result.score > best[1].score:
                best = (name, result)
        assert best is not None  # an indexed entity always has a name
        return best

    def screen(self, query: Query, threshold: float | None = None, limit: int = 10) -> list[Match]:
        """Listed entities that may be the subject, best first, at or above the threshold."""
        query = prepare(query)
        threshold = self.threshold if threshold is None else threshold
        analyzed = analyze_name(query.name, query.schema)
        allowed = COMPATIBLE.get(query.schema)
        entity_ids: dict[int, int | None] = {}
        for candidate in self.index.retrieve(analyzed, CANDIDATES):
            entity_ids.setdefault(candidate.entity_index, candidate.name_index)
        for number in query.id_numbers:
            for e_idx in self.index.by_identifier(number):
                entity_ids.setdefault(e_idx, None)
        matches: list[Match] = []
        for e_idx, first in entity_ids.items():
            entity = self.index.entities[e_idx]
            if allowed is not None and entity.schema not in allowed:
                continue
            name, comparison = self._best_name(analyzed, entity, first)
            score, reasons = apply_qualifiers(query, entity, comparison.score)
            if score < threshold:
                continue
            explanation = replace(comparison.explanation, qualifiers=reasons)
            matches.append(Match(entity.entity_id, entity.source, entity.reference, entity.schema,
                                 entity.caption, name.original, round(score, 4), entity.list_version,
                                 explanation))
        matches.sort(key=lambda m: (-m.score, m.source, m.ref))
        if matches and self.suppressor is not None:
            suppressed = self.suppressor(query.identity(), [m.entity_id for m in matches])
            matches = [m for m in matches if m.entity_id not in suppressed]
        return matches[:limit]
