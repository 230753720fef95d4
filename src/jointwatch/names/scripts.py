"""Which writing systems a name is written in."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

# Unicode block ranges of the scripts the lists and travellers' documents use; anything
# else is named by the first word of its Unicode character name ("HIRAGANA", "THAI" …).
_RANGES: tuple[tuple[int, int, str], ...] = (
    (0x0041, 0x024F, "Latin"),
    (0x0370, 0x03FF, "Greek"),
    (0x1F00, 0x1FFF, "Greek"),
    (0x0400, 0x052F, "Cyrillic"),
    (0x0530, 0x058F, "Armenian"),
    (0x0590, 0x05FF, "Hebrew"),
    (0x0600, 0x06FF, "Arabic"),
    (0x0750, 0x077F, "Arabic"),
    (0x08A0, 0x08FF, "Arabic"),
    (0xFB50, 0xFDFF, "Arabic"),
    (0xFE70, 0xFEFF, "Arabic"),
    (0x0900, 0x097F, "Devanagari"),
    (0x10A0, 0x10FF, "Georgian"),
    (0x1100, 0x11FF, "Hangul"),
    (0xAC00, 0xD7AF, "Hangul"),
    (0x3130, 0x318F, "Hangul"),
    (0x4E00, 0x9FFF, "Han"),
    (0x3400, 0x4DBF, "Han"),
    (0x3040, 0x309F, "Hiragana"),
    (0x30A0, 0x30FF, "Katakana"),
    (0x0E00, 0x0E7F, "Thai"),
    (0x0700, 0x074F, "Syriac"),
    (0x0780, 0x07BF, "Thaana"),
    (0x1200, 0x139F, "Ethiopic"),
)


@lru_cache(maxsize=4096)
def char_script(char: str) -> str | None:
    """The script of one letter, or None for digits, punctuation, spaces and marks."""
    if not char.isalpha():
        return None
    cp = ord(char)
    for low, high, script in _RANGES:
        if low <= cp <= high:
            return script
    try:
        return unicodedata.name(char).split(" ")[0].title()
    except ValueError:
        return None


def scripts_of(text: str) -> frozenset[str]:
    """Every script whose letters occur in ``text``."""
    return frozenset(s for s in map(char_script, text) if s is not None)


@lru_cache(maxsize=262144)
def is_arabic_script(text: str) -> bool:
    """True when ``text`` has letters of the Arabic script (Arabic, Persian, Urdu, Pashto …)."""
    return not text.isascii() and "Arabic" in scripts_of(text)
