"""A FollowTheMoney JSON-lines list at OpenSanctions scale, made up, seeded, of any size.

Persons and organisations with names in many scripts (faker's locales: Latin, Cyrillic,
Arabic, Persian, Devanagari, Han, Hangul, Kana, Hebrew, Greek, Georgian, Thai …), aliases
(the name reordered, a second family name, a Latin-script spelling, a nickname), birth dates
(some only a year), nationalities, gender, identity numbers, and as separate entities the
documents (Passport, Identification), sanctions and addresses that hang off them, as an
OpenSanctions collection has them. ``--entities`` counts every line (every FtM entity, as
OpenSanctions counts its collections): about 70% are listed persons and organisations.

``--from OLD`` makes the next version of a list instead: the same entities with a share of
them changed (an alias added or dropped, a birth date corrected, a nationality added),
removed or added, as a publisher's next release would; the changes are counted on stderr.

    python benchmarks/gen_ftm.py --entities 100000 --seed 1 --out /tmp/ftm-v1.json
    python benchmarks/gen_ftm.py --from /tmp/ftm-v1.json --seed 2 --out /tmp/ftm-v2.json

The same seed and size give the same file, byte for byte.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import evalsets  # noqa: E402  (benchmarks/ beside this file)

POOL = 200  # names of each kind drawn per locale, combined at random
PERSON_SHARE = 0.55  # of listed entities; the rest are organisations
COMPANY_KINDS = ("LLC", "Ltd", "Trading", "Holding", "Group", "Import Export", "Shipping", "General Trading")
PROGRAMS = ("SDGT", "IRAN", "RUSSIA-EO14024", "DPRK3", "SYRIA", "CYBER2", "TCO", "UKRAINE-EO13662")
TOPICS = ("sanction", "crime.terror", "crime.fin", "role.pep", "debarment")


@dataclass(frozen=True)
class Names:
    """One locale's name parts: given names, family names, companies, and its country."""

    locale: str
    country: str
    given: tuple[str, ...]
    family: tuple[str, ...]
    companies: tuple[str, ...]
    latin: bool


def name_pools(seed: int) -> list[Names]:
    """Name parts of every faker locale the benchmark sets use, drawn once (faker is slow
    per call; a million names are combined from these pools)."""
    from faker import Faker  # noqa: PLC0415 - dev dependency

    pools = []
    for i, locale in enumerate(evalsets.faker_locales()):
        fake = Faker(locale)
        fake.seed_instance(seed * 1000 + i)
        given = tuple(dict.fromkeys(fake.first_name() for _ in range(POOL)))
        family = tuple(dict.fromkeys(fake.last_name() for _ in range(POOL)))
        companies = tuple(dict.fromkeys(fake.company() for _ in range(POOL // 2)))
        country = locale.split("_")[-1].lower() if "_" in locale else {"sw": "tz"}.get(locale, "ke")
        country = {"aa": "sa"}.get(country, country)
        latin = all(c.isascii() or not c.isalpha() or "LATIN" in _char_name(c) for c in "".join(given[:20]))
        pools.append(Names(locale, country, given, family, companies, latin))
    return pools


def _char_name(char: str) -> str:
    import unicodedata  # noqa: PLC0415

    return unicodedata.name(char, "")


class Maker:
    """Makes the entities of one list, deterministic for a seed."""

    def __init__(self, seed: int, pools: list[Names]) -> None:
        self.rng = random.Random(seed)
        self.pools = pools
        self.latin = [p for p in pools if p.latin]

    def person_name(self, pool: Names) -> str:
        given, family = self.rng.choice(pool.given), self.rng.choice(pool.family)
        if pool.locale in evalsets.FAMILY_FIRST_UNSPACED:
            return f"{family}{given}"
        return f"{given} {family}"

    def birth_date(self) -> str:
        year = self.rng.randint(1940, 2004)
        if self.rng.random() < 0.15:
            return str(year)  # lists often know the year only
        return f"{year}-{self.rng.randint(1, 12):02d}-{self.rng.randint(1, 28):02d}"

    def number(self, letters: int = 2, digits: int = 7) -> str:
        head = "".join(self.rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(letters))
        return head + "".join(self.rng.choice("0123456789") for _ in range(digits))

    def listed(self, entity_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """One listed entity and the entities that hang off it."""
        pool = self.rng.choice(self.pools)
        if self.rng.random() < PERSON_SHARE:
            main = self._person(entity_id, pool)
        else:
            main = self._organisation(entity_id, pool)
        return main, self._dependents(main, pool)

    def _person(self, entity_id: str, pool: Names) -> dict[str, Any]:
        name = self.person_name(pool)
        props: dict[str, list[str]] = {"name": [name], "topics": [self.rng.choice(TOPICS)]}
        aliases = []
        for _ in range(self.rng.choice((0, 1, 1, 2, 3))):
            kind = self.rng.random()
            if kind < 0.4:  # a Latin-script spelling from a Latin-script locale
                aliases.append(self.person_name(self.rng.choice(self.latin)))
            elif kind < 0.7:
                aliases.append(f"{name} {self.rng.choice(pool.family)}")
            else:
                aliases.append(self.person_name(pool))
        if aliases:
            props["alias"] = aliases
        if self.rng.random() < 0.2:
            props["weakAlias"] = [f"Abu {self.rng.choice(pool.given)}" if self.rng.random() < 0.3
                                  else self.rng.choice(pool.given)]
        props["birthDate"] = [self.birth_date() for _ in range(1 if self.rng.random() < 0.85 else 2)]
        props["nationality"] = [pool.country]
        props["gender"] = [self.rng.choice(("male", "female"))]
        if self.rng.random() < 0.3:
            props["idNumber"] = [self.number(1, 9)]
        return {"id": entity_id, "schema": "Person", "properties": props}

    def _organisation(self, entity_id: str, pool: Names) -> dict[str, Any]:
        base = self.rng.choice(pool.companies)
        props: dict[str, list[str]] = {"name": [base], "topics": [self.rng.choice(TOPICS)],
                                       "country": [pool.country]}
        if self.rng.random() < 0.5:
            props["alias"] = [f"{self.rng.choice(pool.family)} {self.rng.choice(COMPANY_KINDS)}"]
        if self.rng.random() < 0.5:
            props["registrationNumber"] = [self.number(0, 10)]
        if self.rng.random() < 0.3:
            props["incorporationDate"] = [self.birth_date()]
        return {"id": entity_id, "schema": "Organization", "properties": props}

    def _dependents(self, main: dict[str, Any], pool: Names) -> list[dict[str, Any]]:
        entity_id, person = main["id"], main["schema"] == "Person"
        out: list[dict[str, Any]] = []
        if self.rng.random() < 0.3:
            out.append({"id": f"{entity_id}-sanction", "schema": "Sanction", "properties": {
                "entity": [entity_id], "authority": ["Generated Authority"],
                "program": [self.rng.choice(PROGRAMS)], "listingDate": [self.birth_date()]}})
        if self.rng.random() < 0.12:
            schema = "Passport" if person else "Identification"
            out.append({"id": f"{entity_id}-doc", "schema": schema, "properties": {
                "holder": [entity_id], "number": [self.number()], "country": [pool.country],
                "type": ["passport" if person else "registration"]}})
        if self.rng.random() < 0.05:
            address_id = f"{entity_id}-addr"
            main["properties"]["addressEntity"] = [address_id]
            out.append({"id": address_id, "schema": "Address", "properties": {
                "full": [f"{self.rng.randint(1, 200)} {self.rng.choice(pool.family)} Street, "
                         f"{pool.country.upper()}"], "country": [pool.country]}})
        return out


def generate(entities: int, seed: int) -> Iterator[dict[str, Any]]:
    """``entities`` FtM entities (JSON objects), listed ones each followed by its own."""
    maker = Maker(seed, name_pools(seed))
    made = 0
    number = 0
    while made < entities:
        number += 1
        main, dependents = maker.listed(f"gen-{number:08d}")
        dependents = dependents[:max(0, entities - made - 1)]
        if main["properties"].get("addressEntity") and not any(d["schema"] == "Address" for d in dependents):
            del main["properties"]["addressEntity"]  # its Address was cut by the size
        yield main
        yield from dependents
        made += 1 + len(dependents)


def perturb(old: Path, seed: int, change: float, remove: float, add: float,
            counts: Counter[str]) -> Iterator[dict[str, Any]]:
    """The next version of ``old``: listed entities changed, removed (with what hangs off
    them) or added, at the given shares."""
    maker = Maker(seed, name_pools(seed))
    rng = random.Random(seed)
    removed: set[str] = set()
    last = 0
    listed = 0
    with old.open(encoding="utf-8") as fh:
        for line in fh:
            entity = json.loads(line)
            props = entity["properties"]
            owner = props.get("entity") or props.get("holder")
            if owner and owner[0] in removed:
                continue
            if entity["schema"] in ("Person", "Organization"):
                listed += 1
                last = max(last, int(entity["id"].split("-")[1]))
                roll = rng.random()
                if roll < remove:
                    removed.add(entity["id"])
                    counts["removed"] += 1
                    continue
                if roll < remove + change:
                    _change(entity, maker, rng)
                    counts["changed"] += 1
            elif entity["schema"] == "Address" and entity["id"].rsplit("-", 1)[0] in removed:
                continue
            yield entity
    for number in range(last + 1, last + 1 + round(listed * add)):
        main, dependents = maker.listed(f"gen-{number:08d}")
        counts["added"] += 1
        yield main
        yield from dependents


def _change(entity: dict[str, Any], maker: Maker, rng: random.Random) -> None:
    """One change a publisher makes to a listing."""
    props = entity["properties"]
    what = rng.random()
    if what < 0.4:
        pool = rng.choice(maker.pools)
        props.setdefault("alias", []).append(maker.person_name(pool) if entity["schema"] == "Person"
                                             else rng.choice(pool.companies))
    elif what < 0.6 and props.get("alias"):
        props["alias"] = props["alias"][1:] or [props["name"][0].upper()]
    elif what < 0.8 and entity["schema"] == "Person":
        props["birthDate"] = [maker.birth_date()]
    else:
        key = "nationality" if entity["schema"] == "Person" else "country"
        props[key] = sorted({*props.get(key, []), rng.choice(maker.pools).country})


def write(entities: Iterator[dict[str, Any]], out: Path) -> int:
    """Write the entities as JSON lines; how many."""
    count = 0
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as fh:
        for entity in entities:
            fh.write(json.dumps(entity, ensure_ascii=False, separators=(",", ":")))
            fh.write("\n")
            count += 1
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--entities", type=int, default=1_000_000, help="FtM entities (lines) to make")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True, help="the JSON-lines file to write")
    parser.add_argument("--from", dest="old", type=Path, help="make the next version of this file instead")
    parser.add_argument("--change", type=float, default=0.02, help="with --from: share of listings changed")
    parser.add_argument("--remove", type=float, default=0.005, help="with --from: share removed")
    parser.add_argument("--add", type=float, default=0.005, help="with --from: share added")
    args = parser.parse_args(argv)
    if args.old is not None:
        counts: Counter[str] = Counter()
        n = write(perturb(args.old, args.seed, args.change, args.remove, args.add, counts), args.out)
        print(f"{args.out}: {n:,} entities; listings changed {counts['changed']:,}, removed "
              f"{counts['removed']:,}, added {counts['added']:,}", file=sys.stderr)
    else:
        n = write(generate(args.entities, args.seed), args.out)
        print(f"{args.out}: {n:,} entities", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
