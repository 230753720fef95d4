"""The register: entities from official lists, stored as statements with provenance.

Every statement records the source (``un_sc``, ``us_ofac_sdn``…), the source's own
reference (``QDi.354``, ``6931``), and when it was first and last seen; every list version
(publication date + content hash) records exactly which statements it held, so any two
versions can be compared. SQLite by default, PostgreSQL by URL, migrated by Alembic.
"""

from sqlalchemy import Engine  # the handle every store function takes: callers need no sqlalchemy

from jointwatch.store.engine import database_url, discard_new_store, open_engine, store_exists, store_reachable
from jointwatch.store.entities import EntityView, StatementView, iter_entities, show_entity
from jointwatch.store.load import LoadResult, load_list
from jointwatch.store.media_bank import (
    DISPUTES_PER_DAY,
    SHARED_TLP,
    BankEvent,
    BankItem,
    MatchableRow,
    NewBankItem,
    SeenMatches,
    Viewer,
    add_bank_items,
    ask_bank_contributor,
    bank_generation,
    bank_item_history,
    change_bank_item_status,
    exportable_bank_rows,
    get_bank_item,
    list_bank_items,
    matchable_bank_rows,
    seen_bank_matches,
)
from jointwatch.store.members import get_member
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
    "DISPUTES_PER_DAY",
    "SHARED_TLP",
    "BankEvent",
    "BankItem",
    "Engine",
    "EntityChange",
    "EntityView",
    "FieldChange",
    "ListDiff",
    "LoadResult",
    "MatchableRow",
    "NewBankItem",
    "SeenMatches",
    "StatementView",
    "VersionInfo",
    "Viewer",
    "add_bank_items",
    "ask_bank_contributor",
    "bank_generation",
    "bank_item_history",
    "change_bank_item_status",
    "database_url",
    "diff_versions",
    "discard_new_store",
    "exportable_bank_rows",
    "get_bank_item",
    "get_member",
    "iter_entities",
    "latest_versions",
    "list_bank_items",
    "list_versions_of",
    "load_list",
    "matchable_bank_rows",
    "open_engine",
    "resolve_version",
    "seen_bank_matches",
    "show_entity",
    "store_exists",
    "store_reachable",
]
