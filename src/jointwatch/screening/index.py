"""The candidate index: every listed name, findable by its words' skeleton keys.

Built in memory from the store (or from any records, for tests and benchmarks) and cached
on disk under a key made of the list versions it holds. Retrieval has to be recall-safe:
a listed name is a candidate when any query word shares a skeleton key with one of its
words, or a key one edit away (typos that change a consonant: Harzi / Hazri / Harzy).
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import math
import os
import pickle
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from rapidfuzz.distance import Levenshtein

from jointwatch import settings
from jointwatch.identifiers import normalize_identifier
from jointwatch.names import (
    AnalyzedName,
    Token,
    analyze_name,
    is_addition,
    is_trade_word,
    joined_keys,
    name_variants,
)
from jointwatch.screening.compare import ADDED_WORD, LISTED_ADDED_WORD
from jointwatch.screening.model import Listed, Weights

# Bump when the index layout changes or a migration rewrites what it holds (3: entity ids
# unique per source, migration 0011; the list versions it is keyed by keep their labels);
# changes to the name rules and code are caught by code_fingerprint(), so a cache never
# outlives the analysis that built it.
INDEX_FORMAT = "3"
MIN_FUZZY_KEY = 3
MIN_WEIGHT = 0.05
TEXT = "="                 # postings of whole words (canonical spelling) are keyed "=word"
NEAR_RANK = 0.7          # a key one edit away ranks a name at this share of an exact key
# the highest a shared key can lead to: a romanisation of a word in Arabic script
KEY_SIMILARITY = 0.98
BOUND_SLACK = 0.05
MIN_JOINED_KEY = 4
SHORT_WORD_WEIGHT = 0.35
TRADE_WORD_WEIGHT = 0.15
LISTED_BOUND_WORDS = 8    # listed words a few query words can cover that the bound keeps track of


def _joined_keys(name: AnalyzedName) -> set[str]:
    """Keys of adjacent word pairs read as one word, so "Walijan" finds "Wali Jan" and back."""
    tokens = name.tokens
    return {k for a, b in zip(tokens, tokens[1:], strict=False)
            for k in joined_keys(a.keys, b.keys) if len(k) >= MIN_JOINED_KEY}


def _deletes(key: str) -> set[str]:
    return {key[:i] + key[i + 1:] for i in range(len(key))}


@dataclass(frozen=True)
class Retrieved:
    """Retrieved names, best first, as parallel arrays (see Candidate for each field)."""

    names: np.ndarray
    entities: np.ndarray
    scores: np.ndarray
    cover: np.ndarray
    weight_bound: np.ndarray
    words: np.ndarray

    @classmethod
    def empty(cls) -> Retrieved:
        none = np.empty(0, dtype=np.int64)
        return cls(none, none, none.astype(np.float32), none.astype(np.float32), none.astype(np.float32), none)


@dataclass
class Candidate:
    """A listed name retrieved for a query, with the retrieval's own rough score."""

    name_index: int
    entity_index: int
    retrieval_score: float
    coverage_bound: float     # the most of the query's weight this name can match
    weight_bound: float       # the most matched weight (evidence) it can have
    words_hit: int            # query words that reached it through a key

class ScreeningIndex:
    """Listed entities, their analysed names and the key → names postings."""

    def __init__(self, entities: list[Listed], label: str = "") -> None:
        self.entities = entities
        self.label = label
        self.names: list[AnalyzedName] = []
        owners: list[int] = []
        postings: dict[str, list[int]] = defaultdict(list)
        for e_idx, entity in enumerate(entities):
            for name in entity.names:
                n_idx = len(self.names)
                self.names.append(name)
                owners.append(e_idx)
                words = {TEXT + t.canonical for t in name.tokens if not t.native}
                for key in {k for t in name.tokens for k in t.keys} | _joined_keys(name) | words:
                    postings[key].append(n_idx)
        self.name_owner = np.asarray(owners, dtype=np.int32)
        self._first_name = np.searchsorted(self.name_owner, np.arange(len(entities) + 1)).astype(np.int64)
        self.postings = {k: np.asarray(v, dtype=np.int32) for k, v in postings.items()}
        self.name_lengths = np.asarray([max(1, len(n.tokens)) for n in self.names], dtype=np.float32)
        self._log_n = math.log(len(self.names) + 2)
        near: dict[str, list[str]] = defaultdict(list)
        for key in self.postings:
            if len(key) >= MIN_FUZZY_KEY and not key.startswith(TEXT):
                for d in _deletes(key) | {key}:
                    near[d].append(key)
        self.near = dict(near)
        self.identifiers: dict[str, list[int]] = defaultdict(list)
        for e_idx, entity in enumerate(entities):
            for ident in entity.identifiers:
                self.identifiers[ident].append(e_idx)
        self.identifiers = dict(self.identifiers)
        self._weights: dict[int, tuple[float, float]] = {}
        self._keep: list[Token] = []
        self._near_cache: dict[str, tuple[str, ...]] = {}
        self.name_weights = [self.weights_of(n) for n in self.names]
        self._listed_bounds()
        self._weights.clear()  # listed words' weights live in name_weights; the cache is for queries
        self._keep.clear()

    def _listed_bounds(self) -> None:
        """Per listed name, the cumulative sums of its heaviest words' weights and its whole
        weight: how much of it a few matched words can cover (``listed_cover_bound``). A word
        in Arabic script counts 1.0, since a romanisation counts the Latin spelling's weight."""
        cums = np.zeros((len(self.names), LISTED_BOUND_WORDS), dtype=np.float32)
        totals = np.zeros(len(self.names), dtype=np.float32)
        for n, (name, weights) in enumerate(zip(self.names, self.name_weights, strict=True)):
            words = sorted((1.0 if t.native else w for t, w in zip(name.tokens, weights.text, strict=True)),
                           reverse=True)
            running = np.cumsum(words[:LISTED_BOUND_WORDS]) if words else np.zeros(1)
            cums[n, :len(running)] = running
            cums[n, len(running):] = running[-1]
            totals[n] = sum(words)
        self._listed_cum = cums
        self._listed_total = totals

    def listed_cover_bound(self, names: np.ndarray, words_hit: np.ndarray) -> np.ndarray:
        """The most of each listed name the query can cover when ``words_hit`` of its words reach
        it: each may match one listed word (two, written joined), and every word left over may
        cost as little as LISTED_ADDED_WORD of its weight (compare._unmatched_weight)."""
        if not len(names):
            return np.ones(0, dtype=np.float32)
        k = np.minimum(2 * words_hit, LISTED_BOUND_WORDS) - 1
        covered = self._listed_cum[names, k]
        left = np.maximum(self._listed_total[names] - covered, 0.0)
        bound = covered / np.maximum(covered + LISTED_ADDED_WORD * left, 1e-9) + BOUND_SLACK
        return np.where(2 * words_hit >= LISTED_BOUND_WORDS, 1.0, np.minimum(bound, 1.0))

    # -- word weights -------------------------------------------------------------------

    def lists_word(self, canonical: str) -> bool:
        """Whether some listed name has this word (in canonical spelling) as written."""
        return (TEXT + canonical) in self.postings

    def key_frequency(self, key: str) -> int:
        posting = self.postings.get(key)
        return 0 if posting is None else len(posting)

    def _idf(self, df: int) -> float:
        return max(MIN_WEIGHT, math.log((len(self.names) + 2) / (df + 1)) / self._log_n)

    def _both(self, token: Token) -> tuple[float, float]:
        # by identity: listed words are shared objects, and hashing a Token hashes all its fields
        cached = self._weights.get(id(token))
        if cached is None:
            # a word's commonest reading counts, so a skeleton shared by many spellings is weak
            key = self._idf(max((self.key_frequency(k) for k in token.keys), default=0))
            # the spelling itself: across scripts only the skeleton can be compared
            text = key if token.native else (key + max(key, self._idf(self.key_frequency(TEXT + token.canonical)))) / 2
            if len(token.text) <= 2 and not token.native:
                # initials, particles, typo debris: little identity
                key, text = min(key, SHORT_WORD_WEIGHT), min(text, SHORT_WORD_WEIGHT)
            elif is_trade_word(token):
                # bakery, exchange, shipping: rare on the lists, yet they say what trade, not which business
                key, text = min(key, TRADE_WORD_WEIGHT), min(text, TRADE_WORD_WEIGHT)
            cached = (text, key)
            if len(self._weights) < 1_000_000:
                self._weights[id(token)] = cached
                self._keep.append(token)  # an id is only stable while its object lives
        return cached

    def weight(self, token: Token) -> float:
        """How much the word proves when it matches as written (or as a known variant), 0..1:
        inverse document frequency of the word among listed names."""
        return self._both(token)[0]

    def addition_weight(self, tokens: Iterable[Token]) -> float:
        """The weight of a person's words that may cost less than it when unmatched, whatever
        else matches: kunyas and nisbas; with an initial, every word (an initial aligns
        without a key, so a name hit by one word may yet have two matched)."""
        tokens = list(tokens)
        if any(len(t.text) == 1 for t in tokens):
            return sum(self.weight(t) for t in tokens)
        return sum(self.weight(t) for t in tokens if is_addition(t))

    def weights_of(self, name: AnalyzedName) -> Weights:
        both = [self._both(t) for t in name.tokens]
        return Weights(tuple(b[0] for b in both), tuple(b[1] for b in both))

    # -- retrieval ----------------------------------------------------------------------

    def near_keys(self, key: str) -> tuple[str, ...]:
        """Listed keys one edit from ``key`` (found through shared deletions)."""
        found = self._near_cache.get(key)
        if found is not None:
            return found
        hits: set[str] = set()
        if len(key) >= MIN_FUZZY_KEY:
            for d in _deletes(key) | {key}:
                for other in self.near.get(d, ()):
                    if other != key and Levenshtein.distance(key, other, score_cutoff=1) <= 1:
                        hits.add(other)
        found = tuple(sorted(hits))
        if len(self._near_cache) < 200_000:
            self._near_cache[key] = found
        return found

    def retrieve(self, name: AnalyzedName, limit: int = 200, person: bool = True) -> list[Candidate]:
        """Listed names sharing (or nearly sharing) keys with the query, best first."""
        r = self.retrieve_arrays(name, limit, person)
        return [Candidate(n, e, s, c, w, k) for n, e, s, c, w, k in zip(
            r.names.tolist(), r.entities.tolist(), r.scores.tolist(), r.cover.tolist(), r.weight_bound.tolist(),
            r.words.tolist(), strict=True)]

    def retrieve_arrays(self, name: AnalyzedName, limit: int = 200, person: bool = True,
                        visible: np.ndarray | None = None) -> Retrieved:
        """``retrieve`` as arrays, for the screener to filter without a Python loop (``person``:
        whether the query is a person's name, which its bounds depend on). ``visible``: one flag
        per entity; the others are left out before the best ``limit`` are chosen."""
        arrays: list[np.ndarray] = []
        weights: list[np.ndarray] = []
        bounds: list[np.ndarray] = []
        texts: list[np.ndarray] = []     # the hit words' weights as written
        total = sum(self.weight(t) for t in name.tokens) or 1.0
        for token in name.tokens:
            w_text = self._both(token)[0]
            parts = self.word_postings(token)
            if not parts:
                continue
            hits = np.concatenate([p[0] for p in parts]) if len(parts) > 1 else parts[0][0]
            lengths = [len(p[0]) for p in parts]
            token_w = np.repeat(np.asarray([p[1] for p in parts], dtype=np.float32), lengths)
            token_b = np.repeat(np.asarray([p[2] for p in parts], dtype=np.float32), lengths)
            if len(parts) > 1:
                # a name reached through several keys of one word counts once, at its best
                order = np.lexsort((-token_w, hits))
                hits, token_w, token_b = hits[order], token_w[order], token_b[order]
                first = np.ones(len(hits), dtype=bool)
                first[1:] = hits[1:] != hits[:-1]
                hits, token_w, token_b = hits[first], token_w[first], token_b[first]
            arrays.append(hits)
            weights.append(token_w)
            bounds.append(token_b)
            texts.append(np.full(len(hits), w_text, dtype=np.float32))
        # the query's adjacent words read as one find names written joined
        for a, b in zip(name.tokens, name.tokens[1:], strict=False):
            joined = self.joined_postings(a, b)
            if joined:
                hits = np.unique(np.concatenate(joined))
                w = self.joined_weight(a, b)
                arrays.append(hits)
                weights.append(np.full(len(hits), w, dtype=np.float32))
                bounds.append(np.full(len(hits), w, dtype=np.float32))
                texts.append(np.zeros(len(hits), dtype=np.float32))
        if not arrays:
            return Retrieved.empty()
        idx = np.concatenate(arrays)
        wts = np.concatenate(weights)
        uniq, inverse = np.unique(idx, return_inverse=True)
        raw = np.bincount(inverse, weights=wts).astype(np.float32)
        bound = np.bincount(inverse, weights=np.concatenate(bounds))
        hit_text = np.bincount(inverse, weights=np.concatenate(texts))
        words = np.bincount(inverse)
        if visible is not None:
            keep = visible[self.name_owner[uniq]]
            uniq, raw, bound, hit_text, words = uniq[keep], raw[keep], bound[keep], hit_text[keep], words[keep]
            if not len(uniq):
                return Retrieved.empty()
        cover, weight_bound = retrieval_bounds(bound, hit_text, total, words, person,
                                               self.addition_weight(name.tokens) if person else 0.0)
        # among names sharing the same words, shorter ones cover more of themselves
        scores = raw / np.sqrt(self.name_lengths[uniq])
        if len(uniq) > limit:
            top = np.argpartition(-scores, limit)[:limit]
        else:
            top = np.arange(len(uniq))
        top = top[np.argsort(-scores[top], kind="stable")]
        chosen = uniq[top]
        return Retrieved(chosen, self.name_owner[chosen], scores[top], cover[top], weight_bound[top], words[top])

    def word_postings(self, token: Token) -> list[tuple[np.ndarray, float, float]]:
        """How one query word reaches listed names: (names, rank weight, bound on the weight it
        can add to each one's match), by spelling, by shared skeleton key, by a key one edit away."""
        w_text, w_key = self._both(token)
        parts: list[tuple[np.ndarray, float, float]] = []
        if not token.native and (TEXT + token.canonical) in self.postings:
            parts.append((self.postings[TEXT + token.canonical], w_text, w_text))
        exact = {k for k in token.keys if k in self.postings}
        # a shared skeleton may still align as a close spelling (fuzzy), worth the word's weight,
        # or as a romanisation, worth the heavier of the two words' weights (compare._proof)
        cross = 1.0 if token.native else w_text
        parts += [(self.postings[k], w_key, max(w_key, KEY_SIMILARITY * cross)) for k in exact]
        near = {n for key in token.keys for n in self.near_keys(key)} - exact
        # a key one edit away: a close spelling, or a romanisation all the same (ظواهري / Zawahri)
        parts += [(self.postings[k], w_key * NEAR_RANK, KEY_SIMILARITY * cross) for k in near]
        return parts

    def joined_postings(self, a: Token, b: Token) -> list[np.ndarray]:
        """Listed names two adjacent query words reach read as one word ("Wali Jan" / "WALIJAN")."""
        postings = self.postings
        return [postings[k] for k in joined_keys(a.keys, b.keys) if len(k) >= MIN_JOINED_KEY and k in postings]

    def joined_weight(self, a: Token, b: Token) -> float:
        """The bound on what two adjacent words read as one add to a name's matched weight."""
        return max(self.weight(a), self.weight(b))

    def subset(self, entities: list[Listed]) -> ScreeningIndex:
        """An index of these entities alone, weighing words as this one does: a query's score
        on one of their names is exactly what this index gives it, and a name this index
        retrieves among its best candidates the subset retrieves too (same weights, fewer names)."""
        return _Subset(entities, self)

    def names_of(self, entity_index: int) -> range:
        """The indices of one entity's names (stored next to each other)."""
        return range(int(self._first_name[entity_index]), int(self._first_name[entity_index + 1]))

    def by_identifier(self, number: str) -> list[int]:
        return self.identifiers.get(normalize_identifier(number), [])

    def __len__(self) -> int:
        return len(self.entities)


def retrieval_bounds(bound: np.ndarray, hit_text: np.ndarray, total: float | np.ndarray,
                     words: np.ndarray, person: bool | np.ndarray = False,
                     additions: float | np.ndarray = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """(coverage bound, matched-weight bound) of retrieved names, from the summed bounds of the
    query words that hit each (``bound``), those words' weights as written (``hit_text``), the
    query's whole weight (``total``) and how many of its words hit each name (``words``).

    ``person`` and ``additions`` (``ScreeningIndex.addition_weight``) say which unmatched words
    may cost less than their weight (compare._unmatched_weight); one value or one per name."""
    # coverage is matched / (matched words' weight + unmatched words' weight as written):
    # at most B / (B + U) with B the hit words' bound and U what the words not hit cost. A
    # person's words between two matched ones cost ADDED_WORD of their weight, so with two
    # words hit any unhit word may; with one, only the kunyas and nisbas (``additions``)
    full = np.maximum(total - hit_text, 0.0)
    least = ADDED_WORD * full
    single = np.maximum(full - (1 - ADDED_WORD) * additions, least)
    unhit = np.where(person, np.where(words >= 2, least, single), full)
    cover = bound / np.maximum(bound + unhit, 1e-9)
    # initials and spellings that share no key may still align a little: BOUND_SLACK
    return np.minimum(1.0, cover + BOUND_SLACK), bound + BOUND_SLACK * total


class _Subset(ScreeningIndex):
    """Some entities of a larger index, weighed with its word weights (``ScreeningIndex.subset``)."""

    def __init__(self, entities: list[Listed], full: ScreeningIndex) -> None:
        self._full = full
        super().__init__(entities, full.label)

    def _both(self, token: Token) -> tuple[float, float]:
        return self._full._both(token)


def analyze_names(names: Iterable[str], schema: str) -> list[AnalyzedName]:
    """The distinct analysed forms of an entity's names (empty ones dropped)."""
    seen: set[tuple[str, ...]] = set()
    out = []
    for raw in (v for field in names for v in name_variants(field)):
        name = analyze_name(raw, schema)
        key = tuple(t.text for t in name.tokens)
        if name.tokens and key not in seen:
            seen.add(key)
            out.append(name)
    return out


# -- on-disk cache ----------------------------------------------------------------------

def cache_dir() -> Path:
    """Where built indexes are kept: the cache folder of ``jointwatch.settings``."""
    return settings.cache_dir()


# Every class of ours a cached index pickles; tests/screening/test_cache_key.py reads a cached
# index back and fails on any class outside these (add it here, and its module is fingerprinted).
PICKLED: tuple[type, ...] = (ScreeningIndex, Listed, Weights, AnalyzedName, Token)
# What decides what the index holds besides the pickled classes' own code: the name analysis
# (the whole names package), its word lists, how listings are read from the store, how
# document numbers are written.
_CONTENT = ("jointwatch.names", "jointwatch.screening.from_store", "jointwatch.identifiers")


def fingerprint_files() -> list[Path]:
    """The files ``code_fingerprint`` digests: the modules defining the pickled classes (and
    their bases), and the code and rules that decide what the index holds."""
    import jointwatch.resources as resources_pkg  # noqa: PLC0415

    modules = {c.__module__ for cls in PICKLED for c in cls.__mro__ if c.__module__.startswith("jointwatch.")}
    files: set[Path] = set()
    for name in sorted(modules | set(_CONTENT)):
        module = importlib.import_module(name)
        path = Path(inspect.getfile(module))
        # a package counts with all its modules: the classes' code calls across them
        files.update(path.parent.glob("*.py") if path.name == "__init__.py" else [path])
    files.add(Path(resources_pkg.__file__).parent / "names.yml")
    return sorted(files)


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A digest of the code and rules that decide what the index holds and how it is pickled."""
    digest = hashlib.sha256(INDEX_FORMAT.encode())
    for path in fingerprint_files():
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def cache_key(parts: Iterable[str]) -> str:
    raw = "|".join([code_fingerprint(), *sorted(parts)])
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:24]


def load_cached(key: str) -> ScreeningIndex | None:
    path = cache_dir() / f"screening-{key}.pickle"
    if not path.exists():
        return None
    try:
        with path.open("rb") as f:
            index = pickle.load(f)  # noqa: S301 - our own cache file, written below
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        return None
    return index if isinstance(index, ScreeningIndex) else None


def save_cached(key: str, index: ScreeningIndex) -> None:
    directory = cache_dir()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        tmp = directory / f".screening-{key}.{os.getpid()}.tmp"
        with tmp.open("wb") as f:
            pickle.dump(index, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, directory / f"screening-{key}.pickle")
    except OSError:
        pass  # a read-only home only costs a rebuild next time

