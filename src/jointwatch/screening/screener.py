"""Screening one subject: retrieve candidates, score every listed name, explain, filter.

The one scorer that the CLI, the API, travel, payments and network all call.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from jointwatch.errors import QueryError
from jointwatch.names import AnalyzedName, analyze_name
from jointwatch.screening.compare import (
    NameFeatures,
    PairMemo,
    SimilarityCache,
    TokenMatch,
    align,
    match_weight,
    name_features,
)
from jointwatch.screening.config import DEFAULT_SCORING, ScoringConfig
from jointwatch.screening.index import Retrieved, ScreeningIndex
from jointwatch.screening.model import (
    QUERY_SCHEMATA,
    Explanation,
    Listed,
    Match,
    Qualifier,
    Query,
    Weights,
    WordMatch,
    compatible,
)
from jointwatch.screening.qualifiers import apply_qualifiers, evidence_ceiling, parse_birth_date
from jointwatch.screening.score import name_score, one_word_rule_applies, score_ceilings

MAX_QUERY_CHARS = 500
CANDIDATES = 200
FACTS_ROUNDING = 1e-4

# Decided false positives: (query identity, entity ids, member or None) → the suppressed ids.
FalsePositives = Callable[[str, list[str], int | None], set[str]]


def _ordinal(number: int) -> str:
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def prepare(query: Query) -> Query:
    """The query checked and normalised; QueryError names the field that is wrong and why.

    Never the value: the message is the detail of an API problem, read by whoever sees the
    logs or the client's errors, and the name is the person's (the CLI says which line or
    argument it came from)."""
    name = query.name if isinstance(query.name, str) else ""
    if not name.strip():
        raise QueryError("name is empty")
    if len(name) > MAX_QUERY_CHARS:
        raise QueryError(f"name is {len(name)} characters long (at most {MAX_QUERY_CHARS})")
    if query.schema not in QUERY_SCHEMATA:
        raise QueryError(f"schema is not one of {', '.join(QUERY_SCHEMATA)}")
    analyzed = analyze_name(name, query.schema)
    letters = sum(len(t.text) for t in analyzed.tokens)
    if letters < 2:
        raise QueryError("name has fewer than two letters that can be read")
    birth = parse_birth_date(query.birth_date) if query.birth_date else None
    gender = (query.gender or "").strip().lower() or None
    if gender in ("m", "male"):
        gender = "male"
    elif gender in ("f", "female"):
        gender = "female"
    elif gender is not None:
        raise QueryError("gender is not male/female/m/f")
    from jointwatch.sources import country_code  # noqa: PLC0415 - only when countries are given

    countries = []
    for number, raw in enumerate(query.countries, 1):
        code = country_code(raw)
        if code is None:
            raise QueryError(f"countries: the {_ordinal(number)} is not a country name or ISO code")
        countries.append(code)
    return replace(query, birth_date=birth, gender=gender, countries=tuple(countries),
                   id_numbers=tuple(n for n in query.id_numbers if n and n.strip()))


@dataclass
class NameComparison:
    score: float
    matches: list[TokenMatch]
    features: NameFeatures

    def explanation(self, query: AnalyzedName, listed: AnalyzedName, query_weights: Weights,
                    listed_weights: Weights, qualifiers: list[Qualifier] | None = None) -> Explanation:
        """Which word matched which, how and with what weight; what was left over or ignored."""
        q_used = {m.query_position for m in self.matches}
        c_used = {m.listed_position for m in self.matches}
        return Explanation(
            words=[WordMatch(m.query.original, m.listed.original, m.rule, round(m.similarity, 3),
                             round(match_weight(m, query_weights, listed_weights), 3)) for m in self.matches],
            unmatched_query=[t.original for i, t in enumerate(query.tokens) if i not in q_used],
            unmatched_listed=[t.original for j, t in enumerate(listed.tokens) if j not in c_used],
            ignored=list(query.ignored) + list(listed.ignored),
            name_score=self.score,
            qualifiers=qualifiers or [],
        )


def compare_names(query: AnalyzedName, listed: AnalyzedName, query_weights: Weights,
                  listed_weights: Weights, cache: SimilarityCache | None = None,
                  person: bool = True, config: ScoringConfig = DEFAULT_SCORING) -> NameComparison:
    """The name score of two analysed names and the word alignment behind it."""
    matches = align(query, listed, cache)
    features = name_features(query, listed, matches, query_weights, listed_weights, person)
    return NameComparison(name_score(features, config, person=person), matches, features)


@dataclass
class _NameWork:
    """What screening a name costs before its facts are weighed: the name analysed, its
    candidates retrieved and the listed names compared with it so far."""

    analyzed: AnalyzedName
    weights: Weights
    found: Retrieved
    one_word: bool
    listed_bound: np.ndarray
    compared: dict[int, NameComparison] = field(default_factory=dict)


class NameMemory:
    """The work of the names a caller screened last, for when the same name comes back with
    other facts: a payment flow's party seen as debtor in one batch and as creditor (another
    country) in a later one, a customer base's namesakes across chunks. Only the birth date,
    countries and the member's decisions are then weighed again; every answer is the one a
    fresh screen gives (tests/screening/test_screen_each.py).

    One per caller and process, not shared between threads; it holds the ``size`` names used
    last (about 15 kB each)."""

    def __init__(self, size: int = 20_000) -> None:
        self.size = size
        self.reused = 0
        self._held: OrderedDict[tuple[str, str], _NameWork] = OrderedDict()
        self._index: object | None = None

    def serving(self, index: object) -> NameMemory:
        """This memory for ``index``: work done against another index (lists reloaded) is dropped."""
        if index is not self._index:
            self._held.clear()
            self._index = index
        return self

    def get(self, key: tuple[str, str]) -> _NameWork | None:
        work = self._held.get(key)
        if work is not None:
            self._held.move_to_end(key)
            self.reused += 1
        return work

    def put(self, key: tuple[str, str], work: _NameWork) -> None:
        self._held[key] = work
        if len(self._held) > self.size:
            self._held.popitem(last=False)

    def __len__(self) -> int:
        return len(self._held)


class Screener:
    """Screens subjects against one index. Safe to share between threads (reads only).

    ``config``: the weights, penalties and default threshold of the score (``ScoringConfig``);
    ``threshold``, when given, overrides the config's."""

    def __init__(self, index: ScreeningIndex, threshold: float | None = None,
                 false_positives: FalsePositives | None = None, warnings: tuple[str, ...] = (),
                 config: ScoringConfig = DEFAULT_SCORING) -> None:
        self.index = index
        self.config = config if threshold is None else replace(config, threshold=threshold)
        self.false_positives = false_positives
        # what the caller must be told with every answer (lists older than allowed, under "warn")
        self.warnings = warnings
        # word-pair similarities across queries; listed words are keyed by id, so one memo per index
        self.memo: PairMemo | None = PairMemo()
        self._years: tuple[np.ndarray, np.ndarray] | None = None   # listed birth years, when first asked

    def compare(self, a: str, b: str, schema: str = "Person") -> tuple[float, Explanation]:
        """Two names compared with this index's word weights (``jointwatch compare``)."""
        query, listed = analyze_name(a, schema), analyze_name(b, schema)
        q_weights = self.index.weights_of(query)
        result = compare_names(query, listed, q_weights, self.index.weights_of(listed), person=schema == "Person",
                               config=self.config)
        return result.score, result.explanation(query, listed, q_weights, self.index.weights_of(listed))

    @property
    def threshold(self) -> float:
        return self.config.threshold

    def subset(self, entities: list[Listed]) -> Screener:
        """A screener over some of this one's entities that scores exactly as this one does
        (same word weights, same config), without members' decisions: it finds a superset."""
        return Screener(self.index.subset(entities), config=self.config)

    def screen(self, query: Query, threshold: float | None = None, limit: int = 10,
               member_id: int | None = None, config: ScoringConfig | None = None,
               visible: np.ndarray | None = None) -> list[Match]:
        """Listed entities that may be the subject, best first, at or above the threshold.

        ``member_id``: whose false-positive decisions suppress matches (the service's caller, the CLI's --member).
        ``config``: other weights for this call (its threshold too, unless ``threshold`` is given).
        ``visible``: one flag per entity of the index; the others are dropped before anything is
        scored, so an entity the caller may not see costs it no time (partner entries)."""
        return self.screen_each([query], threshold, limit, member_id, config, visible)[0]

    def screen_each(self, queries: Sequence[Query], threshold: float | None = None, limit: int = 10,
                    member_id: int | None = None, config: ScoringConfig | None = None,
                    visible: np.ndarray | None = None, memory: NameMemory | None = None) -> list[list[Match]]:
        """``screen`` of each query, for subjects of one name: the same name and schema with other
        birth dates, countries, genders or documents (a payment's party in several roles, a
        customer base's namesakes). The name is analysed, retrieved and compared with each
        listed name once; each query's answer is the one ``screen`` gives it
        (tests/screening/test_screen_each.py). QueryError for the first query that is wrong.

        ``memory``: the caller's ``NameMemory``; the name's work is taken from it and left in it
        (not with ``visible`` or another ``config``: the work would differ)."""
        prepared = [prepare(q) for q in queries]
        if not prepared:
            return []
        first = prepared[0]
        if any(q.name != first.name or q.schema != first.schema for q in prepared):
            raise ValueError("screen_each takes queries of one name and schema")
        config = self.config if config is None else config
        threshold = config.threshold if threshold is None else threshold
        person = first.schema == "Person"
        if visible is not None or config is not self.config:
            memory = None
        elif memory is not None:
            memory = memory.serving(self.index)
        key = (first.name, first.schema)
        work = memory.get(key) if memory is not None else None
        if work is None:
            analyzed = analyze_name(first.name, first.schema)
            found = self.index.retrieve_arrays(analyzed, CANDIDATES, person, visible)
            work = _NameWork(analyzed, self.index.weights_of(analyzed), found, one_word_rule_applies(analyzed.tokens),
                             self.index.listed_cover_bound(found.names, found.words))
            if memory is not None:
                memory.put(key, work)
        analyzed, q_weights, found, one_word, listed_bound = (work.analyzed, work.weights, work.found, work.one_word,
                                                              work.listed_bound)
        compared = work.compared
        cache = SimilarityCache(analyzed, self.memo)

        def comparison(n_idx: int) -> NameComparison:
            held = compared.get(n_idx)
            if held is None:
                held = compared[n_idx] = compare_names(analyzed, self.index.names[n_idx], q_weights,
                                                       self.index.name_weights[n_idx], cache, person, config)
            return held

        out = []
        for query in prepared:
            # with the most the birth date and country may add, names that still cannot reach the threshold are skipped
            ceilings = score_ceilings(found.cover, found.weight_bound + evidence_ceiling(query, config), found.words,
                                      one_word, person, config, listed_bound)
            best: dict[int, tuple[int, NameComparison]] = {}
            passing = np.flatnonzero(ceilings >= threshold)
            if len(passing) and query.birth_date and not query.id_numbers:
                passing = self._facts_can_reach(query, found, passing, ceilings, threshold, config)
            for i in passing.tolist():
                n_idx, e_idx, ceiling = int(found.names[i]), int(found.entities[i]), float(ceilings[i])
                held = best.get(e_idx)
                if held is not None and held[1].score >= ceiling:
                    continue  # another name of this entity already scores at least what this one could
                if not compatible(query.schema, self.index.entities[e_idx].schema):
                    continue
                result = comparison(n_idx)
                if held is None or result.score > held[1].score:
                    best[e_idx] = (n_idx, result)
            # a listed document number is decisive: its holder is scored whatever the name retrieval found
            for number in query.id_numbers:
                for e_idx in self.index.by_identifier(number):
                    if visible is not None and not visible[e_idx]:
                        continue
                    for n_idx in self.index.names_of(e_idx):
                        result = comparison(n_idx)
                        if e_idx not in best or result.score > best[e_idx][1].score:
                            best[e_idx] = (n_idx, result)
            out.append(self._qualified(query, analyzed, q_weights, best, threshold, limit, member_id, config))
        return out

    def _facts_can_reach(self, query: Query, found: Retrieved, passing: np.ndarray, ceilings: np.ndarray,
                         threshold: float, config: ScoringConfig) -> np.ndarray:
        """``passing`` without the names of entities the query's birth date keeps under the
        threshold: one years off the entity's own scales every score down (``facts_ceiling``'s
        factor, bounded here from the entity's earliest and latest listed year), and the ceilings
        above allowed every name the most evidence at full scale. An entity goes only when none
        of its names can reach the threshold so scaled, so which of its names is the best one is
        never decided differently: every answer is the one scoring those names gives
        (tests/screening/test_screen_each.py)."""
        assert query.birth_date is not None
        entities = found.entities[passing]
        factor = self.birth_year_factors(entities, np.float64(int(query.birth_date[:4])), config)
        # scores are rounded to four places: a ceiling a hair under the threshold may round up to it
        reaching = np.unique(entities[ceilings[passing] * factor + FACTS_ROUNDING >= threshold])
        return passing[np.isin(entities, reaching)]

    def birth_year_factors(self, entities: np.ndarray, years: np.ndarray | np.float64,
                           config: ScoringConfig) -> np.ndarray:
        """Per entity (index positions), the largest factor ``facts_ceiling`` can scale a score by
        for a subject born in ``years`` (one, or one per entity; NaN: no year, nothing scaled),
        bounded from the entity's earliest and latest listed year."""
        first, last = self._listed_years()
        top = max(1.0, config.birth_date_same_year, config.birth_date_near, config.birth_date_mismatch)
        # the least gap to a listed year the range allows (-1: no listed year, nothing is scaled)
        with np.errstate(invalid="ignore"):
            gap = np.where(np.isnan(first[entities]) | np.isnan(years), -1.0,
                           np.maximum(np.maximum(first[entities] - years, years - last[entities]), 0.0))
        # the largest factor each gap allows: a listed date or one as far as both go is in the same year
        return np.where(gap < 1, top, np.where(gap < 2, max(config.birth_date_near, config.birth_date_mismatch),
                                               config.birth_date_mismatch))

    def _listed_years(self) -> tuple[np.ndarray, np.ndarray]:
        """Per entity of the index, its earliest and latest listed birth year (NaN for none)."""
        if self._years is None:
            first = np.full(len(self.index.entities), np.nan)
            last = np.full(len(self.index.entities), np.nan)
            for e_idx, entity in enumerate(self.index.entities):
                # a date without a year of four digits may agree with any query as far as it goes: not scaled
                if entity.birth_dates and all(len(d) >= 4 and d[:4].isdigit() for d in entity.birth_dates):
                    years = [int(d[:4]) for d in entity.birth_dates]
                    first[e_idx], last[e_idx] = min(years), max(years)
            self._years = (first, last)
        return self._years

    def _qualified(self, query: Query, analyzed: AnalyzedName, q_weights: Weights,
                   best: dict[int, tuple[int, NameComparison]], threshold: float, limit: int,
                   member_id: int | None, config: ScoringConfig) -> list[Match]:
        """The best name of each entity with the query's other facts applied, at or above the
        threshold, best first, without the member's decided false positives."""
        matches: list[Match] = []
        qualified = bool(query.birth_date or query.countries or query.gender or query.id_numbers)
        for e_idx, (n_idx, comparison) in best.items():
            if not qualified and comparison.score < threshold:
                continue  # nothing but the name can count, and the name falls short
            entity = self.index.entities[e_idx]
            score, reasons = apply_qualifiers(query, entity, comparison.features, config)
            if score < threshold:
                continue
            explanation = comparison.explanation(analyzed, self.index.names[n_idx], q_weights,
                                                 self.index.name_weights[n_idx], reasons)
            matches.append(Match(entity.entity_id, entity.source, entity.reference, entity.schema,
                                 entity.caption, self.index.names[n_idx].original, round(score, 4),
                                 entity.list_version, explanation))
        matches.sort(key=lambda m: (-m.score, m.source, m.reference))
        if matches and self.false_positives is not None:
            suppressed = self.false_positives(query.identity(), [m.entity_id for m in matches], member_id)
            matches = [m for m in matches if m.entity_id not in suppressed]
        return matches[:limit]
