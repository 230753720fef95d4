"""Whether a Latin spelling is a romanisation of a word in Arabic script.

Arabic, Persian, Urdu and Pashto write consonants and long vowels; the short vowels are
left out, so one written word has many romanisations, and each list, passport office and
country writes its own (UN and OFAC: Zawahiri; French and Maghreb practice: Zaouahiri;
BGN/PCGN: Zawāhirī; ICAO 9303 passports: ALZAWAHIRI). Rather than generate them all, the
written word becomes a pattern: each letter may be written in any of the ways these
conventions write it (ش as sh, ch, sch or s; و as w, u, o, ou or v …), any consonant may be
doubled (the shadda is not written either), and one short vowel may stand between any two
letters. A Latin word that fits the pattern exactly is a romanisation of the written word,
in some convention; one that does not fit is at best a similar-sounding different name
(Sara is not شريعة, whose ي the Latin word would have to write).
"""

from __future__ import annotations

import re
from functools import lru_cache

from jointwatch.names.translit import fold_arabic

_VOWEL = "(?:[aeiou]|ou)?"
# The article of a word inside a compound (سيف الدين: saifuddin, seifeddine, saif al-din),
# or glued in front of a romanised word (Essaadi): a vowel and its letter, assimilated or not.
_ARTICLE = "(?:[aeiu](?:l|s|d|r|t|n|z|sh|th|dh)(?:s|d|r|t|n|z)?)?"
# How each letter (after fold_arabic) is written in Latin letters by the common conventions
# (UN, OFAC, BGN/PCGN, French/Maghreb, Persian and Urdu practice, ICAO 9303). "" means the
# letter may go unwritten: ʿayn and hamza usually do, final ه often does.
_LETTERS: dict[str, tuple[str, ...]] = {
    "ا": ("a", "aa", "e"), "أ": ("a", ""), "إ": ("i", "e", "a"),
    "آ": ("a", "aa"), "ء": ("", "a", "e", "i"), "ئ": ("", "a", "e", "i", "y"), "ؤ": ("", "u", "o", "w"),
    "ع": ("", "a", "aa", "e", "i", "o", "u", "ai", "ei"),
    "و": ("w", "u", "o", "ou", "oo", "v", "aw", "ow", "au", "uo", "ww", "uw"),
    "ي": ("y", "i", "ee", "ie", "e", "ey", "ai", "ay", "ei", "iy", "j", "yy", "iyy"),
    "ة": ("", "a", "ah", "at", "e", "eh", "et"),
    "ب": ("b",), "پ": ("p", "b"), "ت": ("t",), "ث": ("th", "s", "t"), "ج": ("j", "dj", "g", "dzh", "zh", "dj"),
    "چ": ("ch", "tch", "tsh", "c", "ts"), "ح": ("h", "kh"), "خ": ("kh", "h", "x", "k", "ch"),
    "د": ("d",), "ذ": ("dh", "z", "d", "th"), "ر": ("r",), "ز": ("z", "s"), "ژ": ("zh", "j"),
    "س": ("s", "c"), "ش": ("sh", "ch", "sch", "s", "x"), "ص": ("s",), "ض": ("d", "dh", "z"),
    "ط": ("t",), "ظ": ("z", "dh", "th", "d"), "غ": ("gh", "g"), "ف": ("f", "ph"), "ڤ": ("v", "f"),
    "ق": ("q", "k", "g", "gh", "c"), "ك": ("k", "c", "ck"), "گ": ("g",), "ل": ("l",), "م": ("m",),
    "ن": ("n",), "ه": ("h", ""),
}
# Letters that stand for a consonant and may be doubled when written (shadda).
_CONSONANTS = frozenset(_LETTERS) - {"ا", "أ", "إ", "آ", "ء", "ئ", "ؤ", "ع", "و", "ي", "ة"}
MAX_LETTERS = 20
_ARTICLE_WRITTEN = "ال"
_GLUED = ("عبد", "ابو", "أبو")


# A word's first letter: an alif or hamza there carries the vowel the word starts with.
_FIRST = {"ا": ("a", "e", "i", "o", "u"), "أ": ("a", "e", "o", "u", "i"), "إ": ("i", "e", "a")}
# A word's last letter: ى (folded to ي) is written a (Mustafa, Musa, Isa); ه may go unwritten.
_LAST = {"ي": (*_LETTERS["ي"], "a"), "ه": ("h", "", "a", "e")}


def _letter(char: str, first: bool, last: bool) -> str | None:
    ways = (_FIRST.get(char) if first else None) or (_LAST.get(char) if last else None) or _LETTERS.get(char)
    if ways is None:
        return None
    if char == "ه" and not last:
        ways = ("h",)
    alternatives = sorted({w for w in ways if w}, key=len, reverse=True)
    body = "|".join(re.escape(w) for w in alternatives)
    optional = "" in ways
    if char in _CONSONANTS:
        body = "|".join(f"{re.escape(w)}{re.escape(w[-1])}?" for w in alternatives)
    group = f"(?:{body})"
    return f"{group}?" if optional else group


@lru_cache(maxsize=65536)
def arabic_pattern(word: str) -> re.Pattern[str] | None:
    """The romanisations of a word in Arabic script as a pattern (the word as written, its
    article and the parts of a compound such as عبد الرحمن or نور الدين included); None when
    the word has letters the table does not know or is too long to be a single name."""
    parts: list[str] = []
    written = fold_arabic(word)
    for prefix in _GLUED:
        if written.startswith(prefix + _ARTICLE_WRITTEN):  # عبدالحليم is عبد الحليم
            written = f"{prefix} {written[len(prefix):]}"
    for n, part in enumerate(written.split()):
        if part.startswith(_ARTICLE_WRITTEN) and len(part) > 3:
            part = part[len(_ARTICLE_WRITTEN):]
            parts.append(_ARTICLE)
        elif n:
            parts.append(_ARTICLE)  # the article may be written though the word has none
        letters = [c for c in part if c.isalpha()]
        for i, char in enumerate(letters):
            pattern = _letter(char, i == 0, i == len(letters) - 1)
            if pattern is None:
                return None
            parts.append(pattern + _VOWEL)
    if not parts or len(parts) > MAX_LETTERS + 2:
        return None
    return re.compile("".join(parts))


def romanizes(latin: str, word: str) -> bool:
    """Whether ``latin`` (lower-case ASCII letters) is a romanisation of ``word`` (Arabic script)."""
    pattern = arabic_pattern(word)
    return pattern is not None and pattern.fullmatch(latin) is not None
