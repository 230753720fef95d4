"""A name as the matcher sees it: words in ASCII, with particles, titles and order settled.

``analyze_name("AL-HARZI, Tariq Bin-Al-Tahar Bin Al Falih Al-'Awni")`` gives the words
tariq, tahar, falih, awni, harzi (with "al", "bin" recorded as ignored), each with its
consonant-skeleton keys. The same rules run on list names and on queries, so that a rule
never makes one side differ from the other.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from functools import lru_cache

from jointwatch.names.keys import arabic_keys, joined_keys, latin_keys
from jointwatch.names.rules import RULES
from jointwatch.names.scripts import is_arabic_script, scripts_of
from jointwatch.names.translit import fold_arabic, to_ascii
from jointwatch.pickling import FastPickle

MAX_NAME_CHARS = 500
MAX_WORDS = 24

# Separators between words: whitespace and punctuation, but not apostrophes (Al-'Awni) or
# the marks inside Arabic words.
_SPLIT = re.compile(r"[\s,;:/\\|()\[\]{}<>\"“”«».!?+=*&^%$#@~_‐‑‒–—―-]+")
_APOSTROPHES = re.compile(r"['`´ʼʻ’‘ʾʿ]")
_ARABIC_ARTICLE = "ال"
_ARABIC_GLUED = ("عبد", "ابو", "أبو")
_COMPOUND_HEADS = frozenset({"abd", "abu"})
# Scripts written without spaces between the parts of a name: each syllable is a word.
_SYLLABIC = re.compile(r"([\u4e00-\u9fff\u3400-\u4dbf\uac00-\ud7af])")
_DOTTED = re.compile(r"\b((?:\w\.){2,})")
_BRACKETED = re.compile(r"\(([^()]*(?:\([^()]*\)[^()]*)*)\)")
_SCRIPT_NOTE = re.compile(r"^\s*original script\s*:\s*", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Token(FastPickle):
    """One word of a name, ready to compare."""

    text: str                 # lower-case ASCII spelling ("tariq"; "trq" for طارق)
    canonical: str            # the spelling group's first member (mohamed → muhammad)
    keys: tuple[str, ...]     # consonant skeletons ("trq" → ("trk",))
    original: str             # as written in the name, for explanations
    native: bool = False      # written in a non-Latin script (compared by skeleton)
    known: bool = False       # canonical is a known name (muhammad, mahmud …), see names.yml


@dataclass(frozen=True, slots=True)
class AnalyzedName(FastPickle):
    """A whole name: its words in reading order, and what was set aside."""

    original: str
    tokens: tuple[Token, ...]
    ignored: tuple[str, ...]
    scripts: frozenset[str]

    @property
    def text(self) -> str:
        return " ".join(t.text for t in self.tokens)


def natural_order(name: str) -> str:
    """"AL-HARZI, Tariq" (the lists' way) as a travel document writes it: "Tariq AL-HARZI".

    With more than one comma it is a list of something else and left alone."""
    if name.count(",") == 1:
        last, first = (p.strip() for p in name.split(","))
        if last and first:
            return f"{first} {last}"
    return name


@lru_cache(maxsize=65536)
def arabic_stem(word: str) -> str:
    """A word in Arabic script as it is compared: letters folded, the article taken off
    (الحرزي → حرزي), also inside a compound (عبد الجبار → عبدجبار)."""
    folded = fold_arabic(word.replace(" ", ""))
    if folded.startswith(_ARABIC_ARTICLE) and len(folded) > 3:
        folded = folded[len(_ARABIC_ARTICLE):]
    for prefix in _ARABIC_GLUED:
        # عبدالجبار is عبد + الجبار: the article inside goes like the one in front
        if folded.startswith(prefix + _ARABIC_ARTICLE) and len(folded) > len(prefix) + 3:
            folded = prefix + folded[len(prefix) + 2:]
    return folded


@lru_cache(maxsize=262144)
def make_token(word: str) -> Token | None:
    """A token for one written word, or None when nothing readable is left."""
    if is_arabic_script(word):
        folded = arabic_stem(word)
        text = to_ascii(folded)
        keys = arabic_keys(folded)
        if not text and keys == ("",):
            return None
        canonical = RULES.canonical(folded) or RULES.canonical(text)
        return Token(text or keys[0], canonical or text, keys, word, True, canonical is not None)
    text = to_ascii(_APOSTROPHES.sub("", word))
    if not text:
        return None
    known = RULES.canonical(text)
    canonical = known or text
    if text[:3] in _COMPOUND_HEADS and len(text) > 5:
        # abd + jabbar: the seam is not the digraph "dj" (nor "dh", "bh")
        keys = joined_keys(latin_keys(text[:3]), latin_keys(text[3:]))
    else:
        keys = latin_keys(text)
    if canonical != text:
        keys = tuple(sorted(set(keys) | set(latin_keys(canonical))))
    return Token(text, canonical, keys, word, not word.isascii() and scripts_of(word) != {"Latin"},
                 known is not None)


def is_trade_word(token: Token) -> bool:
    """A word of business names that says what trade, not which business (bakery, exchange)."""
    return not token.native and RULES.is_trade_word(token.canonical)


def is_addition(token: Token) -> bool:
    """A word a person's name gains and listings often leave out: a kunya (Abu Muhammad, أبو
    محمد) or a nisba (al-Masri)."""
    return RULES.is_addition(token.canonical) or token.original.startswith(("ابو", "أبو"))


def join_tokens(first: Token, second: Token) -> Token:
    """Two adjacent words read as one, to meet a name written joined."""
    text = first.text + second.text
    return Token(text, text, joined_keys(first.keys, second.keys), f"{first.original} {second.original}",
                 first.native or second.native)


def _merge_compounds(words: list[str]) -> tuple[list[str], list[str], list[str]]:
    """Join "abd al rahman" and "abu bakr" into one word; drop particles and titles.

    Returns the words to analyse, the words as written (for explanations) and the ignored."""
    out: list[str] = []
    written: list[str] = []
    ignored: list[str] = []
    lower = [to_ascii(_APOSTROPHES.sub("", w)) if not is_arabic_script(w) else fold_arabic(w) for w in words]
    content = sum(1 for w in lower if not RULES.is_particle(w) and not RULES.is_title(w))
    i = 0
    while i < len(words):
        w, low = words[i], lower[i]
        nxt = lower[i + 1] if i + 1 < len(words) else ""
        if RULES.is_suffix(low) and out and is_arabic_script(out[-1]) == is_arabic_script(w):
            if is_arabic_script(w):
                # نور الدين is read نوردين, as its romanisations write it (Nuruddin, Noureddine)
                suffix = low[len(_ARABIC_ARTICLE):] if low.startswith(_ARABIC_ARTICLE) else low
                out[-1] = fold_arabic(out[-1]) + suffix
            else:
                out[-1] += low
            written[-1] = f"{written[-1]} {w}"
        elif RULES.is_title(low) and (content > 2 or not RULES.title_is_also_name(low)) and nxt:
            ignored.append(w)
            content -= 1
        elif RULES.is_article(low, nxt) or RULES.is_patronymic(low):
            ignored.append(w)
        elif (prefix := RULES.compound_prefix(low)) and nxt and not RULES.compound_prefix(nxt):
            # "Abu Abd al-Rahman": abu stays a word of its own and abd takes rahman
            # the next word may start with its own article: abd al-rahman, abu al-walid
            j = i + 1
            while j < len(words) and RULES.is_article(lower[j], lower[j + 1] if j + 1 < len(words) else ""):
                ignored.append(words[j])
                j += 1
            if j < len(words):
                if is_arabic_script(w):
                    nxt_word = lower[j][len(_ARABIC_ARTICLE):] if lower[j].startswith(_ARABIC_ARTICLE) else lower[j]
                    out.append(low + nxt_word)
                else:
                    out.append(prefix + lower[j])
                written.append(" ".join(words[i:j + 1]))
                i = j + 1
                continue
            out.append(w)
            written.append(w)
        else:
            out.append(w if is_arabic_script(w) else (RULES.split_glued_prefix(low) or w))
            written.append(w)
        i += 1
    return out, written, ignored


@lru_cache(maxsize=65536)
def analyze_name(name: str, schema: str = "Person") -> AnalyzedName:
    """Analyse one name of a person, organisation or object (vessel, aircraft).

    Cached: a query is read by prepare(), screen() and its identity digest alike."""
    original = name
    name = unicodedata.normalize("NFKC", name)[:MAX_NAME_CHARS]
    if not name.isprintable():
        name = "".join(c if c.isprintable() else " " for c in name)
    scripts = (frozenset({"Latin"}) if any(c.isalpha() for c in name) else frozenset()) if name.isascii() \
        else scripts_of(name)
    if not name.isascii():
        name = _SYLLABIC.sub(lambda m: f" {to_ascii(m.group(1))} ", name)
    if schema in ("Person", "LegalEntity"):
        name = natural_order(name)
    words = [w for w in _SPLIT.split(name) if w][:MAX_WORDS * 2]
    ignored: list[str] = []
    written = words
    if schema == "Person" or schema == "LegalEntity":
        words, written, ignored = _merge_compounds(words)
        if schema == "LegalEntity":
            # a party of unknown type (a payment's creditor) may be a business: its legal form and
            # fillers ("Sberbank of Russia", "Smit BV") are set aside as an organisation's are
            kept_at = [i for i, w in enumerate(words)
                       if not RULES.is_org_generic(to_ascii(_APOSTROPHES.sub("", w)))]
            if kept_at and len(kept_at) < len(words):
                ignored += [w for i, w in enumerate(written) if i not in kept_at]
                words, written = [words[i] for i in kept_at], [written[i] for i in kept_at]
    else:
        # "S.A." and "L.L.C." are one word (and a legal form), not letters
        words = [w for w in _SPLIT.split(_DOTTED.sub(lambda m: m.group(1).replace(".", ""), name)) if w]
        kept: list[str] = []
        lower = [to_ascii(w) for w in words]
        for i, w in enumerate(words):
            following = lower[i + 1] if i + 1 < len(words) else ""
            generic = RULES.is_org_generic(lower[i]) or RULES.is_article(lower[i], following)
            (ignored if generic else kept).append(w)
        words = written = kept or words
    tokens = []
    for word, as_written in zip(words[:MAX_WORDS], written[:MAX_WORDS], strict=False):
        token = make_token(word)
        if token is not None:
            tokens.append(token if token.original == as_written else replace(token, original=as_written))
    return AnalyzedName(original, tuple(tokens), tuple(ignored), scripts)


def name_variants(raw: str) -> list[str]:
    """The names written in one list field: "A; B" is two names, and "X (Y)" is X and
    sometimes Y — an original-script name with its romanisation in brackets, or a longer
    alias, but not a bracketed country or legal form ("NOOR ENERGY (MALAYSIA) LTD.")."""
    outer = " ".join(_BRACKETED.sub(" ", raw).split())
    out = [p.strip() for p in (outer or raw).split(";") if p.strip()]
    native_outer = bool(outer) and not all(s == "Latin" for s in scripts_of(outer))
    for inner in _BRACKETED.findall(raw):
        for part in inner.split(";"):
            part = _SCRIPT_NOTE.sub("", part).strip()
            if part and (native_outer or len(part.split()) >= 2):
                out.extend(p for p in name_variants(part) if p not in out)
    return out
