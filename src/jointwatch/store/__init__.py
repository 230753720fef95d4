"""The register: entities from official lists, stored as statements with provenance.

Every statement records the source (``un_sc``, ``us_ofac_sdn``…), the source's own
reference (``QDi.354``, ``6931``), and when it was first and last seen; every list version
(publication date + content hash) records exactly which statements it held, so any two
versions can be compared. SQLite by default, PostgreSQL by URL, migrated by Alembic.
"""

from jointwatch.store.engine import database_url, discard_new_store, open_engine, store_exists
from jointwatch.store.entities import EntityView, StatementView, iter_entities, show_entity
from jointwatch.store.load import LoadResult, load_list
from jointwatch.store.versions import (
    EntityChange,
    FieldChange,
    ListDiff,
    VersionInfo,
    diff_versions,
    latest_versions,
    list_versions_of,
    resolve_version,
)

__all__ = [
    "EntityChange",
    "EntityView",
    "FieldChange",
    "ListDiff",
    "LoadResult",
    "StatementView",
    "VersionInfo",
    "database_url",
    "diff_versions",
    "discard_new_store",
    "iter_entities",
    "latest_versions",
    "list_versions_of",
    "load_list",
    "open_engine",
    "resolve_version",
    "show_entity",
    "store_exists",
]
