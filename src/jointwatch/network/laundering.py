"""A second, AMLSim-family simulator: salaried people living ordinary lives, some of whom launder on the side.

Every account has ordinary income and spending: a monthly salary from its employer, bills to
the same landlord, utility and phone company each month, card payments at its usual shops,
transfers to a circle of friends (now and then to a stranger, abroad over ``msb``), and the
odd large purchase. Intermediaries are such salaried people too. Planted on top, each
instance labelled in ``truth.json``:

* ``fan_in``: donors in many countries give to a collector, who passes a share on to a
  designated account;
* ``fan_out``: one account receives a large sum from abroad and pays it out to many;
* ``cycle``: money goes round 3–5 accounts and comes back, a share at each step;
* ``scatter_gather``: a funder pays 4–8 intermediaries, each passes a share to one gatherer,
  who pays the designated account;
* ``gather_scatter``: many pay one hub, which pays many;
* ``stack``: a funder's money through 2–5 layers of 1–3 accounts each, every layer paying
  every account of the next, the last the designated account;
* ``bipartite``: 3–5 accounts each pay 3–5 others, all to all;
* ``broker_netting`` (where the configuration says so): a hawala-like broker pair carries
  home-country donors' gifts (with innocent remittances), settles net across the border and
  pays a collector.

Each intermediary passes on a share drawn from the configuration's range (70–100 %). The
truth lists every planted typology with its accounts and key accounts, every illicit
account, and, like ``simulate``'s, every donor with the USD that reached a designated account
(so the trace's attribution is scored on this simulator too).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from jointwatch.errors import InvalidInputError
from jointwatch.network.plant import DAY
from jointwatch.network.schema import default_rates
from jointwatch.network.simulate import _Writer

TYPOLOGIES = ("fan_in", "fan_out", "cycle", "scatter_gather", "gather_scatter", "stack", "bipartite",
              "broker_netting")
# where people live, besides the home country (weights); each configuration draws from one mix
MIXES = {
    "europe": {"fr": 8, "gb": 6, "nl": 4, "be": 3, "at": 3, "it": 5, "es": 4, "pl": 4, "se": 2, "tr": 8, "ma": 3,
               "dz": 2, "tn": 2, "ba": 2, "xk": 2, "al": 2, "ru": 2, "ua": 2, "us": 2, "ch": 2},
    "central_asia": {"tr": 8, "ru": 6, "uz": 5, "tj": 4, "kg": 3, "kz": 4, "af": 4, "pk": 4, "az": 3, "ge": 3,
                     "am": 2, "ua": 3, "pl": 3, "at": 2, "de": 4, "us": 2},
    "gulf_asia": {"sa": 6, "ae": 8, "qa": 4, "kw": 3, "jo": 3, "lb": 3, "iq": 3, "pk": 8, "in": 8, "bd": 4,
                  "id": 4, "my": 4, "tr": 4, "eg": 4, "us": 2, "gb": 3},
    "africa": {"ng": 6, "so": 5, "ke": 5, "et": 3, "sd": 3, "ml": 2, "sn": 3, "ma": 5, "dz": 5, "tn": 4, "eg": 5,
               "ly": 2, "tr": 4, "be": 3, "it": 3, "es": 3},
}
COLLECTOR_COUNTRIES = {"europe": ("tr", "ba", "xk"), "central_asia": ("tr", "ge", "kz"),
                       "gulf_asia": ("jo", "lb", "pk"), "africa": ("so", "ke", "ml")}
TARGET_COUNTRIES = ("sy", "iq", "so")


@dataclass(frozen=True)
class LaunderingSettings:
    people: int = 4000
    days: int = 120
    seed: int = 11
    home: str = "de"
    mix: str = "europe"
    home_share: float = 0.6        # of the people living in the home country
    share_low: float = 0.9         # each intermediary passes on between share_low and share_high
    share_high: float = 1.0
    broker_netting: bool = False
    instances: int = 6             # of each typology
    start: str = "2024-01-01"

    def __post_init__(self) -> None:
        if self.people < 300:
            raise InvalidInputError("simulate at least 300 people")
        if self.mix not in MIXES:
            raise InvalidInputError(f"mix must be one of {', '.join(MIXES)}, not {self.mix!r}")
        if not 0.5 <= self.share_low <= self.share_high <= 1.0:
            raise InvalidInputError("forwarding shares must satisfy 0.5 <= low <= high <= 1")
        if self.days < 90:
            raise InvalidInputError("simulate at least 90 days (seven weeks of history before anything is planted)")


# the configurations the benchmark and the ranking's training use: the figures must hold on each
CONFIGURATIONS = {
    "a": LaunderingSettings(seed=11, home="de", mix="europe", share_low=0.9, share_high=1.0),
    "b": LaunderingSettings(seed=23, home="gb", mix="gulf_asia", share_low=0.7, share_high=0.85,
                            broker_netting=True),
    "c": LaunderingSettings(seed=37, home="fr", mix="africa", share_low=0.75, share_high=1.0, broker_netting=True),
    # added after the rules' first thresholds were set on a-c (later changes were checked on it too)
    "d": LaunderingSettings(seed=53, home="se", mix="gulf_asia", home_share=0.45, share_low=0.7, share_high=0.95,
                            broker_netting=True, people=6000),
    # held out (issue 20's attribution): added after the earmarking rules were chosen on a-c, and not
    # looked at before they were fixed; its own seed, home country, mix and shares
    "e": LaunderingSettings(seed=71, home="it", mix="central_asia", home_share=0.5, share_low=0.8, share_high=0.95,
                            broker_netting=True, people=5000),
    # held out (issue 20's fan_in rule): added before fan_in's pass-on condition was chosen on a-e, and only
    # run once that rule was fixed
    "f": LaunderingSettings(seed=97, home="es", mix="africa", home_share=0.55, share_low=0.7, share_high=0.9,
                            broker_netting=True, people=4500),
}


@dataclass
class _World:
    rng: np.random.Generator
    start: int
    days: int
    ids: list[str]
    country: list[str]
    names: list[str]
    people: int
    src: list[int] = field(default_factory=list)
    dst: list[int] = field(default_factory=list)
    t: list[int] = field(default_factory=list)
    usd: list[float] = field(default_factory=list)
    channel: list[str] = field(default_factory=list)
    employers: list[int] = field(default_factory=list)
    shops: list[int] = field(default_factory=list)

    def add(self, kind_id: str, name: str, country: str) -> int:
        self.ids.append(kind_id)
        self.names.append(name)
        self.country.append(country)
        return len(self.ids) - 1

    def pay(self, src: int, dst: int, t: int, usd: float, channel: str = "wire") -> None:
        self.src.append(src)
        self.dst.append(dst)
        self.t.append(int(t))
        self.usd.append(round(float(usd), 2))
        self.channel.append(channel)


def simulate_laundering(out_dir: Path, settings: LaunderingSettings, fmt: str = "parquet") -> dict[str, Any]:
    """Write ``transactions.<fmt>``, ``designated.txt`` and ``truth.json`` (with the planted typologies)."""
    if fmt not in ("csv", "parquet"):
        raise InvalidInputError(f"format must be csv or parquet, not {fmt!r}")
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(settings.seed)
    start = int(datetime.fromisoformat(settings.start).replace(tzinfo=UTC).timestamp())
    mix = MIXES[settings.mix]
    abroad = list(mix)
    weights = np.array([mix[c] for c in abroad], dtype=float)
    n = settings.people
    home = rng.random(n) < settings.home_share
    drawn = np.array(abroad)[rng.choice(len(abroad), size=n, p=weights / weights.sum())]
    country = np.where(home, settings.home, drawn)
    names = [f"Person {i}" for i in range(n)]
    world = _World(rng, start, settings.days, [f"P{i}" for i in range(n)], [str(c) for c in country], names, n)
    _ordinary(world, settings)
    planted: list[dict[str, Any]] = []
    networks: dict[str, list[dict[str, Any]]] = {}
    free = list(rng.permutation(n))               # everyone takes part in at most one planted instance
    targets = [world.add(f"DSG-{k + 1}", f"Designated organisation {k + 1}", TARGET_COUNTRIES[k])
               for k in range(3)]
    _plant(world, settings, free, targets, planted, networks)
    table = _table(world)
    path = out_dir / f"transactions.{fmt}"
    writer = _Writer(path, fmt, table, default_rates())
    order = np.argsort(np.array(world.t), kind="stable")
    writer.write(0, np.array(world.src)[order], np.array(world.dst)[order], np.array(world.t)[order],
                 np.array(world.usd)[order], np.array(world.channel)[order])
    writer.close()
    donors = [d for net in networks.values() for d in net]
    countries: dict[str, float] = {}
    countries_fifo: dict[str, float] = {}
    for d in donors:
        countries[d["country"]] = round(countries.get(d["country"], 0.0) + d["amount"], 2)
        countries_fifo[d["country"]] = round(countries_fifo.get(d["country"], 0.0) + d["amount_fifo"], 2)
    illicit = sorted({a for p in planted for a in p["accounts"]} | {world.ids[t] for t in targets})
    truth = {"settings": asdict(settings), "rows": len(order), "typologies": planted, "illicit_accounts": illicit,
             "networks": [{"designated": world.ids[t], "donors": networks.get(world.ids[t], [])} for t in targets],
             "country_totals_usd": dict(sorted(countries.items(), key=lambda kv: -kv[1])),
             "country_totals_usd_fifo": dict(sorted(countries_fifo.items(), key=lambda kv: -kv[1])),
             "note": "donor amounts are the USD of each donor's gifts that reached a designated account (each "
                     "intermediary's forwarding share applied to every gift it passed on); amount_fifo: the "
                     "same by first in first out (a fan-in collector's forwards carry its first gifts whole, "
                     "the last not at all)"}
    (out_dir / "truth.json").write_text(json.dumps(truth, indent=2), encoding="utf-8")
    (out_dir / "designated.txt").write_text("".join(world.ids[t] + "\n" for t in targets), encoding="utf-8")
    return {"transactions": str(path), "rows": len(order), "truth": str(out_dir / "truth.json"),
            "designated": str(out_dir / "designated.txt"), "typologies": len(planted), "illicit": len(illicit)}


def _ordinary(w: _World, s: LaunderingSettings) -> None:
    rng, n = w.rng, w.people
    employers = [w.add(f"E{k}", f"Employer {k}", s.home) for k in range(max(5, n // 60))]
    shops = [w.add(f"S{k}", f"Shop {k}", s.home) for k in range(max(20, n // 25))]
    billers = [w.add(f"B{k}", f"Biller {k}", s.home) for k in range(max(6, n // 200))]
    landlords = [w.add(f"L{k}", f"Landlord {k}", s.home) for k in range(max(10, n // 40))]
    w.employers, w.shops = employers, shops
    months = range(int(np.ceil(s.days / 30)) + 1)
    end = w.start + s.days * DAY
    for p in range(n):
        employer = employers[int(rng.integers(len(employers)))]
        salary = float(rng.lognormal(7.9, 0.35))
        rent = salary * float(rng.uniform(0.25, 0.4))
        landlord = landlords[int(rng.integers(len(landlords)))]
        bills = [(billers[int(b)], float(rng.lognormal(4.2, 0.5)), int(rng.integers(1, 28)))
                 for b in rng.choice(len(billers), size=2, replace=False)]
        favourite = [shops[int(k)] for k in rng.choice(len(shops), size=8, replace=False)]
        friends = [int(f) for f in rng.integers(0, n, size=4) if int(f) != p]
        payday = int(rng.integers(24, 28))
        for m in months:
            base = w.start + m * 30 * DAY
            for t, amount, to, frm, channel in (
                    (base + payday * DAY + int(rng.integers(3600, 6 * 3600)), salary * rng.uniform(0.98, 1.02),
                     p, employer, "wire"),
                    (base + DAY + int(rng.integers(0, 2 * DAY)), rent, landlord, p, "wire"),
                    *((base + day * DAY + int(rng.integers(0, DAY)), amt * rng.uniform(0.8, 1.2), biller, p,
                       "wire") for biller, amt, day in bills)):
                if w.start <= t < end:
                    w.pay(frm, to, t, amount, channel)
        # card payments at the usual shops (one in five elsewhere), about 10 a month
        k = int(rng.poisson(10 * s.days / 30))
        for t in w.start + rng.integers(0, s.days * DAY, size=k):
            shop = favourite[int(rng.integers(8))] if rng.random() < 0.8 else shops[int(rng.integers(len(shops)))]
            w.pay(p, shop, int(t), rng.lognormal(3.5, 0.8), "card")
        # transfers to friends (about 1.5 a month), one in six to a stranger
        for t in w.start + rng.integers(0, s.days * DAY, size=int(rng.poisson(1.5 * s.days / 30))):
            to = friends[int(rng.integers(len(friends)))] if friends and rng.random() < 5 / 6 \
                else int(rng.integers(n))
            if to != p:
                w.pay(p, to, int(t), rng.lognormal(4.5, 1.0),
                      "msb" if w.country[p] != w.country[to] else "wire")
        # the odd large purchase by transfer (a car, a deposit)
        if rng.random() < 0.3:
            t = w.start + int(rng.integers(0, s.days * DAY))
            w.pay(p, shops[int(rng.integers(len(shops)))], t, rng.lognormal(7.5, 0.6), "wire")
    # shops pay suppliers and employers' revenue comes from shops: business-to-business transfers
    for shop in shops:
        for t in w.start + rng.integers(0, s.days * DAY, size=int(s.days / 7)):
            w.pay(shop, employers[int(rng.integers(len(employers)))], int(t), rng.lognormal(8.5, 0.5), "wire")


def _plant(w: _World, s: LaunderingSettings, free: list[int], targets: list[int], planted: list[dict[str, Any]],
           networks: dict[str, list[dict[str, Any]]]) -> None:
    rng = w.rng
    warm = w.start + 50 * DAY                       # seven weeks of ordinary history first
    latest = w.start + (s.days - 20) * DAY

    def share() -> float:
        return float(rng.uniform(s.share_low, s.share_high))

    def when() -> int:
        return int(rng.integers(warm, latest))

    def people(k: int, foreign: bool | None = None, country: str | None = None) -> list[int]:
        out: list[int] = []
        for i in list(free):
            if len(out) == k:
                break
            if (foreign is None or (w.country[i] != s.home) == foreign) and country in (None, w.country[i]):
                out.append(i)
                free.remove(i)
        return out

    def record(kind: str, accounts: list[int], key: list[int], **extra: Any) -> None:
        planted.append({"id": f"{kind}-{sum(1 for p in planted if p['typology'] == kind) + 1}", "typology": kind,
                        "accounts": [w.ids[a] for a in accounts], "key": [w.ids[a] for a in key], **extra})

    def donate(target: int, donor: int, usd: float, fifo: float | None = None) -> None:
        networks.setdefault(w.ids[target], []).append(
            {"account": w.ids[donor], "country": w.country[donor], "amount": round(usd, 2),
             "amount_fifo": round(usd if fifo is None else fifo, 2)})

    collectors = COLLECTOR_COUNTRIES[s.mix]
    for k in range(s.instances):
        # fan-in: 8-16 donors (most abroad) give over 10 days; the collector forwards a share within 3 days
        target = targets[k % len(targets)]
        collector = (people(1, country=collectors[k % len(collectors)]) or people(1))[0]
        donors = people(int(rng.integers(8, 17)), foreign=True)
        t0, f = when(), share()
        gifts = [(d, t0 + int(rng.integers(0, 10 * DAY)), float(rng.uniform(150, 1500))) for d in donors]
        # by first in first out the forwards carry the first gifts whole and the last not at all
        left = sum(u for _, _, u in gifts) * f
        first: dict[int, float] = {}
        for d, _t, usd in sorted(gifts, key=lambda g: g[1]):
            first[d], left = min(usd, left), max(left - usd, 0.0)
        for d, t, usd in gifts:
            w.pay(d, collector, t, usd)
            donate(target, d, usd * f, first[d])
        _forward(w, collector, target, max(t for _, t, _ in gifts), sum(u for _, _, u in gifts) * f)
        record("fan_in", [*donors, collector], [collector], share=round(f, 3))
    for _k in range(s.instances):
        # fan-out: a large sum from abroad, paid out to 8-14 accounts within 10 days
        hub, sender = people(1)[0], people(1, foreign=True)[0]
        takers = people(int(rng.integers(8, 15)))
        t0, f = when(), share()
        total = float(rng.uniform(8000, 30000))
        w.pay(sender, hub, t0, total)
        for r, part in zip(takers, _split(rng, total * f, len(takers)), strict=True):
            w.pay(hub, r, t0 + int(rng.integers(DAY, 10 * DAY)), part)
        record("fan_out", [sender, hub, *takers], [hub], share=round(f, 3))
    for _k in range(s.instances):
        # cycle of 3-5: each passes a share on 1-3 days later, the last back to the first
        ring = people(int(rng.integers(3, 6)))
        t, usd = when(), float(rng.uniform(3000, 20000))
        for i, a in enumerate(ring):
            t += int(rng.integers(DAY, 3 * DAY))
            w.pay(a, ring[(i + 1) % len(ring)], t, usd)
            usd *= share()
        record("cycle", ring, ring)
    for k in range(s.instances):
        # scatter-gather: a funder abroad pays 4-8 intermediaries; each passes a share to a gatherer in 1-3 days
        target = targets[k % len(targets)]
        funder = people(1, foreign=True)[0]
        middle, gatherer = people(int(rng.integers(4, 9))), people(1)[0]
        t0, total, reached = when(), float(rng.uniform(5000, 25000)), 0.0
        last = t0
        for m, part in zip(middle, _split(rng, total, len(middle)), strict=True):
            t1 = t0 + int(rng.integers(0, 2 * DAY))
            w.pay(funder, m, t1, part)
            passed = part * share()
            last = max(last, t1 + int(rng.integers(DAY, 3 * DAY)))
            w.pay(m, gatherer, last, passed)
            reached += passed
        f = share()
        _forward(w, gatherer, target, last, reached * f)
        donate(target, funder, reached * f)
        record("scatter_gather", [funder, *middle, gatherer], [funder, gatherer])
    for _k in range(s.instances):
        # gather-scatter: 6-12 pay a hub within a week; the hub pays 6-12 others in the next week
        senders, hub, takers = people(int(rng.integers(6, 13))), people(1)[0], people(int(rng.integers(6, 13)))
        t0, got = when(), 0.0
        for a in senders:
            usd = float(rng.uniform(500, 3000))
            w.pay(a, hub, t0 + int(rng.integers(0, 7 * DAY)), usd)
            got += usd
        for r, part in zip(takers, _split(rng, got * share(), len(takers)), strict=True):
            w.pay(hub, r, t0 + 7 * DAY + int(rng.integers(0, 7 * DAY)), part)
        record("gather_scatter", [*senders, hub, *takers], [hub])
    for k in range(s.instances):
        # stack: 2-5 layers of 1-3 accounts; every account pays every account of the next layer
        target = targets[k % len(targets)]
        funder = people(1, foreign=True)[0]
        layers = [people(int(rng.integers(1, 4))) for _ in range(int(rng.integers(2, 6)))]
        t, held = when(), {funder: float(rng.uniform(6000, 30000))}
        for layer in [*layers, [target]]:
            t += int(rng.integers(DAY, 2 * DAY))
            nxt = dict.fromkeys(layer, 0.0)
            for a, usd in held.items():
                f = 1.0 if a == funder else share()
                for b, part in zip(layer, _split(rng, usd * f, len(layer)), strict=True):
                    w.pay(a, b, t + int(rng.integers(0, 12 * 3600)), part)
                    nxt[b] += part
            held = nxt
        donate(target, funder, held[target])
        record("stack", [funder, *(a for layer in layers for a in layer)], [a for layer in layers for a in layer],
               layers=len(layers))
    for _k in range(s.instances):
        # bipartite: 3-5 accounts each pay each of 3-5 others within 10 days
        payers, payees = people(int(rng.integers(3, 6))), people(int(rng.integers(3, 6)))
        t0 = when()
        for a in payers:
            for b in payees:
                w.pay(a, b, t0 + int(rng.integers(0, 10 * DAY)), float(rng.uniform(800, 4000)))
        record("bipartite", [*payers, *payees], [*payers, *payees])
    if s.broker_netting:
        for k in range(2):
            _broker(w, s, k, targets[k % len(targets)], people, record, donate, when)


def _forward(w: _World, account: int, target: int, after: int, usd: float) -> None:
    """Pass ``usd`` on to ``target`` within three days of ``after``, in one to three payments."""
    parts = _split(w.rng, usd, int(w.rng.integers(1, 4)))
    t = after + int(w.rng.integers(3600, DAY))
    for part in parts:
        w.pay(account, target, t, part)
        t += int(w.rng.integers(3600, DAY))


def _split(rng: np.random.Generator, total: float, k: int) -> list[float]:
    weights = rng.uniform(0.5, 1.5, size=k)
    parts = [round(total * float(x) / float(weights.sum()), 2) for x in weights]
    parts[-1] = round(total - sum(parts[:-1]), 2)
    return parts


def _broker(w: _World, s: LaunderingSettings, k: int, target: int, people: Any, record: Any, donate: Any,
            when: Any) -> None:
    """A broker pair: home donors' gifts and innocent remittances in, net settlements across the border."""
    rng = w.rng
    abroad = COLLECTOR_COUNTRIES[s.mix][k % 3]
    bx = w.add(f"HWX-{k}", f"Exchange House {k}", s.home)
    by = w.add(f"HWY-{k}", f"Sarraf Office {k}", abroad)
    collector = (people(1, country=abroad) or people(1))[0]
    donors = people(int(rng.integers(6, 11)), foreign=False)
    customers = people(12, foreign=False)
    # the broker's customers' families abroad: people of the data where there are enough, else accounts
    # seen only as receivers (as a foreign bank's customers are)
    payees = people(12, country=abroad)
    payees += [w.add(f"R{k}-{i}", f"Person R{k}-{i}", abroad) for i in range(8 - len(payees))]
    t0 = when() - 15 * DAY
    batch: list[tuple[int, float, int | None]] = []
    for d in donors:
        usd = float(rng.uniform(200, 1200))
        w.pay(d, bx, t0 + int(rng.integers(0, 14 * DAY)), usd, "hawala")
        batch.append((d, usd, None))
    for c in customers:
        usd = float(rng.uniform(100, 700))
        w.pay(c, bx, t0 + int(rng.integers(0, 14 * DAY)), usd, "hawala")
        batch.append((c, usd, payees[int(rng.integers(len(payees)))]))
    f = float(rng.uniform(s.share_low, s.share_high))
    settle = t0 + 15 * DAY
    gross = sum(u for _, u, _ in batch)
    # netted: Y's trade payment back is set off, X pays the net
    back = round(gross * float(rng.uniform(0.2, 0.4)), 2)
    w.pay(by, bx, settle - 10 * DAY, back)       # last period's settlement, the other way
    debt = gross * float(rng.uniform(0.1, 0.3))  # goods X shipped to Y: set off, never paid
    w.pay(bx, by, settle, gross - debt)
    donated = sum(u for _, u, payee in batch if payee is None)
    w.pay(by, collector, settle + DAY, donated, "hawala")
    for _, usd, payee in batch:
        if payee is not None:
            w.pay(by, payee, settle + DAY + 600, usd, "hawala")
    _forward(w, collector, target, settle + DAY, donated * f)
    for d, usd, payee in batch:
        if payee is None:
            donate(target, d, usd * f)
    record("broker_netting", [*donors, bx, by, collector], [bx, by])


def _table(w: _World) -> Any:
    import pyarrow as pa  # noqa: PLC0415

    inst = [f"BANK{c.upper()}" for c in w.country]
    return pa.table({"id": w.ids, "name": w.names, "country": w.country, "institution": inst})
