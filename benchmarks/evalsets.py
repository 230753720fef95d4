"""Evaluation sets for the screening benchmark, built by code from the listed entities.

Every set is deterministic for a given seed and split into a development half (where
thresholds are chosen and the engine may be tuned) and a test half (where figures are
reported), by a stable hash of the entity id (positives) or of the query (innocents), so
that one entity's queries never sit on both sides. A positive also accepts the same person's
other listing (``duplicates``: UN and OFAC list many of the same people).

Positive sets (the query should find ``entity_id``):

- ``leave-one-alias-out``: one Latin-script alias of a Person/Organization with at least
  two distinct Latin names, screened against an index where that alias was removed. The
  held-out alias has two words at least for a person and four letters at least, and one of
  its words nearly equals a word of the other names (``linked``): about half the listed
  aliases are nicknames, acronyms or other names that share nothing with the rest, which
  no name matcher could find (their count is printed);
- ``cross-script``: every non-Latin name of a UN entity, against an index holding only the
  Latin-script names of every entity (what a romanising matcher has to bridge);
- ``typos``: a Latin alias with one or two random edits (letters deleted, inserted, swapped
  or replaced; a middle name dropped; given and family name swapped), against the full index.

Negative set (no query should alert):

- ``innocents``: faker names in many locales and scripts, plus hard negatives recombined
  from the given and family names of listed persons of Arabic-origin names, minus any
  combination whose words equal a listed name's words.
"""

from __future__ import annotations

import hashlib
import random
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TypeVar

from rapidfuzz.distance import Levenshtein

from jointwatch.names import AnalyzedName, analyze_name
from jointwatch.names.analyze import natural_order
from jointwatch.screening.model import Listed

SEED = 20260227
T = TypeVar("T")
POSITIVE_SCHEMATA = frozenset({"Person", "Organization"})

LOO = "leave-one-alias-out"
CROSS_SCRIPT = "cross-script"
TYPOS = "typos"
INNOCENTS = "innocents"
POSITIVE_SETS = (LOO, CROSS_SCRIPT, TYPOS)

# Faker locales for innocent travellers: many scripts (Latin, Cyrillic, Arabic, Persian,
# Devanagari, Bengali, Tamil, Han, Hangul, Kana, Hebrew, Greek, Armenian, Georgian, Thai),
# and Latin-script names from regions that share name parts with the lists (Turkey,
# Indonesia, Nigeria, Pakistan's English locale, Azerbaijan, Uzbekistan).
FAKER_LOCALES = (
    "en_US", "en_GB", "en_IN", "en_NG", "en_PK", "fr_FR", "de_DE", "es_ES", "es_MX", "it_IT",
    "pt_BR", "pl_PL", "nl_NL", "sv_SE", "cs_CZ", "ro_RO", "hu_HU", "tr_TR", "az_AZ", "uz_UZ",
    "ru_RU", "uk_UA", "bg_BG", "ar_AA", "ar_SA", "ar_EG", "ar_JO", "fa_IR", "ur_PK", "hi_IN",
    "bn_BD", "ta_IN", "ne_NP", "zh_CN", "zh_TW", "ja_JP", "ko_KR", "he_IL", "el_GR", "hy_AM",
    "ka_GE", "th_TH", "vi_VN", "id_ID", "fil_PH", "yo_NG", "ha_NG", "sw",
)
# Locales whose names are written family name first with no space (王伟, 김민준, 佐藤花子).
FAMILY_FIRST_UNSPACED = frozenset({"zh_CN", "zh_TW", "ja_JP", "ko_KR"})

# Countries whose listed persons mostly bear Arabic-origin names: their name parts make
# the hard negatives (an innocent "Mohammed Ali Hassan" is the screener's daily trouble).
ARABIC_NAME_COUNTRIES = frozenset({
    "af", "ae", "bh", "dz", "eg", "iq", "ir", "jo", "kw", "lb", "ly", "ma", "mr", "om", "pk",
    "ps", "qa", "sa", "sd", "so", "sy", "tn", "ye",
})
COMPOUND_PREFIXES = frozenset({"abd", "abdul", "abdel", "abdal", "abu", "abou", "abo"})
_WORD_SPLIT = re.compile(r"[\s,]+")
# Leave-one-alias-out keeps an alias only when one of its words nearly equals a word of the
# entity's other names; these words do not count (they link unrelated names).
LINK_SIMILARITY = 0.75
LINK_STOPWORDS = frozenset({
    "the", "and", "for", "abu", "abd", "bin", "ibn", "ben", "bint", "ould", "von", "van", "der",
    "del", "los", "las", "company", "companies", "corporation", "corp", "limited", "ltd", "llc",
    "inc", "jsc", "pjsc", "ojsc", "cjsc", "joint", "stock", "trading", "group", "international",
    "holding", "holdings", "industries", "industrial", "enterprise", "enterprises", "bank",
    "shipping", "services", "service", "general", "national", "organization", "organisation",
    "foundation", "association", "society", "fze", "fzco", "fzc", "gmbh", "sarl", "sas", "spa",
    "bhd", "sdn", "pte", "pvt", "private", "public", "import", "export", "development",
})


@dataclass(frozen=True)
class EvalQuery:
    """One query of a set; ``entity_id`` is None for innocents."""

    name: str
    schema: str
    split: str                      # "dev" or "test"
    entity_id: str | None = None
    note: str = ""                  # what was done to it (typos: the edits)
    also: frozenset[str] = frozenset()  # the same person's other listings (UN and OFAC)


@dataclass
class EvalSet:
    """Queries, and the listed entities of the index they are screened against
    (``entities`` None: the full index)."""

    name: str
    queries: list[EvalQuery]
    entities: list[Listed] | None = None
    description: str = ""
    stats: dict[str, int] = field(default_factory=dict)

    def split(self, which: str) -> list[EvalQuery]:
        return [q for q in self.queries if q.split == which]


# -- deterministic helpers --------------------------------------------------------------

def stable_hash(*parts: object) -> int:
    raw = "\x1f".join(str(p) for p in parts).encode("utf-8")
    return int.from_bytes(hashlib.blake2b(raw, digest_size=8).digest(), "big")


def split_of(key: str) -> str:
    """dev or test, by a hash that does not depend on the seed: the halves stay put."""
    return "dev" if stable_hash("split", key) % 2 == 0 else "test"


def sample(items: Sequence[T], key: Callable[[T], str], cap: int | None, seed: int) -> list[T]:
    """At most ``cap`` items, chosen by hash (so adding items elsewhere moves few choices)."""
    ordered = sorted(items, key=lambda it: stable_hash(seed, key(it)))
    return ordered if cap is None else ordered[:cap]


def is_latin(scripts: frozenset[str]) -> bool:
    return scripts <= {"Latin"}


def latin_names(entity: Listed) -> list[AnalyzedName]:
    return [n for n in entity.names if is_latin(n.scripts)]


def words_of(name: AnalyzedName) -> tuple[str, ...]:
    """A name as the sorted multiset of its canonical words (Muhammad = Mohamed)."""
    return tuple(sorted(t.canonical for t in name.tokens))


def duplicates(listed: list[Listed]) -> dict[str, frozenset[str]]:
    """entity id → other entities of the same schema sharing a full name of 2+ words.

    The UN and OFAC list many of the same people; finding the person's other listing is a
    hit, not a false match (and a namesake with the very same name can't be told apart)."""
    owners: dict[tuple[str, tuple[str, ...]], set[str]] = defaultdict(set)
    for entity in listed:
        for name in entity.names:
            if len(name.tokens) >= 2:
                owners[(entity.schema, words_of(name))].add(entity.entity_id)
    out: dict[str, set[str]] = defaultdict(set)
    for ids in owners.values():
        if len(ids) > 1:
            for eid in ids:
                out[eid] |= ids - {eid}
    return {eid: frozenset(others) for eid, others in out.items()}


def without_names(entity: Listed, keep: Callable[[AnalyzedName], bool]) -> Listed | None:
    """The entity with only the names ``keep`` accepts (None when none is left)."""
    names = [n for n in entity.names if keep(n)]
    if not names:
        return None
    return replace(entity, names=names, caption=names[0].original)


# -- positive sets ----------------------------------------------------------------------

def screenable(name: AnalyzedName, schema: str) -> bool:
    """A name one could screen by: a person's has two words at least (a lone nickname such as
    "The Surgeon" shares nothing with the other aliases), and any name four letters."""
    letters = sum(len(t.text) for t in name.tokens)
    return letters >= 4 and (schema != "Person" or len(name.tokens) >= 2)


def _plain_words(name: str) -> set[str]:
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return {w for w in re.split(r"[^a-z0-9]+", folded) if len(w) >= 3 and w not in LINK_STOPWORDS}


def linked(alias: AnalyzedName, others: Iterable[AnalyzedName]) -> bool:
    """Whether a name matcher could link the alias to the other names at all: some word
    (three letters or more, not a particle or legal form) nearly equal to one of theirs.

    Judged on plain folded words with rapidfuzz, not by the engine under test, so that the
    set does not bend toward it. "KOMID" for "KOREA MINING DEVELOPMENT TRADING CORPORATION"
    or the nickname "El Sapo" for "MENDOZA GAYTAN, Gonzalo" are not linked: no matcher
    working from names could find them, and they would only cap every system's recall."""
    mine = _plain_words(alias.original)
    theirs = set().union(*(_plain_words(n.original) for n in others))
    return any(Levenshtein.normalized_similarity(a, b) >= LINK_SIMILARITY for a in mine for b in theirs)


def _not_in(words: set[tuple[str, ...]]) -> Callable[[AnalyzedName], bool]:
    return lambda name: words_of(name) not in words


def leave_one_alias_out(listed: list[Listed], cap: int | None, seed: int,
                        dups: dict[str, frozenset[str]]) -> EvalSet:
    """The held-out alias leaves the entity and its other listings, in every spelling
    with the same canonical words (else "Mohamed X" would find its own "Muhammad X")."""
    def aliases_of(entity: Listed) -> list[AnalyzedName]:
        names = latin_names(entity)
        return [n for n in names if screenable(n, entity.schema)
                and linked(n, [o for o in names if words_of(o) != words_of(n)])]

    multi = [e for e in listed if e.schema in POSITIVE_SCHEMATA and len(latin_names(e)) >= 2]
    eligible = [e for e in multi if aliases_of(e)]
    chosen = sample(eligible, lambda e: e.entity_id, cap, seed)
    held: dict[str, set[tuple[str, ...]]] = defaultdict(set)
    queries = []
    for entity in chosen:
        aliases = aliases_of(entity)
        alias = aliases[stable_hash(seed, "alias", entity.entity_id) % len(aliases)]
        also = dups.get(entity.entity_id, frozenset())
        for eid in (entity.entity_id, *also):
            held[eid].add(words_of(alias))
        queries.append(EvalQuery(alias.original, entity.schema, split_of(entity.entity_id),
                                 entity.entity_id, also=also))
    entities = []
    for entity in listed:
        gone = held.get(entity.entity_id)
        kept = entity if gone is None else without_names(entity, _not_in(gone))
        if kept is not None:
            entities.append(kept)
    return EvalSet(LOO, queries, entities,
                   "a held-out Latin alias vs. an index without it",
                   {"entities with 2+ Latin names": len(multi),
                    "with a screenable alias linked to the others": len(eligible)})


def cross_script(listed: list[Listed], cap: int | None, seed: int,
                 dups: dict[str, frozenset[str]]) -> EvalSet:
    """Non-Latin names of UN entities against the Latin-only names of every entity."""
    queries = []
    for entity in listed:
        if entity.source != "un_sc" or entity.schema not in POSITIVE_SCHEMATA:
            continue
        if not latin_names(entity):
            continue  # nothing to find it by in a Latin-only index
        for name in entity.names:
            if not is_latin(name.scripts):
                queries.append(EvalQuery(name.original, entity.schema, split_of(entity.entity_id),
                                         entity.entity_id, "+".join(sorted(name.scripts)),
                                         dups.get(entity.entity_id, frozenset())))
    total = len(queries)
    queries = sample(queries, lambda q: f"{q.entity_id}|{q.name}", cap, seed)
    entities = [e for e in (without_names(x, lambda n: is_latin(n.scripts)) for x in listed) if e]
    return EvalSet(CROSS_SCRIPT, queries, entities,
                   "UN original-script names vs. an index of Latin names only",
                   {"non-Latin UN names": total})


def _edit_letters(word: str, rng: random.Random) -> str:
    """One letter deleted, inserted, swapped with its neighbour or replaced."""
    letters = [i for i, c in enumerate(word) if c.isalpha()]
    if not letters:
        return word
    i = rng.choice(letters)
    new = rng.choice("abcdefghijklmnopqrstuvwxyz")
    new = new.upper() if word[i].isupper() else new
    op = rng.choice(("delete", "insert", "swap", "substitute"))
    if op == "delete" and len(letters) > 2:
        return word[:i] + word[i + 1:]
    if op == "swap" and i + 1 < len(word) and word[i + 1].isalpha() and word[i + 1] != word[i]:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if op == "insert":
        return word[:i] + new + word[i:]
    # substitute (also the fallback of a delete or swap that could not apply)
    while new.lower() == word[i].lower():
        new = rng.choice("abcdefghijklmnopqrstuvwxyz")
        new = new.upper() if word[i].isupper() else new
    return word[:i] + new + word[i + 1:]


def misspell(name: str, schema: str, rng: random.Random, edits: int) -> tuple[str, list[str]]:
    """``name`` with ``edits`` random edits; word-level ones only for persons."""
    words = [w for w in _WORD_SPLIT.split(natural_order(name)) if w]
    done: list[str] = []
    for _ in range(edits):
        ops = ["letters"] * 4
        if schema == "Person" and len(words) >= 3:
            ops.append("drop-middle")
        if schema == "Person" and len(words) >= 2:
            ops.append("swap-order")
        op = rng.choice(ops)
        if op == "drop-middle":
            del words[rng.randrange(1, len(words) - 1)]
        elif op == "swap-order":
            words = [*words[1:], words[0]] if rng.random() < 0.5 else [words[-1], *words[:-1]]
        else:
            candidates = [i for i, w in enumerate(words) if sum(c.isalpha() for c in w) >= 2]
            if not candidates:
                continue
            i = rng.choice(candidates)
            words[i] = _edit_letters(words[i], rng)
        done.append(op)
    return " ".join(words), done


def typos(listed: list[Listed], cap: int | None, seed: int, dups: dict[str, frozenset[str]]) -> EvalSet:
    eligible = [e for e in listed if e.schema in POSITIVE_SCHEMATA and latin_names(e)]
    chosen = sample(eligible, lambda e: e.entity_id, cap, seed)
    queries = []
    for entity in chosen:
        rng = random.Random(stable_hash(seed, "typo", entity.entity_id))
        aliases = latin_names(entity)
        alias = aliases[rng.randrange(len(aliases))]
        text, ops = misspell(alias.original, entity.schema, rng, rng.choice((1, 2)))
        if sum(c.isalpha() for c in text) < 2 or text == natural_order(alias.original):
            continue
        queries.append(EvalQuery(text, entity.schema, split_of(entity.entity_id), entity.entity_id,
                                 f"{alias.original} ({', '.join(ops)})",
                                 dups.get(entity.entity_id, frozenset())))
    return EvalSet(TYPOS, queries, None, "a Latin alias with 1-2 random edits vs. the full index",
                   {"eligible entities": len(eligible)})


# -- innocents --------------------------------------------------------------------------

def faker_locales() -> list[str]:
    """``FAKER_LOCALES`` that the installed faker has (ur_PK, for one, it has not)."""
    from faker.config import AVAILABLE_LOCALES  # noqa: PLC0415 - a dev dependency

    return [loc for loc in FAKER_LOCALES if loc in AVAILABLE_LOCALES]


def faker_names(count: int, seed: int) -> list[tuple[str, str]]:
    """About ``count`` distinct (name, locale) pairs, spread evenly over the locales faker has."""
    from faker import Faker  # noqa: PLC0415 - a dev dependency, only needed here

    locales = faker_locales()
    per_locale = -(-count // len(locales))
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for locale in locales:
        fake = Faker(locale)
        fake.seed_instance(stable_hash(seed, locale))
        rng = random.Random(stable_hash(seed, "faker", locale))
        made = 0
        for _ in range(per_locale * 4):  # common names repeat: draw more than needed
            if made == per_locale:
                break
            if locale in FAMILY_FIRST_UNSPACED:
                name = f"{fake.last_name()}{fake.first_name()}"
            else:
                parts = [fake.first_name()]
                if rng.random() < 0.25:
                    parts.append(fake.first_name())
                parts.append(fake.last_name())
                name = " ".join(parts)
            if name not in seen:
                seen.add(name)
                out.append((name, locale))
                made += 1
    return out


def listed_word_sets(listed: Iterable[Listed]) -> set[tuple[str, ...]]:
    """Every listed name as a sorted multiset of its canonical words."""
    return {words_of(n) for e in listed for n in e.names}


def _name_parts(raw: str) -> tuple[str, str] | None:
    """(given name, family name) of a listed person's Latin name, compounds kept whole."""
    words = [w for w in _WORD_SPLIT.split(natural_order(raw)) if w]
    if len(words) < 2:
        return None
    given = words[0]
    if given.lower().rstrip("-") in COMPOUND_PREFIXES and len(words) >= 3:
        given = f"{words[0]} {words[1]}"
    family = words[-1]
    if len(family) < 3 or not family.replace("-", "").replace("'", "").isalpha():
        return None
    return given.title(), family.title()


def arabic_name_parts(listed: list[Listed], top: int) -> tuple[list[str], list[str]]:
    """The commonest given and family names of listed persons with Arabic-origin names."""
    given: Counter[str] = Counter()
    family: Counter[str] = Counter()
    for entity in listed:
        if entity.schema != "Person":
            continue
        arabic = any("Arabic" in n.scripts for n in entity.names)
        if not arabic and not entity.countries & ARABIC_NAME_COUNTRIES:
            continue
        for name in latin_names(entity):
            parts = _name_parts(name.original)
            if parts:
                given[parts[0]] += 1
                family[parts[1]] += 1
    return [g for g, _ in given.most_common(top)], [f for f, _ in family.most_common(top * 2)]


def hard_negatives(listed: list[Listed], count: int, seed: int) -> list[str]:
    """Recombined Arabic-origin name parts that are no listed name's words."""
    given, family = arabic_name_parts(listed, top=150)
    taken = listed_word_sets(listed)
    rng = random.Random(stable_hash(seed, "hard"))
    out: list[str] = []
    seen: set[str] = set()
    for _ in range(count * 20):
        if len(out) == count:
            break
        parts = [rng.choice(given)]
        if rng.random() < 0.5:  # a patronymic-style second given name
            parts.append(rng.choice(given))
        parts.append(rng.choice(family))
        name = " ".join(parts)
        words = words_of(analyze_name(name, "Person"))
        if name in seen or len(words) < 2 or words in taken:
            continue
        seen.add(name)
        out.append(name)
    return out


def innocents(listed: list[Listed], count: int, seed: int, hard_share: float = 0.3) -> EvalSet:
    hard = hard_negatives(listed, round(count * hard_share), seed)
    fakes = faker_names(count - len(hard), seed)
    hard_set = set(hard)
    queries = [EvalQuery(n, "Person", split_of(n), None, "hard") for n in hard]
    queries += [EvalQuery(n, "Person", split_of(n), None, loc) for n, loc in fakes if n not in hard_set]
    return EvalSet(INNOCENTS, queries, None,
                   "faker names in many locales + recombined Arabic-origin name parts",
                   {"hard negatives": len(hard), "faker names": len(fakes),
                    "faker locales": len({loc for _, loc in fakes})})


def build_sets(listed: list[Listed], cap: int | None = 1500, innocent_count: int = 8000,
               seed: int = SEED) -> dict[str, EvalSet]:
    dups = duplicates(listed)
    return {
        LOO: leave_one_alias_out(listed, cap, seed, dups),
        CROSS_SCRIPT: cross_script(listed, cap, seed, dups),
        TYPOS: typos(listed, cap, seed, dups),
        INNOCENTS: innocents(listed, innocent_count, seed),
    }
