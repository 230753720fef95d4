"""Comparing two analysed names word by word, and saying how each word matched.

Words are aligned one to one, best pairs first, whatever their order ("HARZI Tariq" and
"Tariq al-Harzi" align fully). Each pair gets a similarity and the rule that gave it; the
name's features weigh each word by its rarity on the lists (jointwatch.screening.weights),
so "Mohammed" shared proves little and "Harzi" shared proves much.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz.distance import JaroWinkler, Levenshtein

from jointwatch.names import AnalyzedName, Token, is_addition, is_arabic_script, join_tokens, romanizes
from jointwatch.screening.model import Weights

MIN_PAIR = 0.6
# The share of its weight that an unmatched word a name commonly gains costs (a patronymic,
# a middle name, a kunya, a nisba: ``_unmatched_weight``). The index's coverage bound uses it.
ADDED_WORD = 0.25
# The same for a listed name's words: the lists write the whole patronymic chain, which
# partners' records (a passport, an account) almost never carry.
LISTED_ADDED_WORD = 0.1
MIN_JOINED_KEY = 4
# word pairs a screener remembers across queries (``PairMemo``): about 100 bytes each
MEMO_PAIRS = 200_000
_VOWELS = frozenset("aeiou")

# How a pair of words matched, strongest first; the numbers are the similarities.
EXACT, VARIANT, TRANSLITERATION, SKELETON, SHORT_SKELETON, NEAR_SKELETON, FUZZY, INITIAL, JOINED = (
    "exact", "variant", "transliteration", "skeleton", "short-skeleton", "near-skeleton", "fuzzy", "initial",
    "joined")
# Matches that rest on the consonant skeleton alone prove what the skeleton proves.
KEY_RULES = frozenset({SKELETON, SHORT_SKELETON, NEAR_SKELETON})
# Matches that say "the same word": as written, a known variant, a romanisation.
STRONG_RULES = frozenset({EXACT, VARIANT, TRANSLITERATION})
# Matches that say "alike", not "the same word": the score weighs how much of a match rests on them.
WEAK_RULES = frozenset({SKELETON, SHORT_SKELETON, NEAR_SKELETON, FUZZY, INITIAL, JOINED})
_RULE_SIM = {EXACT: 1.0, VARIANT: 0.95, TRANSLITERATION: 0.98, SKELETON: 0.9, SHORT_SKELETON: 0.75,
             NEAR_SKELETON: 0.72, INITIAL: 0.6}
# A written word and a Latin one that share a skeleton but that no convention would write
# one as the other (Sara / شريعة, whose ي the Latin word leaves out): a weak match at most.
_UNROMANISED = {SKELETON: 0.75, SHORT_SKELETON: 0.65}


@dataclass(frozen=True, slots=True)
class TokenMatch:
    """One query word aligned with one listed word."""

    query: Token
    listed: Token
    similarity: float
    rule: str
    query_position: int
    listed_position: int


def _shared_key(a: Token, b: Token) -> str | None:
    best = None
    for k in a.keys:
        if k in b.keys and (best is None or len(k) > len(best)):
            best = k
    return best


def _near_keys(a: Token, b: Token) -> bool:
    return any(len(x) >= 3 and len(y) >= 3 and Levenshtein.distance(x, y, score_cutoff=1) <= 1
               for x in a.keys for y in b.keys)


def token_similarity(a: Token, b: Token) -> tuple[float, str]:
    """How alike two words are (0..1) and by which rule."""
    if a.text == b.text:
        return 1.0, EXACT
    if a.canonical == b.canonical:
        return _RULE_SIM[VARIANT], VARIANT
    if a.known and b.known:
        return 0.0, ""  # two different known names (Muhammad, Mahmud) whatever their letters
    if not (a.text.isalpha() and b.text.isalpha()):
        return 0.0, ""  # numbers (Plant 163, Plant 140) are the same or not at all
    key = _shared_key(a, b)
    a_arabic, b_arabic = is_arabic_script(a.original), is_arabic_script(b.original)
    if a_arabic != b_arabic:
        # one written in Arabic script, one in Latin letters: a romanisation, or a weak skeleton match
        written, latin = (a, b) if a_arabic else (b, a)
        if (key is not None or _near_keys(a, b)) and romanizes(latin.text, written.original):
            return _RULE_SIM[TRANSLITERATION], TRANSLITERATION
        if key is not None:
            rule = SKELETON if len(key) >= 2 else SHORT_SKELETON
            return _UNROMANISED[rule], rule
        return 0.0, ""
    if a_arabic:
        # two spellings in Arabic script (Arabic and Persian letters, with or without hamza)
        if key is not None:
            rule = SKELETON if len(key) >= 2 else SHORT_SKELETON
            return _RULE_SIM[rule], rule
        if _near_keys(a, b):
            return _RULE_SIM[NEAR_SKELETON], NEAR_SKELETON
        return 0.0, ""
    if len(a.text) == 1 or len(b.text) == 1:
        if a.text[0] == b.text[0]:
            return _RULE_SIM[INITIAL], INITIAL
        return 0.0, ""
    fuzzy = max(JaroWinkler.similarity(a.text, b.text) - 0.1, Levenshtein.normalized_similarity(a.text, b.text))
    # a vowel written first on one side only is a different name's (Ansar / Nasser), except in
    # the Maghreb's Brahim for Ibrahim: the skeleton then proves what a near one does
    same_start = (a.text[0] in _VOWELS) == (b.text[0] in _VOWELS)
    if key is not None and len(key) >= 3 and same_start:
        # the skeleton says "same consonants", the spelling says how close the rest is
        return min(0.92, 0.7 + 0.25 * JaroWinkler.similarity(a.text, b.text)), SKELETON
    if fuzzy >= 0.75:
        return min(fuzzy, 0.85), FUZZY
    if key is not None and len(key) >= 3:
        return _RULE_SIM[NEAR_SKELETON], NEAR_SKELETON
    if key is not None:
        return _RULE_SIM[SHORT_SKELETON], SHORT_SKELETON
    if _near_keys(a, b) and fuzzy >= 0.5 and a.text[0] == b.text[0]:
        # one consonant apart: a typo keeps the first letter far more often than not (Smit ≠ Hamati)
        return _RULE_SIM[NEAR_SKELETON], NEAR_SKELETON
    return 0.0, ""


class PairMemo:
    """Word-pair similarities kept across queries: payments, customer bases and manifests
    repeat the same given names and surnames all day, and one word meets the same listed
    words again and again.

    One memo belongs to one screener, hence to one index, whose listed words are shared
    objects that live as long as it: a pair is keyed by the ids of the two words. The memo
    holds each query word it keys by, so no other word can take its id while its row lives.
    Bounded: emptied once it holds ``limit`` pairs (a new row starts empty again)."""

    def __init__(self, limit: int = MEMO_PAIRS) -> None:
        self.limit = limit
        self.pairs = 0
        self._rows: dict[int, tuple[Token, dict[int, tuple[float, str]]]] = {}
        self._joined: dict[tuple[int, int], tuple[Token, Token, Token | None]] = {}

    def row(self, token: Token) -> dict[int, tuple[float, str]]:
        """The similarities of ``token`` to the listed words it met (by their id)."""
        held = self._rows.get(id(token))
        if held is None:
            if self.pairs >= self.limit:
                self._rows, self.pairs = {}, 0
            held = self._rows[id(token)] = (token, {})
        return held[1]

    def joined(self, first: Token, second: Token) -> Token | None:
        """``join_tokens`` of two adjacent words (query or listed), made once; None when the
        joined skeletons are too short to compare. The memo holds the joined word."""
        key = (id(first), id(second))
        held = self._joined.get(key)
        if held is None:
            if len(self._joined) >= self.limit:
                self._joined = {}
            both = join_tokens(first, second)
            # the pair is held too: their ids key the entry
            held = self._joined[key] = (first, second, both if max(len(k) for k in both.keys) >= MIN_JOINED_KEY
                                        else None)
        return held[2]


class SimilarityCache:
    """Word-pair similarities kept across the many listed names one query meets (and, with a
    ``PairMemo``, across queries).

    Listed words are shared objects in the index, so a pair is keyed by the query word's
    position and the listed word's id."""

    def __init__(self, query: AnalyzedName, memo: PairMemo | None = None) -> None:
        self.memo = memo
        self.rows: list[dict[int, tuple[float, str]]] = (
            [memo.row(t) for t in query.tokens] if memo is not None else [{} for _ in query.tokens])


def align(query: AnalyzedName, listed: AnalyzedName, cache: SimilarityCache | None = None) -> list[TokenMatch]:
    """The best one-to-one pairing of the two names' words (greedy on similarity)."""
    rows = cache.rows if cache is not None else [{} for _ in query.tokens]
    pairs = []
    new = 0
    for i, q in enumerate(query.tokens):
        row = rows[i]
        for j, c in enumerate(listed.tokens):
            found = row.get(id(c))
            if found is None:
                found = row[id(c)] = token_similarity(q, c)
                new += 1
            if found[0] >= MIN_PAIR:
                # ties go to the pair closer in position, so repeated words pair in order
                pairs.append((-found[0], abs(i - j), i, j, found[1]))
    if new and cache is not None and cache.memo is not None:
        cache.memo.pairs += new
    if len(pairs) > 1:
        pairs.sort()
    used_q: set[int] = set()
    used_c: set[int] = set()
    out = []
    for neg, _dist, i, j, rule in pairs:
        if i in used_q or j in used_c:
            continue
        used_q.add(i)
        used_c.add(j)
        out.append(TokenMatch(query.tokens[i], listed.tokens[j], -neg, rule, i, j))
    if len(used_q) < len(query.tokens) and len(used_c) < len(listed.tokens):
        out.extend(_joined(query, listed, used_q, used_c, cache.memo if cache is not None else None))
    return out


def _joined(query: AnalyzedName, listed: AnalyzedName, used_q: set[int], used_c: set[int],
            memo: PairMemo | None = None) -> list[TokenMatch]:
    """Two adjacent unmatched words on one side against one on the other ("Wali Jan" / "WALIJAN")."""
    out: list[TokenMatch] = []
    for side_tokens, other_tokens, used_side, used_other, is_query in (
            (query.tokens, listed.tokens, used_q, used_c, True),
            (listed.tokens, query.tokens, used_c, used_q, False)):
        for i in range(len(side_tokens) - 1):
            if i in used_side or i + 1 in used_side:
                continue
            if memo is not None:
                both = memo.joined(side_tokens[i], side_tokens[i + 1])
            else:
                both = join_tokens(side_tokens[i], side_tokens[i + 1])
                both = both if max(len(k) for k in both.keys) >= MIN_JOINED_KEY else None
            if both is None:
                continue  # short joined skeletons meet too many names by chance
            row = memo.row(both) if memo is not None else {}
            for j, other in enumerate(other_tokens):
                if j in used_other:
                    continue
                # the other side's word is held by the index (listed) or by the memo's rows (query)
                found = row.get(id(other))
                if found is None:
                    found = row[id(other)] = token_similarity(both, other)
                    if memo is not None:
                        memo.pairs += 1
                sim, rule = found
                if sim >= MIN_PAIR and rule != NEAR_SKELETON:  # two words and a typo prove too little
                    used_side.update((i, i + 1))
                    used_other.add(j)
                    for k in (i, i + 1):
                        if is_query:
                            out.append(TokenMatch(side_tokens[k], other, sim, JOINED, k, j))
                        else:
                            out.append(TokenMatch(other, side_tokens[k], sim, JOINED, j, k))
                    break
    return out


@dataclass(frozen=True, slots=True)
class NameFeatures:
    """What the alignment of two names shows, as numbers the score is computed from."""

    query_coverage: float      # share of the query's weight matched (similarity-weighted)
    listed_coverage: float     # share of the listed name's weight matched
    matched_weight: float      # sum of matched query words' weights: how much the match proves
    matched_words: int
    query_words: int
    listed_words: int
    in_order: bool = True      # the matched words come in the same order in both names
    rarest: float = 0.0        # the most one matched query word proved (similarity × weight)
    weak_share: float = 0.0    # share of the matched weight resting on skeletons, fuzzy spellings, initials
                               # of common words (each weighed by how common: 1 − its weight)
    unmatched_listed: float = 0.0  # the heaviest listed word left unmatched at its full cost
    complete: bool = False     # every word of both names matched as written, a variant or a romanisation


def _proof(match: TokenMatch, mine: Weights, theirs: Weights, i: int, j: int, mine_is_query: bool) -> float:
    """The weight a matched word counts with: its skeleton's when only the skeleton matched;
    for a word in Arabic script romanised exactly as the other name writes it, the Latin
    spelling's (a perfect cross-script match proves what a perfect Latin one does; the
    unvowelled word's own weight is its commonest skeleton's, which undersells it)."""
    if match.rule in KEY_RULES:
        return mine.key[i]
    if match.rule == TRANSLITERATION and (match.query if mine_is_query else match.listed).native:
        return theirs.text[j]
    return mine.text[i]


def _unmatched_weight(tokens: tuple[Token, ...], weights: tuple[float, ...], matched: set[int],
                      person: bool, added: float = ADDED_WORD) -> tuple[float, float]:
    """What a name's unmatched words weigh against the match, and the heaviest of those that
    cost their full weight. An unmatched word costs its weight as written, but only ADDED_WORD
    of it for a person's words that names gain and listings leave out: words between matched
    ones (the patronymic chain of "Ayman Muhammad Rabi al-Zawahiri", the middle names a bank
    leaves out of "QADHAFI, Aisha Muammar …"), kunyas, nisbas and titles."""
    if not matched:
        return sum(weights), max(weights, default=0.0)
    first, last = min(matched), max(matched)
    total = heaviest = 0.0
    for i, w in enumerate(weights):
        if i in matched:
            continue
        if person and (first < i < last or is_addition(tokens[i])):
            w *= added
        else:
            heaviest = max(heaviest, w)
        total += w
    return total, heaviest


def name_features(query: AnalyzedName, listed: AnalyzedName, matches: list[TokenMatch],
                  query_weights: Weights, listed_weights: Weights, person: bool = True) -> NameFeatures:
    """Coverage on both sides and the evidence of the aligned words (weights by position).

    A word matched as written (or as a known variant, or as a close spelling) counts its
    full weight; a word matched only by its consonant skeleton counts its skeleton's.
    Coverage is asymmetric in what the unmatched words cost (``_unmatched_weight``)."""
    # a joined pair puts one word in two matches: count each position once
    by_q = {m.query_position: m for m in matches}
    by_c = {m.listed_position: m for m in matches}
    q_eff = [_proof(m, query_weights, listed_weights, i, m.listed_position, True) for i, m in by_q.items()]
    c_eff = [_proof(m, listed_weights, query_weights, j, m.query_position, False) for j, m in by_c.items()]
    proved = [m.similarity * w for m, w in zip(by_q.values(), q_eff, strict=True)]
    mq = sum(proved)
    mc = sum(m.similarity * w for m, w in zip(by_c.values(), c_eff, strict=True))
    # a weak match of a rare word is a typo of a unique name; of a common one, likely another name
    weak = sum(x * (1 - w) for m, x, w in zip(by_q.values(), proved, q_eff, strict=True) if m.rule in WEAK_RULES)
    # unmatched words weigh what they would prove as written; matched ones what they proved
    q_left, _ = _unmatched_weight(query.tokens, query_weights.text, set(by_q), person)
    c_left, c_heaviest = _unmatched_weight(listed.tokens, listed_weights.text, set(by_c), person, LISTED_ADDED_WORD)
    qw = sum(q_eff) + q_left or 1.0
    cw = sum(c_eff) + c_left or 1.0
    return NameFeatures(
        query_coverage=min(1.0, mq / qw),
        listed_coverage=min(1.0, mc / cw),
        matched_weight=mq,
        matched_words=len({m.query_position for m in matches}),
        query_words=len(query.tokens),
        listed_words=len(listed.tokens),
        in_order=_in_order(by_q),
        rarest=max(proved, default=0.0),
        weak_share=weak / mq if mq else 0.0,
        unmatched_listed=c_heaviest,
        complete=(len(by_q) == len(query.tokens) and len(by_c) == len(listed.tokens)
                  and all(m.rule in STRONG_RULES for m in matches)),
    )


def _in_order(by_query: dict[int, TokenMatch]) -> bool:
    listed = [by_query[i].listed_position for i in sorted(by_query)]
    return all(a <= b for a, b in zip(listed, listed[1:], strict=False))


def match_weight(match: TokenMatch, query_weights: Weights, listed_weights: Weights) -> float:
    """The weight one aligned word counted with (for explanations)."""
    return _proof(match, query_weights, listed_weights, match.query_position, match.listed_position, True)
