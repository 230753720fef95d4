"""Screening subjects against the register: candidate index, scoring, explanations, batches.

    from jointwatch.screening import Query, open_screener
    screener = open_screener(open_engine())   # the newest lists; index cached on disk
    for match in screener.screen(Query("Tariq al-Harzi", birth_date="1982")):
        print(match.score, match.source, match.reference, match.explanation)

The score's weights, penalties and threshold are one ``ScoringConfig`` (docs/scoring.md),
overridable per call (``screener.screen(query, config=...)``). ``Reach`` says which subjects
a few listed entities (a list's changes) could match, by the same arithmetic. ``SparkScreening``
runs the same screener on Apache Spark (its index broadcast), for bases of millions.
"""

from jointwatch.screening.alerts import job_alerts
from jointwatch.screening.batch import BatchSummary, match_record, screen_file
from jointwatch.screening.compare import ADDED_WORD, NameFeatures
from jointwatch.screening.config import DEFAULT_SCORING, ScoringConfig
from jointwatch.screening.freshness import (
    DEFAULT_MAX_LIST_AGE_DAYS,
    MAX_LIST_AGE_DAYS,
    ListPolicy,
    OnStale,
    check_lists,
    last_confirmed,
)
from jointwatch.screening.from_store import (
    COUNTRY_PROPS,
    ID_PROPS,
    NAME_PROPS,
    index_from_store,
    listed_from_properties,
    open_screener,
)
from jointwatch.screening.index import normalize_identifier
from jointwatch.screening.model import (
    QUERY_SCHEMATA,
    Explanation,
    Listed,
    Match,
    Qualifier,
    Query,
    SharedLabel,
    Weights,
    WordMatch,
)
from jointwatch.screening.reach import Reach, Subject
from jointwatch.screening.score import DEFAULT_THRESHOLD, name_score
from jointwatch.screening.screener import NameMemory, Screener, prepare
from jointwatch.screening.spark import SparkScreening, SparkSettings

__all__ = [
    "ADDED_WORD",
    "BatchSummary",
    "COUNTRY_PROPS",
    "DEFAULT_MAX_LIST_AGE_DAYS",
    "DEFAULT_SCORING",
    "DEFAULT_THRESHOLD",
    "Explanation",
    "ID_PROPS",
    "ListPolicy",
    "Listed",
    "MAX_LIST_AGE_DAYS",
    "Match",
    "NAME_PROPS",
    "NameFeatures",
    "OnStale",
    "QUERY_SCHEMATA",
    "Qualifier",
    "Query",
    "Reach",
    "ScoringConfig",
    "NameMemory",
    "Screener",
    "SharedLabel",
    "SparkScreening",
    "SparkSettings",
    "Subject",
    "Weights",
    "WordMatch",
    "check_lists",
    "index_from_store",
    "job_alerts",
    "last_confirmed",
    "listed_from_properties",
    "match_record",
    "name_score",
    "normalize_identifier",
    "open_screener",
    "prepare",
    "screen_file",
]
