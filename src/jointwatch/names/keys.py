"""Consonant-skeleton keys: one spelling-independent key for names of Arabic origin.

Arabic writes consonants and long vowels only, and each list romanises it its own way
(Tariq / Tarak / طارق, Taher / Tahar / الطاھر, Falih / Faleh / الفالح). What survives every
romanisation is the consonant frame. A skeleton maps each consonant to its class (q, k, c
→ k; kh → k; sh, ch → s; th → t; dh → d; p → b …), drops vowels, the semi-vowels w, y, v,
the glottal stop and 'ayn, collapses doubled letters and drops a final h (ة / ه endings).
Letters that lists romanise two ways (ث t/s, ذ d/z, ج j/g, ق k/g …) give more than one key.
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import product

from jointwatch.names.translit import fold_arabic

MAX_KEYS = 8

# Latin digraphs that write one Arabic consonant, longest first.
_DIGRAPHS: tuple[tuple[str, str], ...] = (
    ("sch", "s"), ("tch", "s"), ("kh", "k"), ("gh", "g"), ("sh", "s"), ("ch", "s"), ("ph", "f"),
    ("zh", "j"), ("dj", "j"), ("dz", "j"), ("ck", "k"), ("ts", "s"),
)
# "th" and "dh" are one letter (ث, ذ) or two (t + h): both readings are kept.
_AMBIGUOUS_DIGRAPHS: tuple[tuple[str, str], ...] = (("th", "t"), ("dh", "d"))
_LATIN_CLASS = str.maketrans({
    "q": "k", "c": "k", "x": "k", "p": "b", "v": None, "w": None, "y": None,
    "a": None, "e": None, "i": None, "o": None, "u": None,
})
_DOUBLES = re.compile(r"(.)\1+")

# Each Arabic-script letter and the skeleton letters it may be romanised as; "" is silent.
_ARABIC: dict[str, tuple[str, ...]] = {
    "ا": ("",), "أ": ("",), "إ": ("",), "آ": ("",), "ء": ("",), "ئ": ("",), "ؤ": ("",),
    "ع": ("",), "و": ("",), "ي": ("",), "ة": ("", "t"),
    "ب": ("b",), "پ": ("b",), "ت": ("t",), "ث": ("t", "s"), "ج": ("j", "g"), "چ": ("s",),
    "ح": ("h",), "خ": ("k",), "د": ("d",), "ذ": ("d", "z"), "ر": ("r",), "ز": ("z",),
    "ژ": ("j",), "س": ("s",), "ش": ("s",), "ص": ("s",), "ض": ("d", "z"), "ط": ("t",),
    "ظ": ("z", "d"), "غ": ("g",), "ف": ("f",), "ڤ": ("f",), "ق": ("k", "g"), "ك": ("k",),
    "گ": ("g",), "ل": ("l",), "م": ("m",), "ن": ("n",), "ه": ("h",),
}


def _finish(raw: str) -> str:
    key = _DOUBLES.sub(r"\1", raw)
    if len(key) > 1 and key.endswith("h"):
        key = key[:-1]
    return key


@lru_cache(maxsize=131072)
def latin_keys(word: str) -> tuple[str, ...]:
    """The skeleton keys of a lower-case ASCII word (one or two)."""
    word = "".join(c for c in word if c.isalpha())
    for digraph, letter in _DIGRAPHS:
        word = word.replace(digraph, letter)
    readings = {word}
    for digraph, letter in _AMBIGUOUS_DIGRAPHS:
        readings |= {r.replace(digraph, letter) for r in readings}
    keys = {_finish(r.translate(_LATIN_CLASS)) for r in readings}
    return tuple(sorted(k for k in keys if k)) or ("",)


@lru_cache(maxsize=131072)
def arabic_keys(word: str) -> tuple[str, ...]:
    """The skeleton keys of one word in Arabic script (up to MAX_KEYS readings)."""
    letters = [_ARABIC.get(c, ("",)) for c in fold_arabic(word) if c.isalpha()]
    keys: set[str] = set()
    for combo in product(*letters):
        keys.add(_finish("".join(combo)))
        if len(keys) >= MAX_KEYS:
            break
    return tuple(sorted(k for k in keys if k)) or ("",)


@lru_cache(maxsize=262144)
def joined_keys(first: tuple[str, ...], second: tuple[str, ...]) -> tuple[str, ...]:
    """The keys of two words written as one ("Wali Jan" / "Walijan", "Akhund Zada")."""
    return tuple(sorted({_finish(a + b) for a in first[:3] for b in second[:3]} - {""})) or ("",)
