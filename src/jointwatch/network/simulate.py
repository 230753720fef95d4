"""Synthetic transaction sets with planted financing networks and the truth written beside them.

Normal life: monthly salaries on paydays, card payments to shops (more at weekends and in
December), transfers between people (some across borders through money service
businesses), shops paying suppliers. Planted: financing networks (``plant.py``) and a few
round-tripping cycles. Everything is drawn from a seeded generator: the same settings give
the same file.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from jointwatch import csvsafe
from jointwatch.errors import InvalidInputError
from jointwatch.network.plant import DAY, Planted, plant_cycles, plant_networks
from jointwatch.network.schema import BASE_CURRENCY, COLUMNS, default_rates

# written into truth.json: 2 since a collector's first forward carries every gift before it (issue 20; before,
# gifts older than its first five days stayed with the collector while the truth counted them as reached). The
# benchmarks make a set again when its truth is of an earlier version
VERSION = 2
COUNTRY_WEIGHTS = {"de": 40, "fr": 6, "gb": 5, "tr": 6, "nl": 3, "be": 2, "at": 2, "se": 2, "dk": 1, "us": 3,
                   "ca": 1, "it": 3, "es": 2, "pl": 2, "ch": 1, "ru": 1, "ua": 1, "ma": 1, "dz": 1, "tn": 1,
                   "eg": 1, "sa": 1, "ae": 1, "qa": 1, "kw": 1, "jo": 1, "lb": 1, "iq": 1, "pk": 1, "in": 1,
                   "bd": 1, "id": 1, "my": 1, "ng": 1, "so": 1, "ke": 1, "ba": 1, "xk": 1, "al": 1, "ge": 1,
                   "az": 1, "kz": 1, "au": 1, "no": 1, "fi": 1, "ie": 1, "pt": 1, "gr": 1, "ro": 1, "bg": 1}
CURRENCY = {"de": "EUR", "fr": "EUR", "nl": "EUR", "be": "EUR", "at": "EUR", "it": "EUR", "es": "EUR",
            "fi": "EUR", "ie": "EUR", "pt": "EUR", "gr": "EUR", "xk": "EUR", "gb": "GBP", "tr": "TRY",
            "se": "SEK", "dk": "DKK", "ch": "CHF", "pl": "PLN", "ru": "RUB", "sa": "SAR", "ae": "AED",
            "qa": "QAR", "kw": "KWD", "jo": "JOD", "pk": "PKR", "in": "INR", "ng": "NGN", "no": "NOK"}
FIRST = ("Ahmed", "Fatima", "Jonas", "Lena", "Mehmet", "Ayse", "Pierre", "Claire", "John", "Mary", "Omar", "Leila",
         "Ivan", "Olga", "Karim", "Sara", "Lucas", "Emma", "Yusuf", "Zeynep", "Marco", "Giulia", "Piotr", "Anna")
LAST = ("Schmidt", "Yilmaz", "Dubois", "Smith", "Haddad", "Kowalski", "Rossi", "Petrov", "Khan", "Nielsen",
        "Garcia", "Ozturk", "Meyer", "Benali", "Hansen", "Novak", "Ibrahim", "Jansen", "Silva", "Costa")


@dataclass(frozen=True)
class SimulationSettings:
    transactions: int = 100_000
    networks: int = 3
    donors: int = 40              # per network
    countries: int = 40           # donors come from the this many most populous countries
    days: int = 180
    start: str = "2024-01-01"
    seed: int = 7
    home: str = "de"              # the FIU's own country: most accounts are held here
    cycles: int = 3
    dirty: int = 0                # bad rows to add (negative, non-numeric, unknown currency …)

    def __post_init__(self) -> None:
        if self.transactions < 1000:
            raise InvalidInputError("simulate at least 1000 transactions")
        if not 1 <= self.countries <= len(COUNTRY_WEIGHTS):
            raise InvalidInputError(f"countries must be between 1 and {len(COUNTRY_WEIGHTS)}")


def simulate(out_dir: Path, settings: SimulationSettings, fmt: str = "parquet",
             progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Write ``transactions.<fmt>``, ``designated.txt`` and ``truth.json`` into ``out_dir``."""
    if fmt not in ("csv", "parquet"):
        raise InvalidInputError(f"format must be csv or parquet, not {fmt!r}")
    if settings.dirty and fmt != "csv":
        raise InvalidInputError("bad rows (--dirty) can only be written into CSV: Parquet columns are typed")
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(settings.seed)
    start = int(datetime.fromisoformat(settings.start).replace(tzinfo=UTC).timestamp())
    n_people = max(2000, settings.transactions // 20)
    countries = list(COUNTRY_WEIGHTS)
    weights = np.array([COUNTRY_WEIGHTS[c] for c in countries], dtype=float)
    # people are numbered country by country, so "someone in the same country" is a range of numbers
    people_country = np.sort(np.array(countries)[rng.choice(len(countries), size=n_people, p=weights / weights.sum())])
    persons = {"id": np.char.add("P", np.arange(n_people).astype(str)), "country": people_country}
    n_shops, n_employers = max(50, n_people // 25), max(10, n_people // 150)
    planted = plant_networks(rng, persons, settings.networks, settings.donors, settings.countries, start,
                             settings.days, settings.home)
    loops = plant_cycles(rng, planted, persons, settings.cycles, start, settings.days)
    table = _accounts(rng, persons, n_shops, n_employers, planted, settings.home)
    index = {acc: i for i, acc in enumerate(table["id"].to_pylist())}
    rates = default_rates()
    path = out_dir / f"transactions.{fmt}"
    writer = _Writer(path, fmt, table, rates)
    chunks = max(1, settings.transactions // 500_000)
    span = settings.days * DAY / chunks
    planted_rows = sorted(planted.rows, key=lambda r: r.t)
    normal_total = settings.transactions - len(planted_rows)
    next_id, written = 0, 0
    for k in range(chunks):
        lo, hi = start + int(k * span), start + int((k + 1) * span)
        n = normal_total // chunks + (1 if k < normal_total % chunks else 0)
        src, dst, t, usd, channel = _normal(rng, n, lo, hi, n_people, n_shops, n_employers, people_country)
        mine = [r for r in planted_rows if lo <= r.t < hi or (k == chunks - 1 and r.t >= hi) or (k == 0 and r.t < lo)]
        if mine:
            src = np.concatenate([src, [index[r.src] for r in mine]])
            dst = np.concatenate([dst, [index[r.dst] for r in mine]])
            t = np.concatenate([t, [r.t for r in mine]])
            usd = np.concatenate([usd, [r.usd for r in mine]])
            channel = np.concatenate([channel, [r.channel for r in mine]])
        order = np.argsort(t, kind="stable")
        writer.write(next_id, src[order], dst[order], t[order], usd[order], channel[order])
        next_id += len(order)
        written += len(order)
        if progress:
            progress(written)
    writer.close()
    dirty = _dirty_rows(path, settings.dirty, start) if settings.dirty else {}
    truth = _truth(planted, settings, loops, dirty, written)
    (out_dir / "truth.json").write_text(json.dumps(truth, indent=2, ensure_ascii=False), encoding="utf-8")
    (out_dir / "designated.txt").write_text(
        "".join(n["designated"] + "\n" for n in truth["networks"]), encoding="utf-8")
    return {"transactions": str(path), "rows": written + sum(dirty.values()), "truth": str(out_dir / "truth.json"),
            "designated": str(out_dir / "designated.txt"), "planted_rows": len(planted_rows)}


def _accounts(rng: np.random.Generator, persons: dict[str, Any], n_shops: int, n_employers: int,
              planted: Planted, home: str) -> Any:
    import pyarrow as pa  # noqa: PLC0415

    n = len(persons["id"])
    first, last = np.array(FIRST), np.array(LAST)
    names = np.char.add(np.char.add(first[rng.integers(len(first), size=n)], " "),
                        last[rng.integers(len(last), size=n)])
    ids = list(persons["id"]) + [f"S{i}" for i in range(n_shops)] + [f"E{i}" for i in range(n_employers)]
    shop_country = [home if rng.random() < 0.8 else str(persons["country"][int(rng.integers(n))])
                    for _ in range(n_shops)]
    countries = list(persons["country"]) + shop_country + [home] * n_employers
    all_names = (list(names) + [f"Shop {i} GmbH" for i in range(n_shops)]
                 + [f"Employer {i} AG" for i in range(n_employers)])
    inst = [f"BANK{c.upper()}" for c in countries]
    for acc, info in planted.accounts.items():
        ids.append(acc)
        all_names.append(info["name"])
        countries.append(info["country"])
        inst.append(info["institution"])
    return pa.table({"id": ids, "name": all_names, "country": countries, "institution": inst})


def _normal(rng: np.random.Generator, n: int, lo: int, hi: int, n_people: int, n_shops: int, n_employers: int,
            people_country: np.ndarray) -> tuple[np.ndarray, ...]:
    shops0, emp0 = n_people, n_people + n_shops
    kind = rng.choice(4, size=n, p=[0.62, 0.14, 0.04, 0.20])   # shop, person, supplier, salary
    src = np.empty(n, dtype=np.int64)
    dst = np.empty(n, dtype=np.int64)
    usd = np.empty(n, dtype=float)
    t = lo + rng.integers(0, max(1, hi - lo), size=n)
    # weekends and December carry more card payments: redraw a share of weekday times
    days = (t // DAY + 3) % 7          # 1970-01-01 was a Thursday: 5, 6 = Sat, Sun
    december = (t.astype("datetime64[s]").astype("datetime64[M]").astype(int) % 12) == 11
    redraw = (kind == 0) & (days < 5) & ~december & (rng.random(n) < 0.25)
    t[redraw] = lo + rng.integers(0, max(1, hi - lo), size=int(redraw.sum()))
    m = kind == 0
    src[m], dst[m] = rng.integers(0, n_people, size=m.sum()), shops0 + rng.integers(0, n_shops, size=m.sum())
    usd[m] = rng.lognormal(3.6, 0.9, size=m.sum())
    m = kind == 1
    # transfers between people: four in five stay in the sender's country
    a, b = rng.integers(0, n_people, size=m.sum()), rng.integers(0, n_people, size=m.sum())
    _, first, size = np.unique(people_country, return_index=True, return_counts=True)
    block = np.searchsorted(first, a, side="right") - 1
    local = first[block] + (rng.random(m.sum()) * size[block]).astype(np.int64)
    b = np.where(rng.random(m.sum()) < 0.8, local, b)
    b = np.where(a == b, (b + 1) % n_people, b)
    src[m], dst[m] = a, b
    usd[m] = rng.lognormal(4.8, 1.0, size=m.sum())
    m = kind == 2
    a, b = rng.integers(0, n_shops, size=m.sum()), rng.integers(0, n_shops, size=m.sum())
    b = np.where(a == b, (b + 1) % n_shops, b)
    src[m], dst[m] = shops0 + a, shops0 + b
    usd[m] = rng.lognormal(7.0, 1.0, size=m.sum())
    m = kind == 3
    # salaries: paid on the 25th to the 28th of the month, a few hours after midnight
    # everyone has one employer: person k works for employer k mod E
    dst[m] = rng.integers(0, n_people, size=m.sum())
    src[m] = emp0 + dst[m] % n_employers
    month = t[m].astype("datetime64[s]").astype("datetime64[M]")
    pay = (month.astype("datetime64[D]") + rng.integers(24, 28, size=m.sum())).astype("datetime64[s]").astype(np.int64)
    t[m] = pay + rng.integers(3600, 6 * 3600, size=m.sum())
    usd[m] = rng.lognormal(8.0, 0.35, size=m.sum())
    channel = np.array(["card", "wire", "wire", "wire"])[kind]
    abroad = (kind == 1) & (people_country[src.clip(0, n_people - 1)] != people_country[dst.clip(0, n_people - 1)])
    channel[abroad] = "msb"
    return src, dst, t, np.round(usd, 2), channel


class _Writer:
    def __init__(self, path: Path, fmt: str, accounts: Any, rates: dict[str, float]) -> None:
        import pyarrow as pa  # noqa: PLC0415

        self.pa, self.path, self.fmt, self.accounts, self.rates = pa, path, fmt, accounts, rates
        self.currency = np.array([CURRENCY.get(c, BASE_CURRENCY) for c in accounts["country"].to_pylist()])
        self.rate = np.array([rates[c] for c in self.currency])
        self.sink: Any = None

    def write(self, first_id: int, src: np.ndarray, dst: np.ndarray, t: np.ndarray, usd: np.ndarray,
              channel: np.ndarray) -> None:
        pa = self.pa
        a = self.accounts
        s, d = pa.array(src), pa.array(dst)
        amount = np.round(usd / self.rate[src], 2)
        amount = np.where(amount <= 0, 0.01, amount)
        ts = np.datetime_as_string(t.astype("datetime64[s]"), unit="s")
        columns = {"id": np.char.add("TX", np.arange(first_id, first_id + len(src)).astype(str)),
                   "timestamp": np.char.replace(ts, "T", " "), "amount": amount, "currency": self.currency[src],
                   "sender_account": a["id"].take(s), "receiver_account": a["id"].take(d),
                   "sender_name": a["name"].take(s), "receiver_name": a["name"].take(d),
                   "sender_country": a["country"].take(s), "receiver_country": a["country"].take(d),
                   "sender_institution": a["institution"].take(s), "receiver_institution": a["institution"].take(d),
                   "channel": channel}
        self.emit(pa.table({c: columns[c] for c in COLUMNS}))

    def emit(self, table: Any) -> None:
        if self.fmt == "parquet":
            import pyarrow.parquet as pq  # noqa: PLC0415

            if self.sink is None:
                self.sink = pq.ParquetWriter(self.path, table.schema)
            self.sink.write_table(table)
        else:
            import pyarrow.csv as pc  # noqa: PLC0415

            if self.sink is None:
                self.sink = pc.CSVWriter(self.path, table.schema,
                                         write_options=pc.WriteOptions(quoting_style="needed"))
            self.sink.write_table(table)

    def close(self) -> None:
        if self.sink is not None:
            self.sink.close()


def _dirty_rows(path: Path, count: int, start: int) -> dict[str, int]:
    """Append bad rows of each kind, round-robin, to the CSV; the kinds and counts go into the truth."""
    kinds = ["non_positive_amount", "non_numeric_amount", "unknown_currency", "duplicate_id", "self_transfer"]
    made: dict[str, int] = {}
    with path.open("a", encoding="utf-8", newline="") as handle:
        writer = csvsafe.writer(handle)
        for i in range(count):
            kind = kinds[i % len(kinds)]
            made[kind] = made.get(kind, 0) + 1
            row = {"id": f"BAD{i}", "amount": "100.00", "currency": "EUR", "receiver_account": "P2",
                   "timestamp": datetime.fromtimestamp(start + i * 60, UTC).strftime("%Y-%m-%d %H:%M:%S")}
            if kind == "non_positive_amount":
                row["amount"] = "-25.00"
            elif kind == "non_numeric_amount":
                row["amount"] = "12,50 EUR"
            elif kind == "unknown_currency":
                row["currency"] = "XYZ"
            elif kind == "duplicate_id":
                row["id"] = "TX0"
            else:
                row["receiver_account"] = "P1"
            defaults = {"sender_account": "P1", "sender_name": "x", "receiver_name": "y", "sender_country": "de",
                        "receiver_country": "de", "channel": "wire"}
            writer.writerow([row.get(c, defaults.get(c, "")) for c in COLUMNS])
    return made


def _truth(planted: Planted, settings: SimulationSettings, loops: list[list[str]], dirty: dict[str, int],
           rows: int) -> dict[str, Any]:
    countries: dict[str, float] = {}
    for network in planted.truth["networks"]:
        for donor in network["donors"]:
            countries[donor["country"]] = round(countries.get(donor["country"], 0.0) + donor["amount"], 2)
    return {"version": VERSION, "settings": asdict(settings), "rows": rows, "networks": planted.truth["networks"],
            "country_totals_usd": dict(sorted(countries.items(), key=lambda kv: -kv[1])), "cycles": loops,
            "bad_rows": dirty,
            "note": "donor amounts are what each donor gave; all of it was forwarded to the designated account"}
