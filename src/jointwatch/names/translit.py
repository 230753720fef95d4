"""Transliteration of names into lower-case ASCII Latin.

Cyrillic, Greek, Armenian, Georgian and Hangul go through rigour (its spellings are the
ones the lists use: Шевченко → shevchenko); Han, Hebrew, Devanagari and the rest through
ICU's Any-Latin. Arabic-script names get a readable romanisation here, but they are
matched by their consonant skeletons (jointwatch.names.keys), because Arabic writes no
short vowels and every list romanises it differently.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import icu
from rigour.text.translit import maybe_ascii

_NOT_WORD = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=1)
def _icu() -> icu.Transliterator:
    # Han comes out as pinyin with tone marks; Latin-ASCII folds them away
    return icu.Transliterator.createInstance("Any-Latin; Latin-ASCII; Lower")


# Letters ICU's Arabic-Latin does not know (Urdu, Persian, Pashto forms) mapped to the
# Arabic letter they are read as.
_ARABIC_FOLD = str.maketrans({
    "ھ": "ه", "ہ": "ه", "ۀ": "ه", "ۃ": "ة", "ی": "ي", "ے": "ي", "ې": "ي", "ۍ": "ي", "ک": "ك",
    "ڭ": "ك", "ٹ": "ت", "ڈ": "د", "ڑ": "ر", "ں": "ن", "ټ": "ت", "ډ": "د", "ړ": "ر", "ږ": "ژ",
    "ښ": "ش", "ڼ": "ن", "ى": "ي", "ٱ": "ا", "ـ": None,
})


def fold_arabic(text: str) -> str:
    """Arabic-script text with regional letter forms folded, diacritics and tatweel removed."""
    text = unicodedata.normalize("NFKC", text).translate(_ARABIC_FOLD)
    return "".join(c for c in text if not unicodedata.category(c) == "Mn")


@lru_cache(maxsize=65536)
def to_ascii(word: str) -> str:
    """One word in lower-case ASCII letters and digits, whatever its script (may be empty)."""
    if not word.isascii():
        word = maybe_ascii(fold_arabic(word))
        if not word.isascii():
            word = _icu().transliterate(word)
        if not word.isascii():
            word = unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode("ascii")
    return _NOT_WORD.sub("", word.lower())
