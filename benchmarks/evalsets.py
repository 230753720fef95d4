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
  or replaced; a middle name dropped; given and family name swapped), against the full index;
- ``cross-list cross-script``: the original-script names of UN entities against an index of
  the OFAC entities only, the truth being the OFAC listing that shares a passport or ID
  number with the UN one (``list_links``; never linked by name). Another list's
  romanisation, where ``cross-script`` compares with the UN's own Latin names;
- ``cross-list Latin``: OFAC's Latin spellings of those linked entities against an index of
  the UN entities only, minus spellings with the same words as a UN name;
- ``longer queries``: a listed Arabic-origin person's main Latin name with one or two
  additions the lists omit (a patronymic chain, a nisba, a kunya, a title), full index;
- ``shorter queries``: a listed person's 3+ word Latin name cut to given + family name.

Negative sets (no query should alert):

- ``innocents``: faker names in many locales and scripts, plus hard negatives recombined
  from the given and family names of listed persons of Arabic-origin names, minus any
  combination whose words equal a listed name's words. Its dev half chooses the thresholds
  at 1% and 0.1% false alerts;
- ``innocent businesses``: faker company names in many locales plus small-business names
  (a faker name, a generic trade word, a legal form: "Bakkerij Smit BV"), as Company;
- ``innocent persons vs organisations``: innocent persons' names screened as Organization,
  as the financing trace does with a holder of unknown type.
"""

from __future__ import annotations

import hashlib
import random
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
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
CROSS_LIST_SCRIPT = "cross-list cross-script"
CROSS_LIST_LATIN = "cross-list Latin"
LONGER = "longer queries"
SHORTER = "shorter queries"
INNOCENTS = "innocents"
INNOCENT_BUSINESSES = "innocent businesses"
PERSONS_AS_ORGS = "innocent persons vs organisations"
POSITIVE_SETS = (LOO, CROSS_SCRIPT, TYPOS, CROSS_LIST_SCRIPT, CROSS_LIST_LATIN, LONGER, SHORTER)
# Negative sets besides ``innocents``: reported as alert rates at the thresholds the dev
# innocents choose (they choose none themselves).
NEGATIVE_SETS = (INNOCENT_BUSINESSES, PERSONS_AS_ORGS)

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


def plain_words_of(name: AnalyzedName) -> tuple[str, ...]:
    """A name as the sorted multiset of its written words, folded to ASCII lower case: what
    "the same spelling" means independently of the analyser under test."""
    folded = unicodedata.normalize("NFKD", name.original).encode("ascii", "ignore").decode().lower()
    return tuple(sorted(w for w in re.split(r"[^a-z0-9]+", folded) if w))


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


# -- cross-list sets: one person on both lists, linked by a document number ------------

# A UN number sometimes carries its description in front ("CAR diplomatic passport no.
# D00000898" → CARDIPLOMATICPASSPORTNOD00000898 once normalised); OFAC's is the bare
# number. Such a UN number links when its tail is an OFAC number this long at least, with
# only letters in front (shorter tails would link strangers).
MIN_TAIL_IDENTIFIER = 7


@dataclass(frozen=True)
class ListLink:
    """A UN listing and an OFAC listing that share a document number."""

    un: Listed
    ofac: Listed
    numbers: frozenset[str]
    by_tail: bool                   # linked through a UN number with words in front


@dataclass
class ListLinks:
    links: list[ListLink]
    stats: dict[str, int]


def _tails(number: str) -> Iterator[str]:
    """The number, then its tails after a letters-only head ("CARPASSPORTNOD00000898")."""
    yield number
    for cut in range(1, len(number) - MIN_TAIL_IDENTIFIER + 1):
        if not number[cut - 1].isalpha():
            return
        tail = number[cut:]
        if any(c.isdigit() for c in tail):
            yield tail


def list_links(listed: list[Listed]) -> ListLinks:
    """UN–OFAC pairs of one person or organisation, linked by a shared passport or ID number
    (never by name: the name is what the sets test).

    A pair whose names share no word at all (judged by ``linked``, plain rapidfuzz) is
    dropped: a number on two different people is a data error (UN IRi.003 "AZIM AGHAJANI"
    and OFAC 13106 "TABATABAEI, Sayyid Ali Akbar" share two passport numbers)."""
    by_number: dict[str, set[int]] = defaultdict(set)
    ofac = [e for e in listed if e.source == "us_ofac_sdn" and e.schema in POSITIVE_SCHEMATA]
    for i, entity in enumerate(ofac):
        for number in entity.identifiers:
            by_number[number].add(i)
    links: list[ListLink] = []
    unrelated = 0
    for entity in listed:
        if entity.source != "un_sc" or entity.schema not in POSITIVE_SCHEMATA:
            continue
        found: dict[int, tuple[set[str], bool]] = {}
        for number in entity.identifiers:
            for tail in _tails(number):
                for i in by_number.get(tail, ()):
                    numbers, by_tail = found.setdefault(i, (set(), True))
                    numbers.add(tail)
                    found[i] = (numbers, by_tail and tail != number)
        for i, (numbers, by_tail) in sorted(found.items()):
            other = ofac[i]
            if other.schema != entity.schema:
                continue
            if not any(linked(n, other.names) for n in entity.names):
                unrelated += 1
                continue
            links.append(ListLink(entity, other, frozenset(numbers), by_tail))
    un_ids = Counter(link.un.entity_id for link in links)
    return ListLinks(links, {
        "UN–OFAC pairs linked by a shared document number": len(links),
        "of which through a UN number with words in front": sum(1 for x in links if x.by_tail),
        "UN entities linked": len(un_ids),
        "UN entities linked to 2+ OFAC entities": sum(1 for n in un_ids.values() if n > 1),
        "pairs dropped, names sharing no word (data error)": unrelated,
    })


def _also(ids: Iterable[str], dups: dict[str, frozenset[str]]) -> frozenset[str]:
    """These entities and their other listings."""
    out: set[str] = set()
    for eid in ids:
        out.add(eid)
        out |= dups.get(eid, frozenset())
    return frozenset(out)


def cross_list_script(listed: list[Listed], cap: int | None, seed: int,
                      dups: dict[str, frozenset[str]], links: ListLinks) -> EvalSet:
    """UN original-script names against an index of OFAC entities only: another list's
    romanisation, not the UN's own Latin names made from the same source."""
    by_un: dict[str, list[ListLink]] = defaultdict(list)
    for link in links.links:
        by_un[link.un.entity_id].append(link)
    queries = []
    ofac_ids_all = {e.entity_id for e in listed if e.source == "us_ofac_sdn"}
    for un_id, mine in by_un.items():
        ofac_ids = sorted(x.ofac.entity_id for x in mine)
        also = (_also(ofac_ids, dups) & ofac_ids_all) - {ofac_ids[0]}
        for name in mine[0].un.names:
            if not is_latin(name.scripts):
                queries.append(EvalQuery(name.original, mine[0].un.schema, split_of(un_id), ofac_ids[0],
                                         f"UN {mine[0].un.reference} → OFAC "
                                         + ", ".join(x.ofac.reference for x in mine), also))
    total = len(queries)
    queries = sample(queries, lambda q: f"{q.entity_id}|{q.name}", cap, seed)
    entities = [e for e in listed if e.source == "us_ofac_sdn"]
    return EvalSet(CROSS_LIST_SCRIPT, queries, entities,
                   "UN original-script names vs. an index of the OFAC list only, the true entity "
                   "the OFAC listing sharing a passport or ID number",
                   {**links.stats, "non-Latin names of the linked UN entities": total})


def cross_list_latin(listed: list[Listed], cap: int | None, seed: int,
                     dups: dict[str, frozenset[str]], links: ListLinks) -> EvalSet:
    """OFAC's Latin spellings against an index of UN entities only. A spelling whose words
    equal one of the UN entity's names proves nothing and is left out."""
    un_ids = {e.entity_id for e in listed if e.source == "un_sc"}
    un_of: dict[str, set[str]] = defaultdict(set)
    for link in links.links:
        un_of[link.ofac.entity_id].add(link.un.entity_id)
    queries: dict[tuple[str, str], EvalQuery] = {}
    identical = unlinked = 0
    for link in links.links:
        theirs = {words_of(n) for n in link.un.names} | {plain_words_of(n) for n in link.un.names}
        for name in latin_names(link.ofac):
            if not screenable(name, link.ofac.schema):
                continue
            if words_of(name) in theirs or plain_words_of(name) in theirs:
                identical += 1
                continue
            if not linked(name, link.un.names):  # a nickname ("THE CHECHEN, Abu Jihad")
                unlinked += 1
                continue
            also = (_also(un_of[link.ofac.entity_id], dups) & un_ids) - {link.un.entity_id}
            queries.setdefault((name.original, link.un.entity_id), EvalQuery(
                name.original, link.ofac.schema, split_of(link.un.entity_id), link.un.entity_id,
                f"OFAC {link.ofac.reference} → UN {link.un.reference}", also))
    chosen = sample(list(queries.values()), lambda q: f"{q.entity_id}|{q.name}", cap, seed)
    entities = [e for e in listed if e.source == "un_sc"]
    return EvalSet(CROSS_LIST_LATIN, chosen, entities,
                   "OFAC Latin spellings vs. an index of the UN list only, the true entity the UN "
                   "listing sharing a passport or ID number",
                   {"OFAC Latin names dropped as identical to a UN name": identical,
                    "dropped as sharing no word with the UN names (nicknames)": unlinked,
                    "OFAC Latin names kept": len(queries)})


# -- longer and shorter queries: names as partners write them ---------------------------

# What a bank, an airline or a creditor adds to an Arabic-origin name that the lists omit.
NISBAS = ("al-Masri", "al-Yemeni", "al-Libi", "al-Iraqi", "al-Suri", "al-Tunisi", "al-Jazairi",
          "al-Saudi", "al-Afghani", "al-Pakistani", "al-Urduni", "al-Sudani", "al-Maghribi",
          "al-Filastini", "al-Kuwaiti", "al-Shami", "al-Baghdadi", "al-Hashimi", "al-Qurashi")
KUNYAS = ("Abu Muhammad", "Abu Abdallah", "Abu Omar", "Abu Bakr", "Abu Hamza", "Abu Yusuf",
          "Abu Khalid", "Abu Ali", "Abu Ahmad", "Abu Ibrahim", "Abu Hafs", "Abu Umar")
TITLES = ("Dr.", "Sheikh", "Mullah", "Maulana", "Hajji", "Haji", "Mawlawi", "Qari", "Sayyid", "Imam")
WOMEN_TITLES = ("Dr.", "Hajja", "Sayyida")
PATRONYMIC_LINKS = ("", "", "bin", "ibn")
# Given names of a patronymic chain: common ones, so that the chain adds words, not identity.
PATRONYMIC_NAMES = ("Muhammad", "Mohammed", "Mohamed", "Ahmad", "Ahmed", "Ali", "Hasan", "Hussein",
                    "Abdallah", "Abdullah", "Umar", "Omar", "Yusuf", "Ibrahim", "Khalid", "Mahmud",
                    "Salih", "Rabi", "Said", "Hamid", "Mustafa", "Isa", "Musa", "Sulayman", "Uthman",
                    "Jamal", "Nasir", "Yahya", "Ismail", "Karim", "Rashid", "Salim", "Abbas")
ADDITIONS = ("patronymic", "nisba", "kunya", "title")
# Words that are a title or honorific, not the given name ("Dr. Ayman AL ZAWAHIRI").
TITLE_WORDS = frozenset({"dr", "dr.", "sheikh", "shaykh", "mullah", "mulla", "maulana", "mawlawi",
                         "hajja", "sayyida",
                         "maulavi", "maulvi", "haji", "hajji", "qari", "sayyid", "imam", "mufti",
                         "general", "colonel", "major", "captain"})
# A family name's particle goes with it ("Ayman AL ZAWAHIRI" → family "AL ZAWAHIRI").
FAMILY_PARTICLES = frozenset({"al", "el", "bin", "ibn", "ben", "bint", "abu", "ould", "abd", "abdul",
                              "van", "von", "de", "da", "del", "della", "di", "du", "le", "la"})
# Family name first, no given name to keep first ("KIM KYONG IL"): shortening would be noise.
FAMILY_FIRST_COUNTRIES = frozenset({"kp", "kr", "cn", "tw", "hk", "mo", "vn", "kh", "mm"})


def arabic_origin(entity: Listed) -> bool:
    """A listed person bearing an Arabic-origin name: written in Arabic script too, or
    from those countries only (a "SHANE DOMINIC CRAWFORD" with one of them is not)."""
    return (entity.schema == "Person"
            and (any("Arabic" in n.scripts for n in entity.names)
                 or bool(entity.countries) and entity.countries <= ARABIC_NAME_COUNTRIES))


def _words(raw: str) -> list[str]:
    return [w for w in _WORD_SPLIT.split(natural_order(raw)) if w]


def _given_end(words: list[str]) -> int:
    """Index just past the given name: a title in front is skipped, a compound kept whole."""
    i = 0
    while i < len(words) - 1 and words[i].lower() in TITLE_WORDS:
        i += 1
    if words[i].lower().rstrip("-") in COMPOUND_PREFIXES and i + 2 < len(words):
        return i + 2
    return i + 1


def lengthen(raw: str, rng: random.Random, female: bool = False) -> tuple[str, list[str]]:
    """A listed name with one or two typical additions, chosen by ``rng`` (a woman is
    "bint" her father's, her kunya "Umm ...")."""
    words = _words(raw)
    lowered = {w.lower() for w in words}
    kinds = rng.sample(ADDITIONS, rng.choice((1, 1, 2)))
    done: list[str] = []
    for kind in ADDITIONS:  # a fixed order: patronymic inside, nisba last, then kunya, title
        if kind not in kinds:
            continue
        if kind == "patronymic":
            at = _given_end(words)
            chain = [g for g in rng.sample(PATRONYMIC_NAMES, rng.choice((1, 2)))
                     if g.lower() not in lowered]
            if not chain:
                continue
            link = rng.choice(PATRONYMIC_LINKS)
            link = "bint" if link and female else link
            inserted = " ".join(f"{link} {g}" if link else g for g in chain).split()
            words[at:at] = inserted
            done.append(f"patronymic {' '.join(inserted)}")
        elif kind == "nisba":
            nisba = rng.choice([n for n in NISBAS if n.lower() not in lowered])
            words.append(nisba)
            done.append(f"nisba {nisba}")
        elif kind == "kunya":
            kunya = rng.choice(KUNYAS)
            kunya = kunya.replace("Abu ", "Umm ") if female else kunya
            words[0:0] = kunya.split()
            done.append(f"kunya {kunya}")
        else:
            if words[0].lower() in TITLE_WORDS:
                continue
            title = rng.choice(WOMEN_TITLES if female else TITLES)
            words.insert(0, title)
            done.append(f"title {title}")
    return " ".join(words), done


def shorten(raw: str) -> str | None:
    """Given + family name of a 3+ word name (a compound given name, a family particle kept);
    None when nothing shorter is left."""
    words = _words(raw)
    start = 0
    while start < len(words) - 1 and words[start].lower() in TITLE_WORDS:
        start += 1
    words = words[start:]
    if len(words) < 3:
        return None
    given = words[:_given_end(words)]
    family = words[-2:] if words[-2].lower().rstrip("-") in FAMILY_PARTICLES else words[-1:]
    if len(given) + len(family) >= len(words) or sum(c.isalpha() for c in family[-1]) < 2:
        return None
    return " ".join([*given, *family])


def _name_owners(listed: list[Listed]) -> dict[tuple[str, ...], set[str]]:
    owners: dict[tuple[str, ...], set[str]] = defaultdict(set)
    for entity in listed:
        for name in entity.names:
            owners[words_of(name)].add(entity.entity_id)
    return owners


def _changed_queries(name: str, listed: list[Listed], cap: int | None, seed: int,
                     dups: dict[str, frozenset[str]], eligible: list[Listed],
                     change: Callable[[Listed, random.Random], tuple[str, str] | None],
                     description: str) -> EvalSet:
    """One changed Latin name per eligible entity; a change that makes another entity's
    name (ambiguous) or one of its own (proves nothing) is skipped and counted."""
    owners = _name_owners(listed)
    queries: list[EvalQuery] = []
    ambiguous = own = 0
    for entity in sample(eligible, lambda e: e.entity_id, None, seed):
        if cap is not None and len(queries) == cap:
            break
        rng = random.Random(stable_hash(seed, name, entity.entity_id))
        made = change(entity, rng)
        if made is None:
            continue
        text, note = made
        words = words_of(analyze_name(text, entity.schema))
        also = dups.get(entity.entity_id, frozenset())
        if words in {words_of(n) for n in entity.names}:
            own += 1
            continue
        if owners.get(words, set()) - {entity.entity_id, *also}:
            ambiguous += 1
            continue
        queries.append(EvalQuery(text, entity.schema, split_of(entity.entity_id), entity.entity_id,
                                 note, also))
    return EvalSet(name, queries, None, description,
                   {"eligible persons": len(eligible),
                    "skipped as another entity's name": ambiguous,
                    "skipped as one of its own names": own})


def longer_queries(listed: list[Listed], cap: int | None, seed: int,
                   dups: dict[str, frozenset[str]]) -> EvalSet:
    """A listed Arabic-origin name with a patronymic chain, a nisba, a kunya or a title added.

    The list's main name is lengthened, not an alias: aliases are often a kunya or a
    nickname already ("Imam Darul Tawheed"), and a partner holds the person's real name."""
    def main_name(entity: Listed) -> AnalyzedName | None:
        return next((n for n in latin_names(entity) if n.original == entity.caption
                     and screenable(n, entity.schema) and len(_words(n.original)) <= 4), None)

    def change(entity: Listed, rng: random.Random) -> tuple[str, str] | None:
        name = main_name(entity)
        if name is None:
            return None
        text, done = lengthen(name.original, rng, entity.gender == "female")
        return (text, f"{name.original} + {'; '.join(done)}") if done else None

    eligible = [e for e in listed if arabic_origin(e) and main_name(e)]
    return _changed_queries(LONGER, listed, cap, seed, dups, eligible, change,
                            "a listed Arabic-origin person's Latin name with 1–2 additions "
                            "(patronymic chain, nisba, kunya, title) vs. the full index")


def shorter_queries(listed: list[Listed], cap: int | None, seed: int,
                    dups: dict[str, frozenset[str]]) -> EvalSet:
    """A listed person's 3+ word Latin name reduced to given + family name."""
    def shorts(entity: Listed) -> list[tuple[str, str]]:
        out = []
        for n in latin_names(entity):
            short = shorten(n.original)
            if short:
                out.append((short, n.original))
        return out

    def change(entity: Listed, rng: random.Random) -> tuple[str, str] | None:
        options = shorts(entity)
        short, original = options[rng.randrange(len(options))]
        return short, original

    eligible = [e for e in listed if e.schema == "Person" and not e.countries & FAMILY_FIRST_COUNTRIES
                and shorts(e)]
    return _changed_queries(SHORTER, listed, cap, seed, dups, eligible, change,
                            "a listed person's 3+ word Latin name reduced to given + family name "
                            "(family-name-first countries left out) vs. the full index")


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


# -- innocent businesses, and persons screened as organisations ------------------------

# Faker locales with a company provider of their own (ar_EG, for one, falls back to en_US).
COMPANY_LOCALES = (
    "en_US", "en_GB", "en_IN", "en_PK", "en_NG", "de_DE", "de_AT", "nl_NL", "nl_BE", "fr_FR",
    "fr_CH", "es_ES", "es_MX", "it_IT", "pt_BR", "pt_PT", "pl_PL", "cs_CZ", "hu_HU", "ro_RO",
    "sv_SE", "da_DK", "tr_TR", "az_AZ", "ar_AA", "ar_SA", "fa_IR", "ru_RU", "uk_UA", "bg_BG",
    "el_GR", "he_IL", "hi_IN", "id_ID", "ms_MY", "fil_PH", "vi_VN", "th_TH", "zh_CN", "zh_TW",
    "ja_JP", "ko_KR", "ka_GE", "hy_AM", "bn_BD",
)
# Latin-script locales whose first and last names make the generated shop names.
TRADE_NAME_LOCALES = ("en_US", "en_GB", "nl_NL", "de_DE", "fr_FR", "es_ES", "it_IT", "pt_BR", "pl_PL",
                      "tr_TR", "az_AZ", "id_ID", "en_PK", "en_NG", "en_IN", "sv_SE", "ro_RO")
# Generic words of a business name: what a bakery or an exchange house is called anywhere.
TRADE_WORDS = (
    "Bakery", "Bakkerij", "Bäckerei", "Boulangerie", "Panadería", "Sweets", "Trading", "General Trading",
    "Exchange", "Money Exchange", "Group", "Holding", "Holdings", "Import Export", "Shipping",
    "Construction", "Travel", "Logistics", "Textiles", "Electronics", "Pharmacy", "Consulting",
    "Foods", "Auto Parts", "Real Estate", "Transport", "Supermarket", "Restaurant", "Café",
    "Jewellers", "Fisheries", "Agro", "Petroleum", "Marine Services", "Tours", "Investments",
    "Industries", "Technologies", "Engineering", "Bouwbedrijf", "Handelsonderneming", "Transporte",
)
# Trade words written before the owner's name ("Bakkerij Smit", "Boulangerie Martin").
TRADE_FIRST = frozenset({"Bakkerij", "Bäckerei", "Boulangerie", "Panadería", "Bouwbedrijf",
                         "Handelsonderneming", "Transporte"})
LEGAL_FORMS = ("BV", "B.V.", "NV", "GmbH", "LLC", "Ltd", "Limited", "SARL", "S.A.", "S.r.l.",
               "Sdn Bhd", "LLP", "JSC", "FZE", "FZCO", "Pvt Ltd", "Inc.", "Co.", "AG", "SAS",
               "Sp. z o.o.", "A.Ş.", "PT", "OOO", "& Sons", "& Co", "")
# The issue's examples: an innocent creditor, and account holders a financing trace designated.
ISSUE_BUSINESSES = ("Bakkerij Smit BV",)
ISSUE_PERSONS = ("Sara Nasser", "Ali Nasser", "Tariq Garcia")


def company_locales() -> list[str]:
    from faker.config import AVAILABLE_LOCALES  # noqa: PLC0415 - a dev dependency

    return [loc for loc in COMPANY_LOCALES if loc in AVAILABLE_LOCALES]


def faker_companies(count: int, seed: int) -> list[tuple[str, str]]:
    """About ``count`` distinct (company name, locale) pairs from faker's company providers."""
    from faker import Faker  # noqa: PLC0415 - a dev dependency

    locales = company_locales()
    per_locale = -(-count // len(locales))
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for locale in locales:
        fake = Faker(locale)
        fake.seed_instance(stable_hash(seed, "company", locale))
        made = 0
        for _ in range(per_locale * 4):
            if made == per_locale:
                break
            name = fake.company()
            if name not in seen:
                seen.add(name)
                out.append((name, locale))
                made += 1
    return out


def trade_names(count: int, seed: int) -> list[str]:
    """"Bakkerij Smit BV", "Yilmaz General Trading LLC": a person's name, a generic trade
    word and a legal form, as small businesses are named."""
    from faker import Faker  # noqa: PLC0415 - a dev dependency
    from faker.config import AVAILABLE_LOCALES  # noqa: PLC0415

    rng = random.Random(stable_hash(seed, "trade"))
    fakers = []
    for locale in (loc for loc in TRADE_NAME_LOCALES if loc in AVAILABLE_LOCALES):
        fake = Faker(locale)
        fake.seed_instance(stable_hash(seed, "trade", locale))
        fakers.append(fake)
    out: list[str] = []
    seen: set[str] = set()
    for _ in range(count * 4):
        if len(out) == count:
            break
        fake = rng.choice(fakers)
        person = fake.last_name() if rng.random() < 0.7 else fake.first_name()
        trade = rng.choice(TRADE_WORDS)
        form = rng.choice(LEGAL_FORMS)
        parts = [trade, person] if trade in TRADE_FIRST else [person, trade]
        name = " ".join([*parts, form]).strip()
        if name not in seen:
            seen.add(name)
            out.append(name)
    return out


def _not_listed(names: Iterable[tuple[str, str]], schema: str,
                taken: set[tuple[str, ...]]) -> tuple[list[tuple[str, str]], int]:
    """The (name, note) pairs whose words are no listed name's words, and how many were not."""
    kept, dropped = [], 0
    for name, note in names:
        words = words_of(analyze_name(name, schema))
        if not words or words in taken:
            dropped += 1
        else:
            kept.append((name, note))
    return kept, dropped


def _negatives(name: str, schema: str, pairs: list[tuple[str, str]], forced: Sequence[str],
               listed: list[Listed]) -> tuple[list[EvalQuery], int]:
    """Queries of a negative set; the issue's own examples always sit in the test half."""
    kept, dropped = _not_listed(pairs, schema, listed_word_sets(listed))
    queries = [EvalQuery(n, schema, "test", None, "issue 15") for n in forced]
    seen = set(forced)
    for text, note in kept:
        if text not in seen:
            seen.add(text)
            queries.append(EvalQuery(text, schema, split_of(f"{name}|{text}"), None, note))
    return queries, dropped


def innocent_businesses(listed: list[Listed], count: int, seed: int) -> EvalSet:
    """Company names of many locales, and small-business names, screened as companies."""
    generated = trade_names(count // 2, seed)
    companies = faker_companies(count - len(generated), seed)
    pairs = [(n, "trade name") for n in generated] + companies
    queries, dropped = _negatives(INNOCENT_BUSINESSES, "Company", pairs, ISSUE_BUSINESSES, listed)
    return EvalSet(INNOCENT_BUSINESSES, queries, None,
                   "faker company names in many locales + a faker name with a generic trade word "
                   "and a legal form ('Bakkerij Smit BV'), schema Company, vs. the full index",
                   {"faker companies": len(companies), "faker company locales": len(company_locales()),
                    "trade names": len(generated), "dropped as a listed name": dropped})


def persons_as_organisations(listed: list[Listed], count: int, seed: int) -> EvalSet:
    """Innocent persons' names screened as organisations, as the financing trace screens a
    holder of unknown type (network/designate.py: as Person and as Organization)."""
    seed = stable_hash(seed, PERSONS_AS_ORGS)
    hard = hard_negatives(listed, round(count * 0.3), seed)
    fakes = faker_names(count - len(hard), seed)
    pairs = [(n, "hard") for n in hard] + fakes
    queries, dropped = _negatives(PERSONS_AS_ORGS, "Organization", pairs, ISSUE_PERSONS, listed)
    return EvalSet(PERSONS_AS_ORGS, queries, None,
                   "faker person names in many locales + recombined Arabic-origin name parts, "
                   "schema Organization, vs. the full index",
                   {"hard negatives": len(hard), "faker names": len(fakes),
                    "dropped as a listed name": dropped})


def build_sets(listed: list[Listed], cap: int | None = 1500, innocent_count: int = 8000,
               seed: int = SEED, negative_count: int = 4000) -> dict[str, EvalSet]:
    """Every set; ``negative_count`` queries for each negative set besides the innocents."""
    dups = duplicates(listed)
    links = list_links(listed)
    return {
        LOO: leave_one_alias_out(listed, cap, seed, dups),
        CROSS_SCRIPT: cross_script(listed, cap, seed, dups),
        TYPOS: typos(listed, cap, seed, dups),
        CROSS_LIST_SCRIPT: cross_list_script(listed, cap, seed, dups, links),
        CROSS_LIST_LATIN: cross_list_latin(listed, cap, seed, dups, links),
        LONGER: longer_queries(listed, cap, seed, dups),
        SHORTER: shorter_queries(listed, cap, seed, dups),
        INNOCENTS: innocents(listed, innocent_count, seed),
        INNOCENT_BUSINESSES: innocent_businesses(listed, negative_count, seed),
        PERSONS_AS_ORGS: persons_as_organisations(listed, negative_count, seed),
    }
