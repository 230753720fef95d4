"""Payments and customer-base screening benchmark.

1. N generated pacs.008 transactions (files of 1,000), parties drawn from a population of
   bank customers and counterparties (Faker names, many locales); 1% with a listed person of
   the UN list / OFAC SDN 2023-06-05 as creditor under a variant spelling (one letter
   swapped or dropped, word order changed). Reports messages per second (parse + screen),
   the CPU seconds they took (this process and its workers: a figure the other work on a
   shared machine does not move much) and recall on the planted parties, once per number of
   worker processes (``--workers 1,2``); anchor: the same messages with every party screened
   without the name cache (on a sample, then per message).
2. A customer file of C rows screened against OFAC SDN 2023-03-01, then the 2023-06-05
   snapshot loaded over it: delta re-screen vs full re-screen, times and alert equality.

    python benchmarks/bench_payments.py [--messages 100000] [--customers 20000] [--population 20000] [--workers 1,2]

Messages per second count reading and screening (timer from the first file read to the last
decision); the held rate among innocent payments is reported apart from recall.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import tempfile
import time
from pathlib import Path
from xml.sax.saxutils import escape

from faker import Faker

from jointwatch.payments.customers import open_alert_pairs, rescreen_delta, rescreen_full, screen_customer_file
from jointwatch.payments.parallel import screen_parallel, worker_pool
from jointwatch.payments.reader import read_files, read_payments
from jointwatch.payments.screening import PaymentDecision, PaymentScreener
from jointwatch.screening import open_screener
from jointwatch.sources import open_list
from jointwatch.store import load_list, open_engine

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "lists"
LOCALES = ["en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pl_PL", "tr_TR", "pt_BR"]
IBANS = ["DE89370400440532013000", "GB29NWBK60161331926819", "FR1420041010050500013M02606", "NL91ABNA0417164300"]


def variant(name: str, rng: random.Random) -> str:
    words = name.split()
    choice = rng.random()
    if choice < 0.4 and len(words) > 1:
        words = words[1:] + words[:1]                                 # other name order
    i = max(range(len(words)), key=lambda k: len(words[k]))
    w = words[i]
    if len(w) > 4:
        j = rng.randrange(1, len(w) - 2)
        words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2:] if choice < 0.7 else w[:j] + w[j + 1:]
    return " ".join(words)


def tx(n: int, debtor: str, creditor: str, amount: str, remittance: str) -> str:
    return (f"<CdtTrfTxInf><PmtId><EndToEndId>E2E-{n}</EndToEndId></PmtId>"
            f"<IntrBkSttlmAmt Ccy=\"EUR\">{amount}</IntrBkSttlmAmt><IntrBkSttlmDt>2023-06-05</IntrBkSttlmDt>"
            f"<Dbtr><Nm>{escape(debtor)}</Nm><PstlAdr><Ctry>DE</Ctry></PstlAdr></Dbtr>"
            f"<DbtrAcct><Id><IBAN>{IBANS[n % 4]}</IBAN></Id></DbtrAcct>"
            f"<DbtrAgt><FinInstnId><BICFI>DEUTDEFF</BICFI></FinInstnId></DbtrAgt>"
            f"<CdtrAgt><FinInstnId><BICFI>BNPAFRPP</BICFI></FinInstnId></CdtrAgt>"
            f"<Cdtr><Nm>{escape(creditor)}</Nm></Cdtr>"
            f"<CdtrAcct><Id><IBAN>{IBANS[(n + 1) % 4]}</IBAN></Id></CdtrAcct>"
            f"<RmtInf><Ustrd>{escape(remittance)}</Ustrd></RmtInf></CdtTrfTxInf>")


def write_messages(folder: Path, count: int, population: list[str], listed: list[tuple[str, str]],
                   rng: random.Random) -> dict[str, str]:
    """pacs.008 files; returns {end-to-end id: planted entity id}."""
    planted: dict[str, str] = {}
    remits = ["Invoice {n}", "Rent {m} 2023", "Salary {m}", "Order {n} goods", "Consulting services {m}"]
    months = ["January", "February", "March", "April", "May", "June"]
    for f in range(0, count, 1000):
        parts = []
        for n in range(f, min(count, f + 1000)):
            debtor, creditor = rng.choice(population), rng.choice(population)
            if rng.random() < 0.01:
                entity_id, name = rng.choice(listed)
                creditor = variant(name, rng)
                planted[f"E2E-{n}"] = entity_id
            remit = rng.choice(remits).format(n=rng.randrange(10**6), m=rng.choice(months))
            parts.append(tx(n, debtor, creditor, f"{rng.randrange(1, 10**6)}.{rng.randrange(100):02d}", remit))
        (folder / f"pacs008_{f:07d}.xml").write_text(
            '<?xml version="1.0" encoding="UTF-8"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08">'
            f"<FIToFICstmrCdtTrf><GrpHdr><MsgId>BENCH-{f}</MsgId><NbOfTxs>{len(parts)}</NbOfTxs></GrpHdr>"
            + "".join(parts) + "</FIToFICstmrCdtTrf></Document>", encoding="utf-8")
    return planted


def bench_payments(args: argparse.Namespace, tmp: Path) -> None:
    engine = open_engine(str(tmp / "payments.db"), create=True)
    load_list(engine, open_list(DATA / "un_consolidated_2026-02-27.xml", "un"))
    load_list(engine, open_list(DATA / "ofac_sdn_2023-06-05.csv", "ofac-sdn"))
    screener = open_screener(engine)
    rng = random.Random(7)
    fake = Faker(LOCALES)
    fake.seed_instance(7)
    population = [fake.name() if rng.random() < 0.7 else fake.company() for _ in range(args.population)]
    listed = [(e.entity_id, e.caption) for e in screener.index.entities
              if e.schema == "Person" and e.caption.isascii() and len(e.caption.split()) >= 2]
    folder = tmp / "messages"
    folder.mkdir()
    planted = write_messages(folder, args.messages, population, listed, rng)
    files = sorted(folder.iterdir())
    threshold = PaymentScreener(screener, threshold=args.threshold).threshold
    innocent = args.messages - len(planted)
    naive = PaymentScreener(screener, threshold=args.threshold, cache=False)
    sample = list(read_payments(files[0]))[: args.naive_sample]
    t0 = time.perf_counter()
    list(naive.screen_all(sample))
    naive_rate = len(sample) / (time.perf_counter() - t0)
    print(f"payments: {args.messages:,} pacs.008 messages, {len(planted)} planted, population {args.population:,}, "
          f"threshold {threshold}; load average before: {os.getloadavg()[0]:.1f} (2 cores, shared)")
    print("| method | processes screening names | messages/s | CPU s per 1,000 messages | recall on planted "
          "| innocent payments held | all held |")
    print("|---|---|---|---|---|---|---|")
    print(f"| naive: every party screened (first {len(sample):,}) | 1 | {naive_rate:,.0f} | "
          f"{1000 / naive_rate:.2f} | | | |")
    for workers in args.workers:
        ours = PaymentScreener(screener, threshold=args.threshold)
        before = _cpu()
        t0 = time.perf_counter()
        with worker_pool(ours, workers, after_fork=lambda: engine.dispose(close=False)) as pool:
            decisions = list(screen_parallel(ours, read_files(files), pool))
        ours_s = time.perf_counter() - t0
        cpu = _cpu() - before
        held = found = innocent_held = 0
        for d in decisions:
            if isinstance(d, PaymentDecision):
                held += d.decision == "hold"
                if d.reference in planted:
                    found += planted[d.reference] in {h.entity_id for h in d.hits}
                else:
                    innocent_held += d.decision == "hold"
        print(f"| jointwatch (name cache, names of a batch screened together) | {workers} "
              f"| {args.messages / ours_s:,.0f} | {1000 * cpu / args.messages:.2f} "
              f"| {found / max(1, len(planted)):.3f} ({found}/{len(planted)}) "
              f"| {innocent_held:,} of {innocent:,} ({innocent_held / max(1, innocent):.2%}) "
              f"| {held:,} ({held / args.messages:.2%}) |")
        reused = f", {ours.memory.reused:,} answered from this process's name memory" \
            if getattr(ours, "memory", None) is not None else ""
        print(f"  ({workers} process(es): {ours.totals.names_screened:,} engine calls{reused}, {ours_s:.1f} s, "
              f"load average after {os.getloadavg()[0]:.1f})")


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (the worker processes)."""
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def bench_customers(args: argparse.Namespace, tmp: Path) -> None:
    engine = open_engine(str(tmp / "customers.db"), create=True)
    load_list(engine, open_list(DATA / "ofac_sdn_2023-03-01.csv", "ofac-sdn"))
    fake = Faker(LOCALES)
    fake.seed_instance(11)
    rng = random.Random(11)
    path = tmp / "customers.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        w = csv.writer(handle)
        w.writerow(["id", "name", "type", "birth_date", "nationality", "country", "accounts"])
        for i in range(args.customers):
            org = rng.random() < 0.2
            w.writerow([f"C{i:07d}", fake.company() if org else fake.name(), "organization" if org else "person",
                        "" if org else fake.date_of_birth(minimum_age=18, maximum_age=90).isoformat(), "", "", ""])
    t0, c0 = time.perf_counter(), _cpu()
    first = screen_customer_file(engine, open_screener(engine), path)
    initial, initial_cpu = time.perf_counter() - t0, _cpu() - c0
    load_list(engine, open_list(DATA / "ofac_sdn_2023-06-05.csv", "ofac-sdn"))
    t0 = time.perf_counter()
    screener = open_screener(engine)
    index_s = time.perf_counter() - t0
    t0, c0 = time.perf_counter(), _cpu()
    delta = rescreen_delta(engine, screener)
    delta_s, delta_cpu = time.perf_counter() - t0, _cpu() - c0
    delta_pairs = open_alert_pairs(engine)
    t0, c0 = time.perf_counter(), _cpu()
    full = rescreen_full(engine, screener)
    full_s, full_cpu = time.perf_counter() - t0, _cpu() - c0
    same = open_alert_pairs(engine) == delta_pairs
    print(f"customers: {args.customers:,} rows; first full screen {initial:.1f} s ({initial_cpu:.1f} CPU s), "
          f"{first.open_alerts} alerts; "
          f"index of 2023-06-05 built in {index_s:.1f} s (shared by both runs); "
          f"load average now {os.getloadavg()[0]:.1f} (2 cores, shared)")
    print("| re-screen after OFAC 2023-03-01 -> 2023-06-05 | seconds | CPU s | customers screened | new | withdrawn |")
    print("|---|---|---|---|---|---|")
    print(f"| delta | {delta_s:.1f} | {delta_cpu:.1f} | {delta.run.screened:,} | {delta.run.new_alerts} "
          f"| {delta.run.withdrawn_alerts} |")
    print(f"| full (anchor) | {full_s:.1f} | {full_cpu:.1f} | {full.run.screened:,} | {full.run.new_alerts} | "
          f"{full.run.withdrawn_alerts} |")
    print(f"delta is {full_s / delta_s:.1f}x faster by the clock, {full_cpu / delta_cpu:.1f}x by CPU; "
          f"identical open alerts: {same} ({len(delta_pairs)} pairs)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--population", type=int, default=20_000)
    parser.add_argument("--naive-sample", type=int, default=1000)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--threshold", type=float, default=None,
                        help="payment screening threshold (default: the engine's)")
    parser.add_argument("--workers", type=lambda v: [int(w) for w in v.split(",")], default=[1, 2],
                        help="processes screening distinct names, one run each (1: this process alone), e.g. 1,2")
    parser.add_argument("--skip", choices=["payments", "customers"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("JOINTWATCH_CACHE", str(Path(tmp) / "cache"))
        if args.skip != "payments":
            bench_payments(args, Path(tmp))
        if args.skip != "customers":
            bench_customers(args, Path(tmp))


if __name__ == "__main__":
    main()
