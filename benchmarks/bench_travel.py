"""A 500-traveller PAXLST screened end to end, with listed persons planted under variant spellings.

What is measured:

- A temporary SQLite store is loaded with the real UN consolidated list and the OFAC SDN list
  (2023-06-05). The screening index is built once (as a running service or a previous run has).
- A PAXLST D05B message is generated: ``--travellers`` passengers (default 500) with names from
  Faker in several locales, birth dates, nationalities and passports, and ``--planted`` (default 10)
  UN-listed individuals with a full birth date, each under a variant of a listed name: words
  reordered, one word left out, or one letter changed in the longest word, with the listed birth date
  and a passport number not on the list (the name and birth date must find them).
- Timed, median of ``--repeat`` runs: reading the message (envelope, segments, travellers), screening
  every traveller, and both; and once, the whole ``jointwatch travel screen`` command as a subprocess
  (process start, index load from its cache, reading, screening, output).
- Anchor: pydifact's own ``Parser().parse()`` of the same message (segments only, no travellers):
  what our reading adds on top of the syntax layer.

Targets (issue 5): under 2 s end to end on 2 cores; every planted person ``refer`` or ``hit``.

    python benchmarks/bench_travel.py [--travellers 500] [--planted 10] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from datetime import date, timedelta
from pathlib import Path

from faker import Faker
from sqlalchemy import select

from jointwatch.screening import open_screener
from jointwatch.sources import open_list
from jointwatch.store import load_list, open_engine
from jointwatch.store.schema import statements
from jointwatch.store.travel_documents import find_documents
from jointwatch.travel.read import read_travellers
from jointwatch.travel.screen import screen_manifest

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "lists"
LOCALES = ("en_GB", "fr_FR", "de_DE", "es_ES", "it_IT", "nl_NL", "tr_TR", "ar_AA", "pl_PL", "en_US")
NATIONALITIES = ("GBR", "FRA", "DEU", "ESP", "ITA", "NLD", "TUR", "EGY", "POL", "USA")


def _variant(words: list[str], rng: random.Random) -> list[str]:
    kind = rng.choice(("reorder", "drop", "typo"))
    words = list(words)
    if kind == "reorder" and len(words) > 1:
        return words[-1:] + words[:-1]
    if kind == "drop" and len(words) > 2:
        words.pop(rng.randrange(1, len(words) - 1))
        return words
    longest = max(range(len(words)), key=lambda i: len(words[i]))
    word = words[longest]
    letters = [j for j, c in enumerate(word) if c.isalpha()]
    i = rng.choice(letters[1:-1] or letters)      # a letter, not a hyphen or apostrophe
    words[longest] = word[:i] + rng.choice("AEIOUY".replace(word[i], "")) + word[i + 1:]
    return words


def planted_people(engine, count: int, rng: random.Random) -> list[tuple[str, list[str], date]]:
    """(reference, name words, birth date) of UN individuals with one Latin name and a full birth date."""
    with engine.connect() as connection:
        rows = connection.execute(select(statements.c.reference, statements.c.prop, statements.c.value).where(
            statements.c.source == "un_sc", statements.c.schema == "Person",
            statements.c.prop.in_(("name", "birthDate")))).all()
    names: dict[str, str] = {}
    births: dict[str, set[str]] = {}
    for reference, prop, value in rows:
        if prop == "name" and value.isascii():
            names.setdefault(reference, value)
        elif prop == "birthDate" and len(value) == 10:
            births.setdefault(reference, set()).add(value)
    usable = sorted(r for r in names if len(births.get(r, ())) == 1 and len(names[r].split()) >= 2)
    chosen = rng.sample(usable, count)
    return [(r, names[r].upper().replace(",", "").split(), date.fromisoformat(next(iter(births[r]))))
            for r in chosen]


def paxlst(travellers: list[tuple[str, str, date, str, str, str]]) -> str:
    """A PAXLST D05B message of (surname, given, birth, gender, nationality, passport)."""
    out = ["UNA:+.? '", "UNB+UNOA:4+BENCHAIR:ZZ+NLAPIS:ZZ+261129:0900+BENCH1++APIS'",
           "UNH+M1+PAXLST:D:05B:UN:IATA+BA100/261130+01:F'", "BGM+745'", "NAD+MS+++OPS'",
           "TDT+20+BA100+++BA'", "LOC+125+LHR'", "DTM+189:2611301015:201'", "LOC+87+AMS'",
           "DTM+232:2611301230:201'"]
    for surname, given, birth, gender, nat, passport in travellers:
        esc = lambda s: "".join("?" + c if c in "+:'?" else c for c in s)  # noqa: E731
        out += [f"NAD+FL+++{esc(surname)}:{esc(given)}'", f"ATT+2++{gender}'", f"DTM+329:{birth:%y%m%d}'",
                f"NAT+2+{nat}'", f"DOC+P:110:111+{passport}'", "DTM+36:301231'", f"LOC+91+{nat}'"]
    out += [f"CNT+42:{len(travellers)}'", f"UNT+{len(out) - 1}+M1'", "UNZ+1+BENCH1'"]
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--travellers", type=int, default=500)
    parser.add_argument("--planted", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="jw-bench-travel-"))
    os.environ["JOINTWATCH_CACHE"] = str(tmp / "cache")
    db = tmp / "register.db"
    engine = open_engine(str(db), create=True)
    load_list(engine, open_list(DATA / "un_consolidated_2026-02-27.xml", "un"))
    load_list(engine, open_list(DATA / "ofac_sdn_2023-06-05.csv", "ofac-sdn"))
    started = time.perf_counter()
    screener = open_screener(engine)
    print(f"index built in {time.perf_counter() - started:.1f} s (once; cached on disk after)")

    fakers = [Faker(locale) for locale in LOCALES]
    for i, f in enumerate(fakers):
        f.seed_instance(args.seed + i)
    rows = []
    for i in range(args.travellers - args.planted):
        k = i % len(fakers)
        rows.append((fakers[k].last_name().upper(), fakers[k].first_name().upper(),
                     date(1950, 1, 1) + timedelta(days=rng.randrange(25000)), rng.choice("MF"),
                     NATIONALITIES[k], f"X{rng.randrange(10**7, 10**8)}"))
    planted = planted_people(engine, args.planted, rng)
    for _ref, words, birth in planted:
        words = _variant(words, rng)
        rows.insert(rng.randrange(len(rows) + 1),
                    (words[-1], " ".join(words[:-1]), birth, "M", "EGY", f"Q{rng.randrange(10**7, 10**8)}"))
    message = paxlst(rows)
    path = tmp / "paxlst.edi"
    path.write_text(message, encoding="utf-8")

    read_s, screen_s, anchor_s = [], [], []
    result = None
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        [manifest] = read_travellers(message, str(path))
        t1 = time.perf_counter()
        result = screen_manifest(manifest, screener, lambda numbers: find_documents(engine, numbers))
        t2 = time.perf_counter()
        from pydifact.parser import Parser
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            list(Parser().parse(message))
        anchor_s.append(time.perf_counter() - t2)
        read_s.append(t1 - t0)
        screen_s.append(t2 - t1)
    assert result is not None
    by_name = {r.traveller.name: r for r in result.results}
    found = 0
    print(f"\n{'planted (UN reference)':<22} {'as written on the manifest':<48} status  best match")
    for reference, _words, birth in planted:
        match = next(r for r in result.results
                     if r.traveller.birth_date == birth and r.traveller.documents[0].number.startswith("Q"))
        ok = match.status in ("refer", "hit")
        found += ok
        best = match.matches[0].reference if match.matches else "-"
        print(f"{reference:<22} {match.traveller.name[:46]:<48} {match.status:<7} {best}")
    counts = result.counts()
    innocents_flagged = sum(1 for r in result.results if r.status != "clear") - found
    print(f"\n{len(by_name)} travellers; planted found {found}/{len(planted)}; statuses {counts}; "
          f"innocent travellers referred: {innocents_flagged}")

    started = time.perf_counter()
    cli = subprocess.run([str(Path(sys.executable).parent / "jointwatch"), "travel", "screen", str(path), "--json",
                          "--db", str(db)], capture_output=True, text=True, env={**os.environ},
                         check=False)
    cli_s = time.perf_counter() - started
    if cli.returncode != 0:
        print(cli.stderr[-2000:])
    med = statistics.median
    print(f"\n{'step':<44} {'median s':>9}")
    print(f"{'anchor: pydifact Parser().parse (segments)':<44} {med(anchor_s):>9.3f}")
    ratio = med(read_s) / med(anchor_s)
    print(f"{'read: envelope + segments + travellers':<44} {med(read_s):>9.3f}  ({ratio:.2f}× anchor)")
    print(f"{'screen: register + documents, all travellers':<44} {med(screen_s):>9.3f}  "
          f"({len(rows) / med(screen_s):,.0f} travellers/s)")
    print(f"{'read + screen (in process)':<44} {med(read_s) + med(screen_s):>9.3f}")
    print(f"{'jointwatch travel screen (whole command, once)':<44} {cli_s:>9.3f}  exit {cli.returncode}")


if __name__ == "__main__":
    main()
