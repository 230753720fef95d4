"""Building the screening index from the register as it stands (newest version of each list)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from sqlalchemy import Engine

from jointwatch.screening.freshness import ListPolicy, check_lists
from jointwatch.screening.index import (
    ScreeningIndex,
    analyze_names,
    cache_key,
    load_cached,
    normalize_identifier,
    save_cached,
)
from jointwatch.screening.model import Listed
from jointwatch.screening.score import DEFAULT_THRESHOLD
from jointwatch.screening.screener import Screener
from jointwatch.store import (
    DEPENDENT_SCHEMATA,
    StatementRow,
    VersionInfo,
    decided_false_positives,
    iter_statement_rows,
    latest_versions,
)

NAME_PROPS = ("name", "alias", "previousName", "weakAlias")
COUNTRY_PROPS = ("nationality", "citizenship", "country", "birthCountry", "jurisdiction", "flag")
ID_PROPS = ("passportNumber", "idNumber", "registrationNumber", "taxNumber", "imoNumber", "swiftBic",
            "leiCode", "innCode", "ogrnCode", "vatCode", "number", "mmsi", "serialNumber",
            "socialSecurityNumber", "licenseNumber", "dunsCode")
_PROPS = (*NAME_PROPS, *COUNTRY_PROPS, *ID_PROPS, "birthDate", "gender", "holder")
MIN_IDENTIFIER = 4
DEFAULT_POLICY = ListPolicy()  # refuse with no list or a list older than 7 days


def _listing(source: str, reference: str, version: str,
             rows: list[StatementRow]) -> Listed | None:
    heads = [r for r in rows if r[3] not in DEPENDENT_SCHEMATA]
    if not heads:
        return None
    entity_id, schema = heads[0][2], heads[0][3]
    properties: dict[str, list[str]] = {}
    for r in rows:
        if r[2] == entity_id:
            properties.setdefault(r[4], []).append(r[5])
    # documents hang off the listed entity through their holder: their numbers are the entity's
    documents = {r[2] for r in rows if r[4] == "holder" and r[5] == entity_id}
    properties.setdefault("idNumber", []).extend(r[5] for r in rows if r[4] in ID_PROPS and r[2] in documents)
    return listed_from_properties(entity_id, schema, properties, source, reference, version)


def listed_from_properties(entity_id: str, schema: str, properties: Mapping[str, Sequence[str]], source: str,
                           reference: str, version: str) -> Listed | None:
    """One entity as the index holds it, from its FtM properties (None when it has no name):
    the one way an official listing and a partner entry become screenable alike."""
    def values(*props: str) -> list[str]:
        return [v for p in props for v in properties.get(p, ())]

    raw_names = values(*NAME_PROPS)
    # the caption is the list's main name, in Latin script where there is one
    primary = sorted(values("name"), key=lambda n: (not n.isascii(), n))
    idents = {normalize_identifier(v) for v in values(*ID_PROPS)}
    names = analyze_names(sorted(raw_names, key=lambda n: (not n.isascii(), n)), schema)
    if not names:
        return None
    return Listed(
        entity_id=entity_id, schema=schema, source=source, reference=reference, list_version=version,
        caption=primary[0] if primary else names[0].original,
        names=names,
        birth_dates=tuple(sorted(set(values("birthDate")))),
        countries=frozenset(values(*COUNTRY_PROPS)),
        gender=next(iter(values("gender")), None),
        identifiers=frozenset(i for i in idents if len(i) >= MIN_IDENTIFIER),
    )


def iter_listed(engine: Engine, versions: list[VersionInfo]) -> Iterator[Listed]:
    """Every listed entity in these versions, with its names analysed."""
    label = {v.source: v.version for v in versions}
    group: list[StatementRow] = []
    for row in iter_statement_rows(engine, [v.id for v in versions], _PROPS):
        if group and (row[0], row[1]) != (group[0][0], group[0][1]):
            listed = _listing(group[0][0], group[0][1], label[group[0][0]], group)
            if listed:
                yield listed
            group = []
        group.append(row)
    if group:
        listed = _listing(group[0][0], group[0][1], label[group[0][0]], group)
        if listed:
            yield listed


def index_from_store(engine: Engine, sources: list[str] | None = None, use_cache: bool = True) -> ScreeningIndex:
    """The index of the newest version of every list (or of ``sources``), from cache if built before."""
    return _index_of(engine, _newest(engine, sources), use_cache)


def _newest(engine: Engine, sources: list[str] | None) -> dict[str, VersionInfo]:
    return {s: v for s, v in sorted(latest_versions(engine).items()) if not sources or s in sources}


def _index_of(engine: Engine, newest: dict[str, VersionInfo], use_cache: bool) -> ScreeningIndex:
    versions = list(newest.values())
    key = cache_key(f"{v.source}:{v.content_hash}:{v.version}" for v in versions)
    if use_cache and (cached := load_cached(key)) is not None:
        return cached
    index = ScreeningIndex(list(iter_listed(engine, versions)),
                           label=", ".join(f"{v.source} {v.version}" for v in versions))
    if use_cache:
        save_cached(key, index)
    return index


def open_screener(engine: Engine, threshold: float | None = None, sources: list[str] | None = None,
                  use_cache: bool = True, policy: ListPolicy | None = DEFAULT_POLICY) -> Screener:
    """A screener over the store's newest lists that honours members' false-positive decisions.

    Fails closed: ScreeningUnavailableError when no list is loaded or (``policy``) a list is
    too old; ``policy=None`` skips the check (comparing two names needs no current list)."""
    # one look at the versions: the lists checked are the lists indexed, even if a load lands meanwhile
    newest = _newest(engine, sources)
    warnings = check_lists(newest, policy) if policy is not None else []
    index = _index_of(engine, newest, use_cache)
    return Screener(index, DEFAULT_THRESHOLD if threshold is None else threshold,
                    false_positives=lambda key, ids, member: decided_false_positives(engine, key, ids, member),
                    warnings=tuple(warnings))
