"""Financing networks planted into simulated transactions, and the truth about them.

Each network: donors in many countries give small sums to collectors (directly, or through
a hawala-like broker pair settling across a border); collectors forward their takings every
few days to mules; mules pay the designated account, in chunks under the reporting
threshold. The truth lists every donor with the USD that reached the designated account.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

DAY = 86400
THRESHOLD_USD = 10_000.0
# Listed names (UN / OFAC) so that `--screen` finds the designated accounts by their holders.
DESIGNATED_NAMES = ("Islamic State in Iraq and the Levant", "Al-Nusrah Front for the People of the Levant",
                    "Jemaah Islamiyah", "Abu Sayyaf Group", "Harakat ul-Mujahidin", "Al-Qaida")
TARGET_COUNTRIES = ("sy", "iq", "sy", "ph", "pk", "af")
COLLECTOR_COUNTRIES = ("tr", "lb", "jo")


@dataclass
class Row:
    """One planted payment (amount in USD; the writer converts to the sender's currency)."""

    t: int
    usd: float
    src: str
    dst: str
    channel: str


@dataclass
class Planted:
    accounts: dict[str, dict[str, str]] = field(default_factory=dict)   # id -> name, country, institution
    rows: list[Row] = field(default_factory=list)
    truth: dict[str, Any] = field(default_factory=dict)


def plant_networks(rng: np.random.Generator, persons: dict[str, Any], networks: int, donors: int,
                   countries: int, start: int, days: int, home: str) -> Planted:
    """Plant ``networks`` financing networks; donors are existing persons (with their normal lives)."""
    planted = Planted()
    truth_networks = []
    by_country: dict[str, np.ndarray] = {}
    for c in np.unique(persons["country"]):
        by_country[str(c)] = np.flatnonzero(persons["country"] == c)
    donor_countries_all = [c for c in sorted(by_country, key=lambda c: -len(by_country[c]))]
    used: set[int] = set()
    for j in range(networks):
        tag = f"N{j + 1}"
        target = f"DSG-{tag}"
        planted.accounts[target] = {"name": DESIGNATED_NAMES[j % len(DESIGNATED_NAMES)],
                                    "country": TARGET_COUNTRIES[j % len(TARGET_COUNTRIES)], "institution": "HAWL"}
        collectors = [f"COL-{tag}-{k}" for k in range(3)]
        mules = [f"MUL-{tag}-{k}" for k in range(2)]
        for k, acc in enumerate(collectors):
            planted.accounts[acc] = {"name": f"Relief Association {tag}-{k}",
                                     "country": COLLECTOR_COUNTRIES[k % 3], "institution": "BANKTR"}
        for k, acc in enumerate(mules):
            planted.accounts[acc] = {"name": f"Courier {tag}-{k}", "country": "tr", "institution": "BANKTR"}
        broker = j % 2 == 0
        bx, by = f"HWX-{tag}", f"HWY-{tag}"
        if broker:
            planted.accounts[bx] = {"name": f"Exchange House {tag}", "country": home, "institution": "MSBHOME"}
            planted.accounts[by] = {"name": f"Sarraf Office {tag}", "country": "tr", "institution": "MSBTR"}
        pool = donor_countries_all[: max(1, countries)]
        donor_list = []
        inflows: dict[str, list[tuple[int, float]]] = {c: [] for c in collectors}
        broker_in: list[tuple[int, float, str]] = []
        for _ in range(donors):
            country = pool[int(rng.integers(len(pool)))]
            candidates = by_country[country]
            idx = int(candidates[int(rng.integers(len(candidates)))])
            if idx in used:
                continue
            used.add(idx)
            account = str(persons["id"][idx])
            total = 0.0
            via_broker = broker and country == home and rng.random() < 0.6
            for _gift in range(int(rng.integers(1, 5))):
                t = start + int(rng.integers(2 * DAY, (days - 25) * DAY))
                usd = float(np.round(rng.uniform(50, 900), 2))
                total += usd
                if via_broker:
                    planted.rows.append(Row(t, usd, account, bx, "hawala"))
                    broker_in.append((t, usd, "donor"))
                else:
                    collector = collectors[int(rng.integers(len(collectors)))]
                    planted.rows.append(Row(t, usd, account, collector, "wire"))
                    inflows[collector].append((t, usd))
            donor_list.append({"account": account, "country": country, "amount": round(total, 2),
                               "via_broker": via_broker})
        if broker:
            _broker_pair(rng, planted, persons, by_country, home, bx, by, collectors, inflows, broker_in, start, days)
        for collector in collectors:
            _forward(rng, planted, collector, mules, target, inflows[collector], start, days)
        truth_networks.append({"designated": target, "name": planted.accounts[target]["name"],
                               "collectors": collectors, "mules": mules, "brokers": [bx, by] if broker else [],
                               "donors": donor_list})
    planted.truth = {"networks": truth_networks}
    return planted


def _broker_pair(rng: np.random.Generator, planted: Planted, persons: dict[str, Any],
                 by_country: dict[str, np.ndarray], home: str, bx: str, by: str, collectors: list[str],
                 inflows: dict[str, list[tuple[int, float]]], broker_in: list[tuple[int, float, str]],
                 start: int, days: int) -> None:
    # innocent remittances through the same broker: about as many as the donors' gifts
    home_people, tr_people = by_country[home], by_country.get("tr", by_country[home])
    for _ in range(max(5, len(broker_in))):
        t = start + int(rng.integers(2 * DAY, (days - 25) * DAY))
        usd = float(np.round(rng.uniform(100, 700), 2))
        sender = str(persons["id"][int(home_people[int(rng.integers(len(home_people)))])])
        planted.rows.append(Row(t, usd, sender, bx, "hawala"))
        receiver = str(persons["id"][int(tr_people[int(rng.integers(len(tr_people)))])])
        broker_in.append((t, usd, receiver))
    # X settles with Y every 6 days; Y pays out a day later: donors' money to a collector
    broker_in.sort()
    period, k = 6 * DAY, 0
    for settle in range(start + 8 * DAY, start + days * DAY, period):
        batch = [b for b in broker_in if settle - period <= b[0] < settle]
        if not batch:
            continue
        total = round(sum(b[1] for b in batch), 2)
        planted.rows.append(Row(settle, total, bx, by, "wire"))
        k += 1
        if k % 2 == 0:  # Y sends trade money back now and then: flows between the pair are two-way
            planted.rows.append(Row(settle + 3 * 3600, round(total * 0.3, 2), by, bx, "wire"))
        donated = round(sum(b[1] for b in batch if b[2] == "donor"), 2)
        if donated:
            collector = collectors[int(rng.integers(len(collectors)))]
            t = settle + DAY
            planted.rows.append(Row(t, donated, by, collector, "hawala"))
            inflows[collector].append((t, donated))
        for b in batch:
            if b[2] != "donor":
                planted.rows.append(Row(settle + DAY + 600, b[1], by, b[2], "hawala"))


def _forward(rng: np.random.Generator, planted: Planted, collector: str, mules: list[str], target: str,
             received: list[tuple[int, float]], start: int, days: int) -> None:
    # every 5 days the collector sends its takings since the last forward to a mule, which
    # passes them on to the designated account within hours, in chunks under the threshold.
    # The first forward (the first cut with takings in the five days before it) carries
    # everything received before it: gifts older than its five days used to stay with the
    # collector, while the truth counted them as reached (issue 20: 730 USD at 10M rows)
    received.sort()
    period = 5 * DAY
    offset = int(rng.integers(0, period))
    since = None
    for cut in range(start + offset + period, start + (days + 10) * DAY, period):
        if not any(cut - period <= t < cut for t, _ in received):
            continue
        due = round(sum(u for t, u in received if (since is None or since <= t) and t < cut), 2)
        since = cut
        mule = mules[int(rng.integers(len(mules)))]
        planted.rows.append(Row(cut, due, collector, mule, "wire"))
        left, t = due, cut + 3600 * int(rng.integers(2, 20))
        while left > 0:
            chunk = left if left < THRESHOLD_USD else round(float(rng.uniform(0.8, 0.99)) * THRESHOLD_USD, 2)
            planted.rows.append(Row(t, round(chunk, 2), mule, target, "wire"))
            left = round(left - chunk, 2)
            t += 3600 * int(rng.integers(1, 6))


def plant_cycles(rng: np.random.Generator, planted: Planted, persons: dict[str, Any], count: int, start: int,
                 days: int) -> list[list[str]]:
    """Round-tripping: money leaving an account and coming back through two others within days."""
    loops = []
    for _ in range(count):
        picks = rng.choice(len(persons["id"]), size=3, replace=False)
        ids = [str(persons["id"][int(i)]) for i in picks]
        t = start + int(rng.integers(5 * DAY, (days - 10) * DAY))
        usd = float(np.round(rng.uniform(20_000, 60_000), 2))
        for k in range(3):
            planted.rows.append(Row(t + k * DAY, round(usd * (1 - 0.02 * k), 2), ids[k], ids[(k + 1) % 3], "wire"))
        loops.append(ids)
    return loops
