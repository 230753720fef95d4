"""The values blind discovery evaluates: a name's matching keys, a birth year, a document.

Both sides derive them with the same code from the screening engine's own name analysis
(``jointwatch.names``), so a query word and a listed word agree on a key exactly when the
plaintext index would bring them together:

- ``w:`` the word's spelling group (mohamed and muhammad share ``w:muhammad``);
- ``s:`` each consonant-skeleton key of the word (طارق, Tariq and Tarak share ``s:trk``),
  and of two adjacent words read as one ("Wali Jan" and "Walijan");
- ``d:`` each skeleton key with one letter taken out, and the key itself: two keys one
  edit apart share one of these (Harzi / Hazri / Harzy), as the plaintext index's
  near keys do;
- ``y:`` a birth year, ``n:`` a document number (as ``identifiers.normalize_identifier``).

The kind is part of the value evaluated, so a word key never meets a year key.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from jointwatch.identifiers import normalize_identifier
from jointwatch.names import AnalyzedName, Token, joined_keys

WORD, SKELETON, NEAR, YEAR, DOCUMENT = "w", "s", "d", "y", "n"
MIN_NEAR_KEY = 3        # as the plaintext index: shorter keys have too many neighbours
MIN_JOINED_KEY = 4
NEAR_READINGS = 3       # a word in Arabic script has up to 8 skeleton readings: deletions of the first 3
MIN_DOCUMENT = 5


def _deletes(key: str) -> set[str]:
    return {key[:i] + key[i + 1:] for i in range(len(key))} | {key}


def word_keys(token: Token) -> dict[str, str]:
    """One word's keys: value -> kind (``w``, ``s`` or ``d``)."""
    keys: dict[str, str] = {}
    if not token.native and token.canonical:
        keys[f"{WORD}:{token.canonical}"] = WORD
    for key in token.keys:
        if key:
            keys[f"{SKELETON}:{key}"] = SKELETON
    for key in token.keys[:NEAR_READINGS]:
        if len(key) >= MIN_NEAR_KEY:
            for d in _deletes(key):
                keys.setdefault(f"{NEAR}:{d}", NEAR)
    return keys


def pair_keys(a: Token, b: Token) -> list[str]:
    """Two adjacent words read as one: skeleton keys, so they meet a word written joined."""
    return [f"{SKELETON}:{k}" for k in joined_keys(a.keys, b.keys) if len(k) >= MIN_JOINED_KEY]


def year_key(year: str) -> str:
    return f"{YEAR}:{year}"


def document_keys(numbers: Iterable[str]) -> list[str]:
    found = {normalize_identifier(n) for n in numbers}
    return sorted(f"{DOCUMENT}:{n}" for n in found if len(n) >= MIN_DOCUMENT)


def name_keys(name: AnalyzedName) -> set[str]:
    """Every key of a listed name (the holder's side): its words' and its adjacent pairs'."""
    keys: set[str] = set()
    for token in name.tokens:
        keys.update(word_keys(token))
    for a, b in zip(name.tokens, name.tokens[1:], strict=False):
        keys.update(pair_keys(a, b))
    return keys


def years_of(dates: Iterable[str]) -> list[str]:
    return sorted({d[:4] for d in dates if len(d) >= 4 and d[:4].isdigit()})


@dataclass(frozen=True)
class QueryKey:
    """One value the asker has evaluated, and what it stands for in the query."""

    value: str
    kind: str                       # w, s, d, y, n
    words: tuple[int, ...] = ()     # the query words it belongs to (two for a pair read as one)


def query_keys(name: AnalyzedName, birth_years: Iterable[str] = (), documents: Iterable[str] = ()) -> list[QueryKey]:
    """The asker's keys for one query, the strongest first (so that a query too long for the
    largest bucket loses its weakest keys: one-edit neighbours of its last words)."""
    out: dict[str, QueryKey] = {}

    def add(value: str, kind: str, words: tuple[int, ...]) -> None:
        old = out.get(value)
        if old is None:
            out[value] = QueryKey(value, kind, words)
        elif not set(words) <= set(old.words):
            out[value] = QueryKey(value, old.kind, tuple(sorted(set(old.words) | set(words))))

    for value in document_keys(documents):
        add(value, DOCUMENT, ())
    for year in birth_years:
        add(year_key(year), YEAR, ())
    near: list[tuple[str, int]] = []
    for i, token in enumerate(name.tokens):
        for value, kind in word_keys(token).items():
            if kind == NEAR:
                near.append((value, i))
            else:
                add(value, kind, (i,))
    for i, (a, b) in enumerate(zip(name.tokens, name.tokens[1:], strict=False)):
        for value in pair_keys(a, b):
            add(value, SKELETON, (i, i + 1))
    for value, i in near:
        add(value, NEAR, (i,))
    return list(out.values())
