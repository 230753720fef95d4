"""Blind hit/no-hit discovery beside plaintext screening, exact hashes and a Bloom-filter CLK.

    python benchmarks/bench_discovery.py [--db PATH] [--innocents 6000] [--split test]

What runs, in one invocation on the same data (issue 17, "Measure"):

- the holder: the OFAC SDN 2023-06-05 persons, as restricted partner entries (their names,
  birth dates and document numbers as FtM properties, converted by ``listed_of`` as every
  partner entry is), with a real offer from a temporary store and ``build_index`` for one
  asker and one day (in-process, no server);
- the asker's queries: the same persons as the UN list spells them, the pairs linked by a
  shared document number (``evalsets.list_links``; never by name), persons only:
  ``cross-list cross-script``: the UN's original-script names (``evalsets.cross_list_script``);
  ``cross-list Latin``: the UN's Latin names, minus those with the same words as an OFAC name
  of the person (``un_latin``: ``evalsets.cross_list_latin`` the other way round). Each
  query carries the UN birth year and no document number; the "with documents" rows add the
  UN document numbers. Innocents: ``evalsets.innocents`` (faker names in many locales and
  scripts, and recombined Arabic-origin name parts), each with a birth year drawn from the
  listed persons' years (an asker knows its subject's birth date);
- the methods, on the same queries: (a) plaintext screening, a Screener over the holder's
  entries weighed by the official UN + OFAC index (``ScreeningIndex.subset``, as PartnerIndex
  does): the ceiling; (b) our blind discovery through the real OPRF path: ``prepare`` (words
  weighed by the same official index, ``weight`` and ``weights_of``) →
  ``oprf.blind_evaluate`` with the holder's day key (what ``evaluate_blinded`` does after
  charging the budget) → ``finish`` → ``look_up``; (c) exact hashed matching: SHA-256 of the
  sorted lower-case ASCII words of each name (the PSI anchor: byte-equal strings only);
  (d) a Bloom-filter CLK of each name (bigrams, 1024 bits, 30 hash bits per bigram) with Dice
  similarity, encoded by ``clkhash`` when it is installed (it is not a dependency: it pins
  cryptography < 41), else by our own encoder of the same design (the output says which);
- metrics on the reported half (``--split``): recall at 0.1% false hits (each method's
  threshold chosen on the dev innocents, its false-hit rate on the reported innocents
  printed), recall at each method's default threshold; cost per blind query; index build
  time and size; the enumeration attack: every name of the UN + OFAC lists as a query, in a
  shuffled order, through the real ``evaluate_blinded`` and budget of a temporary store
  (``DEFAULT_DAILY_KEYS``), until the first refusal.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import re
import statistics
import sys
import tempfile
import time
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import evalsets  # noqa: E402 - the benchmark's own modules, beside this file
from bench_screening import (  # noqa: E402
    DEFAULT_DATA,
    Outcome,
    fmt,
    load_store,
    log,
    outcome,
    percentile,
    progress,
    rate,
    threshold_for,
)
from evalsets import CROSS_LIST_SCRIPT, EvalQuery, EvalSet  # noqa: E402

from jointwatch.errors import LimitReachedError, QueryError  # noqa: E402
from jointwatch.releasability import Labels  # noqa: E402
from jointwatch.screening import Listed, Query, Screener  # noqa: E402
from jointwatch.screening.index import ScreeningIndex  # noqa: E402
from jointwatch.screening.score import DEFAULT_THRESHOLD as SCREENING_THRESHOLD  # noqa: E402
from jointwatch.sharing import oprf  # noqa: E402
from jointwatch.sharing.blind_keys import query_keys  # noqa: E402
from jointwatch.sharing.blind_match import DEFAULT_THRESHOLD as BLIND_THRESHOLD  # noqa: E402
from jointwatch.sharing.discovery import (  # noqa: E402
    DEFAULT_DAILY_KEYS,
    MAX_KEYS,
    BlindIndex,
    WordWeights,
    asker_label,
    bucket_of,
    build_index,
    day_key,
    entry_token,
    evaluate_blinded,
    finish,
    look_up,
    open_offer,
    prepare,
)
from jointwatch.sharing.screening import listed_of  # noqa: E402
from jointwatch.store import StoredEntry, add_member, open_engine  # noqa: E402
from jointwatch.store.discovery import Offer  # noqa: E402

CROSS_LIST_UN_LATIN = "cross-list Latin (UN → OFAC)"
SETS = (CROSS_LIST_SCRIPT, CROSS_LIST_UN_LATIN)
TITLES = {CROSS_LIST_SCRIPT: "UN original script → OFAC", CROSS_LIST_UN_LATIN: "UN Latin → OFAC"}
PLAIN, BLIND, EXACT, CLK = "plaintext screening", "blind discovery (ours)", "exact hashed names", "Bloom-filter CLK"
METHODS = (PLAIN, BLIND, EXACT, CLK)
FALSE_HITS = 0.001
CLK_BITS, CLK_HASHES = 1024, 30
CLK_DEFAULT = 0.8                   # anonlink has no default; a threshold its examples use
ELEMENT_BYTES = 32
SCREEN_LIMIT = 10_000
EPOCH = datetime.now(UTC).date().isoformat()
RESTRICTED = Labels("originator", (), "red", (), "benchmark: the OFAC persons as a restricted list")


@dataclass(frozen=True)
class Asked:
    """One query as the asker sends it: the evaluation query, its birth year and documents."""

    query: EvalQuery
    year: str | None
    documents: tuple[str, ...] = ()

    def as_query(self, documents: bool = False) -> Query:
        return Query(self.query.name, "Person", birth_date=self.year,
                     id_numbers=self.documents if documents else ())


# -- the holder ---------------------------------------------------------------------------

def holder_entries(ofac_persons: list[Listed]) -> list[StoredEntry]:
    """The OFAC persons as partner entries (ref = the OFAC entity id, so hits name it)."""
    now = datetime.now(UTC)
    out = []
    for i, person in enumerate(ofac_persons, start=1):
        properties = {"name": [n.original for n in person.names], "birthDate": list(person.birth_dates),
                      "idNumber": sorted(person.identifiers)}
        out.append(StoredEntry(i, person.entity_id, 1, "holder", None, "Person", person.caption, RESTRICTED,
                               "active", 1, now, now, i, {"id": person.entity_id, "schema": "Person",
                                                          "properties": properties}))
    return out


# -- the asker's queries ------------------------------------------------------------------

def un_latin(listed: list[Listed], links: evalsets.ListLinks, dups: dict[str, frozenset[str]],
             seed: int) -> EvalSet:
    """UN Latin spellings of linked persons against the OFAC persons: ``cross_list_latin`` the
    other way round (a spelling with the same words as an OFAC name of the person is left out)."""
    ofac_ids = {e.entity_id for e in listed if e.source == "us_ofac_sdn"}
    queries: dict[tuple[str, str], EvalQuery] = {}
    for link in links.links:
        if link.un.schema != "Person":
            continue
        theirs = {evalsets.words_of(n) for n in link.ofac.names} | {evalsets.plain_words_of(n) for n in link.ofac.names}
        for name in evalsets.latin_names(link.un):
            if not evalsets.screenable(name, "Person") or not evalsets.linked(name, link.ofac.names):
                continue
            if evalsets.words_of(name) in theirs or evalsets.plain_words_of(name) in theirs:
                continue
            also = (evalsets._also([link.ofac.entity_id], dups) & ofac_ids) - {link.ofac.entity_id}
            queries.setdefault((name.original, link.ofac.entity_id), EvalQuery(
                name.original, "Person", evalsets.split_of(link.un.entity_id), link.ofac.entity_id,
                f"UN {link.un.reference} → OFAC {link.ofac.reference}", also))
    return EvalSet(CROSS_LIST_UN_LATIN, list(queries.values()))


def first_year(dates: Sequence[str]) -> str | None:
    years = sorted(d[:4] for d in dates if d[:4].isdigit())
    return years[0] if years else None


def asked_sets(listed: list[Listed], innocent_count: int, seed: int) -> tuple[dict[str, list[Asked]], list[Asked]]:
    """The positive sets (persons only; the UN person's birth year and documents kept aside)
    and the innocents (a birth year each, drawn from the listed persons')."""
    dups = evalsets.duplicates(listed)
    links = evalsets.list_links(listed)
    un_of: dict[tuple[str, str], Listed] = {}
    for link in links.links:
        for name in link.un.names:
            un_of.setdefault((name.original, link.ofac.entity_id), link.un)
    script = evalsets.cross_list_script(listed, None, seed, dups, links)
    sets: dict[str, list[Asked]] = {}
    for evalset in (script, un_latin(listed, links, dups, seed)):
        rows = []
        for q in evalset.queries:
            un = un_of.get((q.name, q.entity_id or ""))
            if un is None or un.schema != "Person":
                continue
            rows.append(Asked(q, first_year(un.birth_dates), tuple(sorted(un.identifiers))))
        sets[evalset.name] = rows
    years = [y for e in listed if e.schema == "Person" for y in [first_year(e.birth_dates)] if y]
    innocents = []
    for q in evalsets.innocents(listed, innocent_count, seed).queries:
        rng = random.Random(evalsets.stable_hash(seed, "year", q.name))
        innocents.append(Asked(q, rng.choice(years)))
    return sets, innocents


# -- the methods --------------------------------------------------------------------------

Scores = dict[str, float]


def plaintext(screener: Screener) -> Callable[[Asked, bool], Scores]:
    def run(asked: Asked, documents: bool) -> Scores:
        try:
            matches = screener.screen(asked.as_query(documents), threshold=0.0, limit=SCREEN_LIMIT)
        except QueryError:
            return {}
        return {m.entity_id: m.score for m in matches}
    return run


@dataclass
class BlindCost:
    """What one blind query cost: elements sent (the bucket), keys used, milliseconds."""

    elements: list[int]
    keys: list[int]
    seconds: list[float]


def blind(index: BlindIndex, key: bytes, official: ScreeningIndex, entity_of: dict[str, str],
          cost: BlindCost) -> Callable[[Asked, bool], Scores]:
    def run(asked: Asked, documents: bool) -> Scores:
        start = time.perf_counter()
        try:
            query = prepare(asked.as_query(documents), official)
        except Exception:  # noqa: BLE001 - a name with no word to look for: no hit
            return {}
        evaluated = [oprf.blind_evaluate(key, oprf.check_element(e)) for e in query.elements]
        hits = look_up(finish(query, evaluated), index, threshold=0.0)
        cost.seconds.append(time.perf_counter() - start)
        cost.elements.append(len(query.elements))
        cost.keys.append(len(query.keys))
        return {entity_of[h.token]: h.strength for h in hits}
    return run


def plain_words(name: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return sorted(w for w in re.split(r"[^a-z0-9]+", folded) if w)


def name_hash(name: str) -> str | None:
    words = plain_words(name)
    return hashlib.sha256(" ".join(words).encode()).hexdigest() if words else None


def exact(holder: list[Listed]) -> Callable[[Asked, bool], Scores]:
    owners: dict[str, set[str]] = defaultdict(set)
    for person in holder:
        for name in person.names:
            digest = name_hash(name.original)
            if digest:
                owners[digest].add(person.entity_id)

    def run(asked: Asked, documents: bool) -> Scores:
        digest = name_hash(asked.query.name)
        return dict.fromkeys(owners.get(digest, ()) if digest else (), 1.0)
    return run


class OwnClk:
    """A CLK of clkhash's design: each bigram of the padded lower-case name sets CLK_HASHES
    bits chosen by HMAC-SHA256 under a shared secret (double hashing)."""

    name = "own CLK (bigrams, 1024 bits, k=30, HMAC double hashing)"

    def __init__(self, secret: bytes) -> None:
        self.secret = secret

    def encode(self, names: list[str]) -> np.ndarray:
        import hmac  # noqa: PLC0415

        out = np.zeros((len(names), CLK_BITS), dtype=bool)
        for row, name in enumerate(names):
            text = f" {name.lower()} "
            for gram in {text[i:i + 2] for i in range(len(text) - 1)}:
                digest = hmac.new(self.secret, gram.encode(), hashlib.sha256).digest()
                a, b = int.from_bytes(digest[:8], "big"), int.from_bytes(digest[8:16], "big")
                out[row, [(a + i * b) % CLK_BITS for i in range(CLK_HASHES)]] = True
        return out


class ClkhashClk:
    """clkhash's encoder: one field, bigrams, 30 bits per bigram, 1024-bit filter."""

    name = "clkhash (bigrams, 1024 bits, 30 bits per bigram, blake hashing)"

    def __init__(self, secret: bytes) -> None:
        from clkhash.comparators import NgramComparison  # noqa: PLC0415 - an optional anchor
        from clkhash.field_formats import BitsPerTokenStrategy, FieldHashingProperties, StringSpec  # noqa: PLC0415
        from clkhash.schema import Schema  # noqa: PLC0415

        field = StringSpec("name", FieldHashingProperties(NgramComparison(2), BitsPerTokenStrategy(CLK_HASHES)))
        self.schema = Schema([field], CLK_BITS)
        self.secret = secret

    def encode(self, names: list[str]) -> np.ndarray:
        from clkhash.clk import generate_clks  # noqa: PLC0415

        clks = generate_clks([[n.lower()] for n in names], self.schema, self.secret, validate=False, max_workers=1)
        return np.asarray([np.frombuffer(c.unpack(), dtype=bool) for c in clks])


def clk_encoder(secret: bytes) -> OwnClk | ClkhashClk:
    try:
        return ClkhashClk(secret)
    except ImportError:
        return OwnClk(secret)


def clk(holder: list[Listed], encoder: OwnClk | ClkhashClk) -> Callable[[Asked, bool], Scores]:
    names = [(p.entity_id, n.original) for p in holder for n in p.names]
    filters = np.packbits(encoder.encode([n for _, n in names]), axis=1)
    counts = np.unpackbits(filters, axis=1).sum(axis=1)
    owners = np.asarray([e for e, _ in names])

    def run(asked: Asked, documents: bool) -> Scores:
        mine = np.packbits(encoder.encode([asked.query.name]), axis=1)[0]
        common = np.bitwise_count(filters & mine).sum(axis=1)
        dice = 2 * common / np.maximum(1, counts + int(np.bitwise_count(mine).sum()))
        best: Scores = {}
        for i in np.flatnonzero(dice >= 0.3):
            best[owners[i]] = max(best.get(owners[i], 0.0), float(dice[i]))
        return best
    return run


# -- the runs -----------------------------------------------------------------------------

def run_method(run: Callable[[Asked, bool], Scores], asked: list[Asked], label: str,
               documents: bool = False) -> list[Outcome]:
    out = []
    for a in progress(asked, label):
        start = time.perf_counter()
        out.append(outcome(a.query, run(a, documents), time.perf_counter() - start))
    return out


def enumeration(listed: list[Listed], engine_path: Path, holder_entries_: list[StoredEntry],
                weights: WordWeights, seed: int) -> dict[str, float]:
    """Every name on the UN + OFAC lists as a blind query (shuffled), through the real budget,
    until the first refusal: queries made, holder entries found, days to cover every name."""
    engine = open_engine(str(engine_path), create=True)
    holder, asker = add_member(engine, "holder"), add_member(engine, "asker")
    offer = open_offer(engine, holder.id)
    epoch = datetime.now(UTC).date().isoformat()
    index = build_index(offer, "holder", asker_label(asker.id), epoch, holder_entries_)
    entity_of = {entry_token(offer, asker_label(asker.id), epoch, e.id): e.ref for e in holder_entries_}
    names = [n for e in listed for n in e.names]
    random.Random(seed).shuffle(names)
    total_elements = sum(bucket_of(min(MAX_KEYS, len(query_keys(n)))) for n in names)
    now = datetime.now(UTC).replace(hour=0, minute=0, second=1)
    made, found = 0, set()
    for name in names:
        query = prepare(Query(name.original, "Person"), weights, name)
        try:  # one query every 3 s: under the rate limit, so the day's budget is what refuses
            when = now + timedelta(seconds=3 * made)
            evaluated, _ = evaluate_blinded(engine, holder.id, asker.id, query.elements, when)
        except LimitReachedError:
            break
        made += 1
        found |= {entity_of[h.token] for h in look_up(finish(query, evaluated), index)}
    return {"names": len(names), "queries": made, "found": len(found), "elements": total_elements,
            "days": math.ceil(total_elements / DEFAULT_DAILY_KEYS), "budget": offer.daily_keys}


def recall_at(rows: list[Outcome], split: str, threshold: float) -> float:
    return rate(o.true_score >= threshold for o in rows if o.split == split)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", help="store of the lists to (re)use; default: a new one in a temp dir")
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    parser.add_argument("--innocents", type=int, default=6000, help="innocent queries (dev + test)")
    parser.add_argument("--split", choices=("test", "dev"), default="test", help="the half of positives to report")
    parser.add_argument("--seed", type=int, default=evalsets.SEED)
    parser.add_argument("--skip-attack", action="store_true")
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="jw-bench-") as tmp:
        listed = load_store(args.db, Path(args.data), Path(tmp))
        full = ScreeningIndex(listed, label="UN + OFAC SDN")
        ofac_persons = [e for e in listed if e.source == "us_ofac_sdn" and e.schema == "Person"]
        entries = holder_entries(ofac_persons)
        holder = [x for x in (listed_of(e) for e in entries) if x is not None]
        sets, innocents = asked_sets(listed, args.innocents, args.seed)
        for name, rows in sets.items():
            log(f"set {name}: {len(rows)} queries ({sum(a.query.split == args.split for a in rows)} {args.split})")

        # the holder's offer and index: a real offer from a temporary store, one asker, today
        engine = open_engine(str(Path(tmp) / "offer.db"), create=True)
        holder_member, asker_member = add_member(engine, "holder"), add_member(engine, "asker")
        offer: Offer = open_offer(engine, holder_member.id)
        asker = asker_label(asker_member.id)
        start = time.perf_counter()
        index = build_index(offer, "holder", asker, EPOCH, entries)
        build_s = time.perf_counter() - start
        index_bytes = len(json.dumps(index.to_json(), separators=(",", ":")).encode())
        entity_of = {entry_token(offer, asker, EPOCH, e.id): e.ref for e in entries}
        cost = BlindCost([], [], [])
        encoder = clk_encoder(hashlib.sha256(b"bench clk secret").digest())
        methods = {PLAIN: plaintext(Screener(full.subset(holder))),
                   BLIND: blind(index, day_key(offer, asker, EPOCH), full, entity_of, cost),
                   EXACT: exact(holder), CLK: clk(holder, encoder)}
        outcomes: dict[str, dict[str, list[Outcome]]] = {m: {} for m in METHODS}
        with_docs: dict[str, dict[str, list[Outcome]]] = {m: {} for m in (PLAIN, BLIND)}
        for method, run in methods.items():
            outcomes[method]["innocents"] = run_method(run, innocents, f"{method} innocents")
            for name, rows in sets.items():
                reported = [a for a in rows if a.query.split == args.split]
                outcomes[method][name] = run_method(run, reported, f"{method} {name}")
                if method in with_docs:
                    with_docs[method][name] = run_method(run, reported, f"{method} {name} + documents", True)
        attack = (enumeration(listed, Path(tmp) / "attack.db", entries, full, args.seed)
                  if not args.skip_attack else {})

    defaults = {PLAIN: SCREENING_THRESHOLD, BLIND: BLIND_THRESHOLD, EXACT: 1.0, CLK: CLK_DEFAULT}
    figures: dict[str, dict[str, float]] = {}
    for method in METHODS:
        inn = outcomes[method]["innocents"]
        t = threshold_for([o.max_score for o in inn if o.split == "dev"], FALSE_HITS)
        f = figures[method] = {"threshold": t, "false hits": rate(o.max_score >= t for o in inn if o.split == "test"),
                               "default": defaults[method],
                               "false hits at default": rate(o.max_score >= defaults[method] for o in inn
                                                             if o.split == "test")}
        for name in SETS:
            f[f"{name} @0.1%"] = recall_at(outcomes[method][name], args.split, t)
            f[f"{name} @default"] = recall_at(outcomes[method][name], args.split, defaults[method])
            if method in with_docs:
                f[f"{name} +docs @0.1%"] = recall_at(with_docs[method][name], args.split, t)
    print(report(figures, sets, innocents, args, encoder.name))
    print()
    print(costs(cost, index, index_bytes, build_s, len(entries), attack))
    log(f"done in {time.perf_counter() - started:.0f}s")
    if args.json:
        Path(args.json).write_text(json.dumps({"figures": figures, "attack": attack}, indent=2), encoding="utf-8")
    return 0


def report(figures: dict[str, dict[str, float]], sets: dict[str, list[Asked]], innocents: list[Asked],
           args: argparse.Namespace, clk_name: str) -> str:
    lines = [f"| {args.split} half | " + " | ".join(METHODS) + " |", "|---|" + "---:|" * len(METHODS)]

    def row(label: str, cells: list[str]) -> None:
        lines.append(f"| {label} | " + " | ".join(cells) + " |")

    for name in SETS:
        n = sum(1 for a in sets[name] if a.query.split == args.split)
        row(f"**{TITLES[name]}** ({n} queries): recall @ 0.1% false hits",
            [fmt(figures[m][f"{name} @0.1%"]) for m in METHODS])
        row(f"{TITLES[name]}: recall @ default threshold", [fmt(figures[m][f"{name} @default"]) for m in METHODS])
        row(f"{TITLES[name]}: with the UN documents, recall @ 0.1%",
            [fmt(figures[m].get(f"{name} +docs @0.1%")) for m in METHODS])
        row(f"{TITLES[name]}: blind / plaintext @ 0.1% (target ≥ 0.9)",
            ["", fmt(figures[BLIND][f"{name} @0.1%"] / max(1e-9, figures[PLAIN][f"{name} @0.1%"])), "", ""])
    dev = sum(1 for a in innocents if a.query.split == "dev")
    row(f"threshold for 0.1% false hits (chosen on {dev} dev innocents)",
        [fmt(figures[m]["threshold"]) for m in METHODS])
    row(f"false hits at it ({len(innocents) - dev} test innocents)",
        [fmt(figures[m]["false hits"], 4) for m in METHODS])
    row("default threshold", [fmt(figures[m]["default"]) for m in METHODS])
    row("false hits at the default (test innocents)", [fmt(figures[m]["false hits at default"], 4) for m in METHODS])
    lines.append("")
    lines.append(f"CLK: {clk_name}. Exact hashes and the CLK compare names only (no birth year); plaintext and "
                 "blind get the UN birth year (innocents: a listed person's year at random).")
    return "\n".join(lines)


def costs(cost: BlindCost, index: BlindIndex, index_bytes: int, build_s: float, entries: int,
          attack: dict[str, float]) -> str:
    elements = statistics.median(cost.elements)
    per_day = DEFAULT_DAILY_KEYS / statistics.mean(cost.elements)
    lines = ["| blind discovery, cost | value |", "|---|---:|",
             "| round trips per query (+ one index download per asker and day) | 1 |",
             f"| elements per query (bucket), median / max; keys used, median | {elements:.0f} / "
             f"{max(cost.elements)}; {statistics.median(cost.keys):.0f} |",
             f"| bytes up / down per query, median (32 per element) | {elements * ELEMENT_BYTES:,.0f} / "
             f"{elements * ELEMENT_BYTES:,.0f} |",
             f"| server evaluations per query, median | {elements:.0f} |",
             f"| index: entries (padded) / names / keys, JSON bytes | {len(index.tokens):,} / "
             f"{len(index.shape.entry):,} / {len(index.postings):,}, {index_bytes / 1e6:.1f} MB |",
             f"| index download amortised over a day's budget ({per_day:.0f} queries) | "
             f"{index_bytes / per_day / 1e3:,.0f} KB per query |",
             f"| index build for the holder ({entries:,} entries), s | {build_s:.1f} |",
             f"| ms per query end to end in-process, median / p95 ({len(cost.seconds)} queries) | "
             f"{percentile(cost.seconds, 0.5) * 1000:.1f} / {percentile(cost.seconds, 0.95) * 1000:.1f} |"]
    if attack:
        lines += [f"| enumeration: names on the UN + OFAC lists (queries) | {attack['names']:,} |",
                  f"| enumeration: queries before the first refusal (budget {attack['budget']:,} keys) | "
                  f"{attack['queries']:,} |",
                  f"| enumeration: holder entries found that day (of {entries:,}) | {attack['found']:,} |",
                  f"| enumeration: days to cover every name ({attack['elements']:,} elements) | {attack['days']:,} |"]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
