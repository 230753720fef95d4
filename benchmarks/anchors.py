"""The anchors: OpenSanctions nomenklatura's matching algorithms on the benchmark's queries.

nomenklatura only scores pairs of FollowTheMoney entities; it has no index (yente puts
Elasticsearch in front of it). So every anchor scores the SAME candidate entities, the
ones our own index retrieves for the query, and a query's score for a listed entity is
the algorithm's ``compare(query, candidate)`` with all the entity's names on the candidate
(the algorithms take the best of the names themselves). The anchors' recall is therefore
capped by our retrieval's; the benchmark prints that cap beside their figures.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from followthemoney import EntityProxy, model
from nomenklatura.matching import get_algorithm
from nomenklatura.matching.types import ScoringAlgorithm, ScoringConfig

from jointwatch.names import AnalyzedName
from jointwatch.screening.index import ScreeningIndex
from jointwatch.screening.model import COMPATIBLE, Listed

ANCHORS = ("logic-v2", "name-based", "ofac")
ANCHOR_CANDIDATES = 50        # entities handed to each anchor per query
RETRIEVAL_LIMIT = 200         # names retrieved to find them (the screener's own figure)


@dataclass
class Anchor:
    """One nomenklatura algorithm with its default configuration."""

    name: str
    algorithm: type[ScoringAlgorithm]
    config: ScoringConfig

    @classmethod
    def named(cls, name: str) -> Anchor:
        algorithm = get_algorithm(name)
        if algorithm is None:
            raise ValueError(f"nomenklatura has no matching algorithm {name!r}")
        return cls(name, algorithm, algorithm.default_config())

    def score(self, query: EntityProxy, candidates: Iterable[tuple[str, EntityProxy]]) -> dict[str, float]:
        """entity id → score of every candidate."""
        return {eid: float(self.algorithm.compare(query, entity, self.config).score)
                for eid, entity in candidates}


def query_entity(name: str, schema: str, key: str) -> EntityProxy:
    """The query as yente's matching API would get it: a bare entity with one name.

    ``key`` must be unique per query: logic-v2 memoises name analysis by entity id
    (an lru_cache over ``Entity.__hash__``), so a reused id scores a stale name."""
    entity = model.make_entity(schema)
    entity.id = f"query-{key}"
    entity.add("name", name)
    return entity


def listed_entity(listed: Listed, namespace: str) -> EntityProxy:
    """A listed record as a FollowTheMoney entity: every name, birth dates, countries, gender.

    The id carries the index's ``namespace``: the same listed entity has other names in the
    leave-one-alias-out index than in the full one, and logic-v2 caches by id."""
    entity = model.make_entity(listed.schema)
    entity.id = f"{namespace}-{listed.entity_id}"
    entity.add("name", [n.original for n in listed.names], quiet=True)
    if entity.schema.is_a("Person"):
        entity.add("birthDate", list(listed.birth_dates), quiet=True)
        entity.add("nationality", sorted(listed.countries), quiet=True)
        if listed.gender:
            entity.add("gender", listed.gender, quiet=True)
    else:
        entity.add("country", sorted(listed.countries), quiet=True)
    return entity


class CandidateSource:
    """Our retrieval on one index, turned into FollowTheMoney candidates for the anchors."""

    def __init__(self, index: ScreeningIndex, namespace: str) -> None:
        self.index = index
        self.namespace = namespace
        self._entities: dict[int, EntityProxy] = {}

    def entity(self, e_idx: int) -> EntityProxy:
        cached = self._entities.get(e_idx)
        if cached is None:
            cached = self._entities[e_idx] = listed_entity(self.index.entities[e_idx], self.namespace)
        return cached

    def candidates(self, query: AnalyzedName, schema: str,
                   limit: int = ANCHOR_CANDIDATES) -> list[tuple[str, EntityProxy]]:
        """The first ``limit`` distinct schema-compatible entities our retrieval ranks."""
        allowed = COMPATIBLE.get(schema)
        seen: dict[int, None] = {}
        for candidate in self.index.retrieve(query, RETRIEVAL_LIMIT):
            e_idx = candidate.entity_index
            if e_idx in seen:
                continue
            if allowed is not None and self.index.entities[e_idx].schema not in allowed:
                continue
            seen[e_idx] = None
            if len(seen) == limit:
                break
        return [(self.index.entities[i].entity_id, self.entity(i)) for i in seen]
