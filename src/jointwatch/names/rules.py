"""The name rules of resources/names.yml, as fast lookups."""

from __future__ import annotations

from dataclasses import dataclass, field

from rapidfuzz.distance import OSA

from jointwatch.names.translit import fold_arabic
from jointwatch.resources import load_resource

# The same particles written in Arabic script (after fold_arabic).
_ARABIC_PATRONYMIC = frozenset({"بن", "ابن", "بنت", "ولد", "إبن"})
_ARABIC_COMPOUND = {"عبد": "abd", "ابو": "abu", "أبو": "abu", "ابي": "abu", "أبي": "abu", "ام": "umm",
                    "أم": "umm"}
_ARABIC_ARTICLE = frozenset({"ال"})
_MIN_GLUED_REST = 4


@dataclass
class NameRules:
    articles: frozenset[str]
    sun_articles: frozenset[str]
    patronymics: frozenset[str]
    latin_particles: frozenset[str]
    titles: frozenset[str]
    titles_also_names: frozenset[str]
    org_generic: frozenset[str]
    prefixes: dict[str, str] = field(default_factory=dict)       # written → canonical
    variants: dict[str, str] = field(default_factory=dict)       # spelling → canonical
    suffixes: frozenset[str] = frozenset()
    trade_words: frozenset[str] = frozenset()
    nisbas: frozenset[str] = frozenset()

    @classmethod
    def load(cls) -> NameRules:
        data = load_resource("names")
        articles = data["particles"]["article"]
        plain = {"al", "el", "ul"}
        prefixes = {w: canon for canon, written in data["compound_prefixes"].items() for w in written}
        variants = {fold_arabic(w): group[0] for group in data["variants"] for w in group}
        return cls(
            articles=frozenset(plain),
            sun_articles=frozenset(a for a in articles if a not in plain),
            patronymics=frozenset(data["particles"]["patronymic"]) | _ARABIC_PATRONYMIC,
            latin_particles=frozenset(data["particles"]["latin"]),
            titles=frozenset(data["titles"]),
            titles_also_names=frozenset(data["titles_also_names"]),
            org_generic=frozenset(data["org_generic"]),
            prefixes=prefixes,
            variants=variants,
            suffixes=frozenset(fold_arabic(w) for w in data["suffixes"]),
            trade_words=frozenset(data["trade_words"]),
            nisbas=frozenset(data["nisbas"]),
        )

    def is_article(self, word: str, following: str) -> bool:
        """An Arabic article: al/el always; an assimilated one (ash-shami, ad-din) before its letter."""
        if word in self.articles or word in _ARABIC_ARTICLE:
            return bool(following)
        return word in self.sun_articles and len(following) > 1 and following.startswith(word[1:])

    def is_patronymic(self, word: str) -> bool:
        return word in self.patronymics or word in self.latin_particles

    def is_particle(self, word: str) -> bool:
        return word in self.articles or word in self.patronymics or word in self.latin_particles

    def is_title(self, word: str) -> bool:
        return word in self.titles

    def title_is_also_name(self, word: str) -> bool:
        return word in self.titles_also_names

    def is_org_generic(self, word: str) -> bool:
        """A legal form or filler word of organisation names, also when misspelt (COMPAYN)."""
        if word in self.org_generic:
            return True
        if len(word) < 6:
            return False
        return any(len(g) >= 6 and OSA.distance(word, g, score_cutoff=1) <= 1 for g in self.org_generic)

    def compound_prefix(self, word: str) -> str | None:
        """The canonical prefix when ``word`` starts a two-word name (abdul → abd, abou → abu)."""
        return self.prefixes.get(word) or _ARABIC_COMPOUND.get(word)

    def split_glued_prefix(self, word: str) -> str | None:
        """abdurrahman → abdrahman, abouhamza → abuhamza: the prefix in its canonical form."""
        if word in self.variants:
            return None
        for length in (5, 4, 3):
            head = word[:length]
            canon = self.prefixes.get(head)
            if canon and len(word) - length >= _MIN_GLUED_REST and canon in ("abd", "abu"):
                return canon + word[length:]
        return None

    def is_suffix(self, word: str) -> bool:
        """ullah, uddin and the like: the end of the word before."""
        return word in self.suffixes

    def is_trade_word(self, word: str) -> bool:
        """A word of business names that says what trade it is in (bakery, exchange, shipping)."""
        return word in self.trade_words

    def is_addition(self, word: str) -> bool:
        """A word a person's name gains that listings often leave out: a kunya (abu + name,
        one word after analysis), a nisba (masri, yemeni) or a title kept as a word (Hajji)."""
        return word in self.nisbas or word in self.titles or (word.startswith("abu") and len(word) > 4)

    def canonical(self, word: str) -> str | None:
        """The first spelling of the word's variant group, if it has one."""
        return self.variants.get(word)


RULES = NameRules.load()
