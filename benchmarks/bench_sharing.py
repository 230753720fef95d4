"""Screening with partner entries beside the official lists: throughput and p99.

What is measured (issue 16, "Measure"):

- A temporary SQLite store holds the real UN consolidated list and the OFAC SDN list
  (2023-06-05), 12 members, 6 sharing groups, and ``--entries`` (100,000) partner entries
  made by faker in eight locales (persons with one or two aliases, a birth date, a
  nationality and a passport number; one in five an organisation), each under one of 50
  distributions: the originator only, named members (1-4), a sharing group, the whole server,
  connected servers, with TLP and handling codes drawn at random. Entries are stored with
  ``store.insert_entries`` (one transaction).
- The query mix: names of listed entities (every n-th of each list), the same misspelt,
  innocent faker names, and names of partner entries (a third of them visible to the asking
  member), cycled in order.
- Each query is screened by one member, in this process, one thread, no HTTP:
  (a) the official lists only (``open_screener``; the anchor), (b) ``SharedScreener``, the
  official lists plus the partner entries releasable to the member. Reported: queries per
  second and the p50/p99 latency of each, and the ratios b/a. Target: b within 1.5x of a.
- Also printed: the time to build the partner index of all entries (first request after a
  change of content), the time to recompute one member's releasable set after a withdrawal
  (no rebuild), and the number of partner hits found, with the check that every partner hit
  is releasable to the member (the run fails if one is not).

    python benchmarks/bench_sharing.py [--entries 100000] [--queries 600]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from faker import Faker

from jointwatch.releasability import HANDLING_CODES, Labels, Recipient, is_live, may_see
from jointwatch.screening import Query, open_screener
from jointwatch.sharing import PartnerIndex, SharedScreener
from jointwatch.sources import open_list
from jointwatch.store import (
    NewEntry,
    add_member,
    all_entry_labels,
    create_group,
    insert_entries,
    iter_entities,
    latest_versions,
    load_list,
    open_engine,
    recipient_of,
    set_group_member,
)

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "lists"
UN_FILE = DATA / "un_consolidated_2026-02-27.xml"
OFAC_FILE = DATA / "ofac_sdn_2023-06-05.csv"
LOCALES = ["en_US", "ar_SA", "fr_FR", "de_DE", "ru_RU", "tr_TR", "fa_IR", "es_ES"]
MEMBERS = 12
GROUPS = 6
DISTRIBUTIONS = 50


def distributions(rng: random.Random, member_ids: list[int], group_ids: list[int]) -> list[tuple[int, Labels]]:
    """50 (originator, labels) pairs covering every distribution level."""
    out: list[tuple[int, Labels]] = []
    kinds = ["originator", "members", "group", "server", "connected"]
    for i in range(DISTRIBUTIONS):
        kind = kinds[i % len(kinds)]
        originator = rng.choice(member_ids)
        handling = tuple(sorted(rng.sample(list(HANDLING_CODES), rng.randint(0, 2))))
        audience: tuple[int, ...] = ()
        tlp = rng.choice(["clear", "green", "amber", "amber+strict"])
        if kind == "members":
            audience = tuple(sorted(rng.sample([m for m in member_ids if m != originator], rng.randint(1, 4))))
            tlp = rng.choice(["amber", "amber+strict", "red"])
        elif kind == "group":
            audience = (rng.choice(group_ids),)
        elif kind == "connected":
            tlp = rng.choice(["clear", "green", "amber"])
            handling = tuple(h for h in handling if h != "no-further-dissemination")
        out.append((originator, Labels(kind, audience, tlp, handling, f"bench distribution {i}")))
    return out


def make_entries(n: int, rng: random.Random, dists: list[tuple[int, Labels]],
                 names: dict[int, str]) -> list[NewEntry]:
    fakers = [Faker(locale) for locale in LOCALES]
    for i, fake in enumerate(fakers):
        fake.seed_instance(1000 + i)
    entries = []
    for i in range(n):
        fake = fakers[i % len(fakers)]
        originator, labels = dists[rng.randrange(len(dists))]
        ref = f"sh-bench{i:08d}"
        if i % 5 == 4:
            schema, props = "Organization", {"name": [fake.company()]}
        else:
            schema = "Person"
            props = {"name": [fake.name()], "alias": [fake.name() for _ in range(rng.randint(0, 2))],
                     "birthDate": [fake.date_of_birth(minimum_age=18, maximum_age=80).isoformat()],
                     "nationality": [fake.country_code().lower()],
                     "passportNumber": [f"P{rng.randrange(10**8):08d}"]}
        entity = {"id": ref, "schema": schema, "properties": {k: v for k, v in props.items() if v}}
        entries.append(NewEntry(ref, originator, names[originator], schema, props["name"][0], entity, labels,
                                "bench"))
    return entries


def timed(screen, queries: list[Query]) -> tuple[list[float], list[list]]:  # type: ignore[no-untyped-def]
    times, results = [], []
    for q in queries:
        start = time.perf_counter()
        results.append(screen(q))
        times.append(time.perf_counter() - start)
    return times, results


def summary(times: list[float]) -> tuple[float, float, float]:
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return len(times) / sum(times), statistics.median(ordered) * 1000, p99 * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=600)
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as folder:
        engine = open_engine(str(Path(folder) / "bench.db"), create=True)
        start = time.perf_counter()
        load_list(engine, open_list(UN_FILE, "un"))
        load_list(engine, open_list(OFAC_FILE, "ofac-sdn"))
        members = [add_member(engine, f"member-{i:02d}") for i in range(MEMBERS)]
        names = {m.id: m.name for m in members}
        member_ids = [m.id for m in members]
        groups = [create_group(engine, f"group-{g}", rng.choice(member_ids)) for g in range(GROUPS)]
        for g in groups:
            for m in rng.sample(member_ids, 4):
                set_group_member(engine, g.id, m, True)
        dists = distributions(rng, member_ids, [g.id for g in groups])
        entries = make_entries(args.entries, rng, dists, names)
        insert_entries(engine, entries)
        print(f"store: UN + OFAC SDN, {MEMBERS} members, {GROUPS} groups, {len(entries):,} partner entries "
              f"under {len(dists)} distributions ({time.perf_counter() - start:.0f} s to make)", flush=True)

        asker = members[0]
        recipient: Recipient = recipient_of(engine, asker.id)
        labels = {e.ref: e for e in all_entry_labels(engine)}
        visible_refs = [e.ref for e in labels.values() if may_see(e.member_id, e.labels, recipient)]
        official = open_screener(engine)
        listed = []
        for source in sorted(latest_versions(engine)):
            ents = [e for e in iter_entities(engine, source) if e.schema.name in ("Person", "Organization")]
            listed += [Query(e.caption, e.schema.name) for e in ents[::max(1, len(ents) // 100)][:100]]
        fake = Faker(LOCALES)
        fake.seed_instance(7)
        innocents = [Query(fake.name()) for _ in range(150)]
        by_ref = {e.ref: e for e in entries}
        shown = rng.sample(visible_refs, 50) + rng.sample(sorted(set(by_ref) - set(visible_refs)), 100)
        partner = [Query(by_ref[r].caption, by_ref[r].schema) for r in shown]
        mix = [q for group in zip(listed, innocents, partner, strict=False) for q in group]
        queries = (mix * (args.queries // max(1, len(mix)) + 1))[:args.queries]

        t = time.perf_counter()
        partners = PartnerIndex(engine, official)
        partners.state()
        build = time.perf_counter() - t
        shared = SharedScreener(official, partners)
        t = time.perf_counter()
        shared.screen(Query("warm up"), member_id=asker.id)
        masks = time.perf_counter() - t

        for q in queries[:30]:  # warm both
            official.screen(q, member_id=asker.id)
            shared.screen(q, member_id=asker.id)
        rounds_a, rounds_b = [], []
        results_b: list[list] = []
        for _ in range(3):  # alternate, so that machine noise falls on both
            a, _ = timed(lambda q: official.screen(q, member_id=asker.id), queries)
            b, results_b = timed(lambda q: shared.screen(q, member_id=asker.id), queries)
            rounds_a.append(summary(a))
            rounds_b.append(summary(b))
        qa, p50a, p99a = (statistics.median(x) for x in zip(*rounds_a, strict=True))
        qb, p50b, p99b = (statistics.median(x) for x in zip(*rounds_b, strict=True))

        hits = [m for result in results_b for m in result if m.shared is not None]
        today = time.strftime("%Y-%m-%d")
        leaks = [m.reference for m in hits if not (may_see(labels[m.reference].member_id, labels[m.reference].labels,
                                                           recipient)
                                                   and is_live(labels[m.reference].status, None,
                                                               __import__("datetime").date.fromisoformat(today)))]
        found_visible = {m.reference for m in hits} & set(shown[:50])

        # a withdrawal: the releasable set is recomputed, nothing is rebuilt
        from jointwatch.sharing import withdraw_entry
        victim = next(r for r in shown[:50] if labels[r].member_id == asker.id) if any(
            labels[r].member_id == asker.id for r in shown[:50]) else None
        withdraw_time = float("nan")
        if victim is not None:
            withdraw_entry(engine, victim, asker.id, "bench", "benchmark withdrawal")
            t = time.perf_counter()
            after = shared.screen(Query(by_ref[victim].caption, by_ref[victim].schema), member_id=asker.id)
            withdraw_time = time.perf_counter() - t
            if any(m.reference == victim for m in after):
                print("FAIL: a withdrawn entry still matched", file=sys.stderr)
                return 1

    print()
    print(f"{'screening as one member (median of 3 rounds)':46} {'q/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
    print(f"{'official lists only (anchor)':46} {qa:8.0f} {p50a:8.1f} {p99a:8.1f}")
    print(f"{'official + releasable partner entries':46} {qb:8.0f} {p50b:8.1f} {p99b:8.1f}")
    print(f"{'ratio (partner / official; target <= 1.5)':46} {qa / qb:8.2f} {p50b / p50a:8.2f} {p99b / p99a:8.2f}")
    print()
    print(f"partner index of {args.entries:,} entries built in {build:.1f} s; first screen of a member "
          f"(its releasable set) {masks * 1000:.0f} ms; the first screen after a withdrawal "
          f"{withdraw_time * 1000:.0f} ms (no rebuild)")
    print(f"partner hits: {len(hits)} over {len(queries)} queries; of the 50 visible entries queried, "
          f"{len(found_visible)} found; hits not releasable to the member: {len(leaks)}")
    return 1 if leaks else 0


if __name__ == "__main__":
    sys.exit(main())
