"""The register: entities from official lists, stored as statements with provenance.

Every statement records the source (``un_sc``, ``us_ofac_sdn``…), the source's own
reference (``QDi.354``, ``6931``), and when it was first and last seen; every list version
(publication date + content hash) records exactly which statements it held, so any two
versions can be compared. SQLite by default, PostgreSQL by URL, migrated by Alembic.
"""

from sqlalchemy import Engine  # the handle every store function takes: callers need no sqlalchemy

from jointwatch.store.customers import (
    BaseChange,
    CustomerAlert,
    RunInfo,
    StoredCustomer,
    count_customers,
    iter_customers,
    last_run,
    list_alerts,
    replace_base,
    save_run,
    withdraw_for_removed_customers,
)
from jointwatch.store.engine import database_url, discard_new_store, open_engine, store_exists, store_reachable
from jointwatch.store.entities import EntityView, StatementView, iter_entities, show_entity
from jointwatch.store.freeze import (
    FreezeEvent,
    FrozenAsset,
    freeze_asset,
    get_asset,
    list_assets,
    listing_regimes,
    release_asset,
    totals,
)
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
from jointwatch.store.members import LOCAL_MEMBER, get_member, member_or_local
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
from jointwatch.store.audit import AuditEntry, MAX_LIMIT, read_audit, record, subject_digest
from jointwatch.store.decisions import Decision, decided_false_positives, list_decisions, record_decision, withdraw_decision
from jointwatch.store.entities import StatementRow, iter_statement_rows
from jointwatch.store.jobs import Job, create_job, finish_job, get_job, iter_results, pending_subjects, set_status, store_result, unfinished_jobs
from jointwatch.store.members import ApiKey, find_key, list_keys
from jointwatch.store.travel_documents import ReportedDocument, STATUSES, find_documents
from jointwatch.store.versions import DEPENDENT_SCHEMATA
from jointwatch.store.audit import rows_about
from jointwatch.store.audit_keys import rotate_key
from jointwatch.store.members import Member, ROLES, acting_member, add_member, create_key, list_members, revoke_key
from jointwatch.store.travel_documents import document_sources, load_documents

__all__ = [
    "ApiKey",
    "AuditEntry",
    "BankEvent",
    "BankItem",
    "BaseChange",
    "CustomerAlert",
    "DEPENDENT_SCHEMATA",
    "DISPUTES_PER_DAY",
    "Decision",
    "Engine",
    "EntityChange",
    "EntityView",
    "FieldChange",
    "FreezeEvent",
    "FrozenAsset",
    "Job",
    "LOCAL_MEMBER",
    "ListDiff",
    "LoadResult",
    "MAX_LIMIT",
    "MatchableRow",
    "Member",
    "NewBankItem",
    "ROLES",
    "ReportedDocument",
    "RunInfo",
    "SHARED_TLP",
    "STATUSES",
    "SeenMatches",
    "StatementRow",
    "StatementView",
    "StoredCustomer",
    "VersionInfo",
    "Viewer",
    "acting_member",
    "add_bank_items",
    "add_member",
    "ask_bank_contributor",
    "bank_generation",
    "bank_item_history",
    "change_bank_item_status",
    "count_customers",
    "create_job",
    "create_key",
    "database_url",
    "decided_false_positives",
    "diff_versions",
    "discard_new_store",
    "document_sources",
    "exportable_bank_rows",
    "find_documents",
    "find_key",
    "finish_job",
    "freeze_asset",
    "get_asset",
    "get_bank_item",
    "get_job",
    "get_member",
    "iter_customers",
    "iter_entities",
    "iter_results",
    "iter_statement_rows",
    "last_run",
    "latest_versions",
    "list_alerts",
    "list_assets",
    "list_bank_items",
    "list_decisions",
    "list_keys",
    "list_members",
    "list_versions_of",
    "listing_regimes",
    "load_documents",
    "load_list",
    "matchable_bank_rows",
    "member_or_local",
    "open_engine",
    "pending_subjects",
    "read_audit",
    "record",
    "record_decision",
    "release_asset",
    "replace_base",
    "resolve_version",
    "revoke_key",
    "rotate_key",
    "rows_about",
    "save_run",
    "seen_bank_matches",
    "set_status",
    "show_entity",
    "store_exists",
    "store_reachable",
    "store_result",
    "subject_digest",
    "totals",
    "unfinished_jobs",
    "withdraw_decision",
    "withdraw_for_removed_customers",
]
