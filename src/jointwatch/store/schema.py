"""The store's tables: list versions, statements with provenance, and which statements
each version holds. Alembic migrations in ``migrations/`` create exactly these."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

metadata = MetaData()


class UtcDateTime(TypeDecorator[datetime]):
    """A point in time, always handed back aware and in UTC: SQLite returns stored times naive
    and PostgreSQL in the session's zone, so without this every reader (API, CLI, freshness
    checks) would have to repair them itself. A naive time given to the store is taken as UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


list_versions = Table(
    "list_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(64), nullable=False),
    Column("version", String(96), nullable=False, unique=True),
    Column("format", String(32), nullable=False),
    Column("published", Date, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("files", Text, nullable=False),
    Column("loaded_at", UtcDateTime(), nullable=False),
    Column("entity_count", Integer, nullable=False),
    Column("statement_count", Integer, nullable=False),
    Column("schema_counts", Text, nullable=False),
    # last time a load or update found the publisher's file unchanged (None: only loaded_at)
    Column("checked_at", UtcDateTime(), nullable=True),
    UniqueConstraint("source", "content_hash", name="uq_list_versions_source_hash"),
)

statements = Table(
    "statements",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("entity_id", String(255), nullable=False),
    Column("schema", String(64), nullable=False),
    Column("prop", String(64), nullable=False),
    Column("prop_type", String(32), nullable=False),
    Column("value", Text, nullable=False),
    Column("lang", String(16), nullable=True),
    Column("original_value", Text, nullable=True),
    Column("source", String(64), nullable=False),
    Column("reference", String(128), nullable=False),
    Column("first_seen", Date, nullable=False),
    Column("last_seen", Date, nullable=False),
    Index("ix_statements_entity_id", "entity_id"),
    Index("ix_statements_reference", "reference"),
    sqlite_with_rowid=False,
)

version_statements = Table(
    "version_statements",
    metadata,
    Column("version_id", Integer, ForeignKey("list_versions.id", ondelete="CASCADE"), primary_key=True),
    Column("statement_id", String(40), ForeignKey("statements.id"), primary_key=True),
    sqlite_with_rowid=False,
)

# The suppressions of false-positive decisions (store/decisions.py): this subject (query
# identity digest) is not this listed entity, for this member. Screening suppresses the pair
# from then on; rows are added and withdrawn with their decision, never edited. (The table
# keeps the name it had before decisions were one concept.)
whitelist = Table(
    "whitelist",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("query_key", String(64), nullable=False),
    Column("query_name", Text, nullable=False),
    Column("query_birth_date", String(10), nullable=True),
    Column("entity_id", String(255), nullable=False),
    Column("source", String(64), nullable=False),
    Column("reference", String(128), nullable=False),
    Column("reason", Text, nullable=False),
    Column("decided_by", String(128), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    # whose decision it is: a member's entries apply to that member's screening only
    # (migrations 0013-0014 gave the old store-wide rows to the member ``local``)
    Column("member_id", Integer, nullable=False),
    UniqueConstraint("query_key", "entity_id", "member_id", name="uq_whitelist_query_entity_member"),
)

# Members are partner organisations (a border agency, a bank); everything they do is theirs.
members = Table(
    "members",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("country", String(2), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
)

# API keys: only the SHA-256 of the secret is kept; the prefix finds the row without it.
# Keys are revoked (revoked_at set), never deleted, so old audit rows still name their user.
api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("member_id", Integer, ForeignKey("members.id"), nullable=False),
    Column("user", String(128), nullable=False),
    Column("role", String(16), nullable=False),
    Column("prefix", String(16), nullable=False, unique=True),
    Column("key_hash", String(64), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("revoked_at", UtcDateTime(), nullable=True),
)

# The audit trail: appended to, never updated or deleted by the code. The subject is kept
# as a keyed digest only ("k<audit key id>:<HMAC-SHA256 hex>", store/audit.py), so the trail
# proves who asked about whom without holding the names or letting a reader confirm a guess.
audit = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("member_id", Integer, ForeignKey("members.id"), nullable=False),
    Column("user", String(128), nullable=False),
    Column("action", String(64), nullable=False),
    Column("subject_digest", String(64), nullable=True),
    Column("list_versions", Text, nullable=False),
    Column("result_summary", Text, nullable=False),
    Column("status", Integer, nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Index("ix_audit_member_at", "member_id", "at"),
)

# The secret keys of the audit digest (HMAC-SHA256 of the subject, keyed): made on first use,
# rotated by the operator, never deleted, so that old rows can still be checked. No route reads it.
audit_keys = Table(
    "audit_keys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("secret", String(64), nullable=False),  # 32 random bytes, hex
    Column("created_at", UtcDateTime(), nullable=False),
)

# An analyst's verdict on one match, filed under the member that made it. A false positive
# also goes to the whitelist (``whitelist_id``), which is what screening consults.
decisions = Table(
    "decisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("member_id", Integer, ForeignKey("members.id"), nullable=False),
    Column("user", String(128), nullable=False),
    Column("verdict", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    Column("query_key", String(64), nullable=False),
    Column("query_name", Text, nullable=False),
    Column("query_birth_date", String(10), nullable=True),
    Column("entity_id", String(255), nullable=False),
    Column("source", String(64), nullable=False),
    Column("reference", String(128), nullable=False),
    Column("whitelist_id", Integer, nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Index("ix_decisions_member", "member_id"),
)

# Batch screening jobs (POST /screen beyond the inline limit, POST /jobs): the whole input is
# kept so that a restarted service resumes where it stopped. A member only sees its own jobs.
jobs = Table(
    "jobs",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("member_id", Integer, ForeignKey("members.id"), nullable=False),
    Column("user", String(128), nullable=False),
    Column("status", String(16), nullable=False),
    Column("total", Integer, nullable=False),
    Column("done", Integer, nullable=False),
    Column("threshold", Float, nullable=True),
    Column("match_limit", Integer, nullable=False),
    Column("subject_digest", String(64), nullable=False),
    Column("error", Text, nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Index("ix_jobs_status_created", "status", "created_at"),
)

# One row per subject of a job, in the order sent. ``result`` is written once, when the
# subject is screened: a row without one is what a resumed worker screens next.
job_items = Table(
    "job_items",
    metadata,
    Column("job_id", String(36), ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True),
    Column("idx", Integer, primary_key=True),
    Column("subject", Text, nullable=False),
    Column("result", Text, nullable=True),
)


# ---- travel (issue 5): lost/stolen travel documents; migration 0006 ----
# Travel documents reported lost, stolen or revoked, by source (a national register, a partner's
# feed). A load replaces one source's documents whole, in one transaction.
travel_documents = Table(
    "travel_documents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(64), nullable=False),
    Column("number_key", String(64), nullable=False),
    Column("number", String(64), nullable=False),
    Column("issuing_country", String(3), nullable=False),
    Column("document_type", String(8), nullable=False),
    Column("status", String(16), nullable=False),
    Column("reported", Date, nullable=True),
    Column("loaded_at", UtcDateTime(), nullable=False),
    UniqueConstraint("source", "number_key", "issuing_country", name="uq_travel_documents_source_number"),
    Index("ix_travel_documents_number_key", "number_key"),
)

# ---- payments, customers, freeze register (issue 6); migration 0007 ----

# A member's customer base (the CLI's belongs to the member it acts as: migration 0013). ``name_keys``
# are the name's analysed words (spelling, canonical form, skeleton keys: payments.customers
# name_tokens), kept so a list change finds the customers it may touch without analysing
# every name again; ``near_score`` the best score just under the threshold,
# so a customer that a change of word weights could lift over it is screened again.
customers = Table(
    "customers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("member_id", Integer, nullable=False),
    Column("ref", String(128), nullable=False),
    Column("name", Text, nullable=False),
    Column("schema", String(32), nullable=False),
    Column("birth_date", String(10), nullable=True),
    Column("nationality", String(64), nullable=True),
    Column("country", String(64), nullable=True),
    Column("accounts", Text, nullable=True),
    Column("name_keys", Text, nullable=True),
    Column("near_score", Float, nullable=True),
    Column("updated_at", UtcDateTime(), nullable=False),
    UniqueConstraint("member_id", "ref", name="uq_customers_member_ref"),
)

# Alerts: a match a person must look at, with where it came from (``origin``: a customer run,
# a held payment, a referred traveller, a job) and what the analysts did about it. A customer
# run's alerts are one row per customer and listed entity, open until withdrawn (the entity
# left the list, changed so that it no longer matches, or the customer left the base).
alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("member_id", Integer, nullable=False),
    Column("customer_ref", String(128), nullable=True),      # a customer run's alert: whose
    Column("entity_id", String(255), nullable=False),
    Column("source", String(64), nullable=False),
    Column("reference", String(128), nullable=False),
    Column("caption", Text, nullable=False),
    Column("listed_name", Text, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("score", Float, nullable=False),
    Column("list_version", String(96), nullable=False),
    Column("explanation", Text, nullable=True),
    Column("status", String(16), nullable=False),             # open, withdrawn (by a later run)
    Column("reason", Text, nullable=True),
    Column("run_id", Integer, nullable=True),                 # the customer run that opened it
    Column("created_at", UtcDateTime(), nullable=False),
    Column("withdrawn_at", UtcDateTime(), nullable=True),
    # a partner entry's alert: whose entry it is and the rules it is shared under (None for an official list)
    Column("originator", String(255), nullable=True),
    Column("tlp", String(16), nullable=True),
    Column("handling", Text, nullable=True),           # JSON list of handling codes
    Column("origin", String(16), nullable=False),      # customer, payment, traveller, job
    Column("subject", Text, nullable=False),           # the name as screened
    Column("subject_key", String(64), nullable=True),  # its identity digest: what a decision is filed under
    Column("subject_birth_date", String(10), nullable=True),
    Column("origin_ref", String(255), nullable=False),  # customer ref, message id, flight/traveller, job:index
    Column("assignee", String(128), nullable=True),
    Column("decision", String(16), nullable=True),     # true_positive, false_positive
    Column("decided_by", String(128), nullable=True),
    Column("decided_at", UtcDateTime(), nullable=True),
    Column("decision_reason", Text, nullable=True),
    Column("decision_id", Integer, nullable=True),     # the member's decision it filed
    Index("ix_alerts_member_customer", "member_id", "customer_ref"),
    Index("ix_alerts_entity", "entity_id"),
    Index("ix_alerts_member_id", "member_id", "id"),
    Index("ix_alerts_member_state", "member_id", "decision", "status", "assignee"),   # counts per state
)

# What happened to an alert after it was opened: assigned, unassigned, decided (opening and a
# run's withdrawal are on the alert's own row).
alert_events = Table(
    "alert_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("alert_id", Integer, ForeignKey("alerts.id"), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("user", String(128), nullable=False),
    Column("action", String(16), nullable=False),
    Column("detail", Text, nullable=True),
    Index("ix_alert_events_alert", "alert_id"),
)

# Each screening of a customer base: full or delta, against which list versions, with what result.
customer_runs = Table(
    "customer_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("member_id", Integer, nullable=False),
    Column("kind", String(8), nullable=False),
    Column("list_versions", Text, nullable=False),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("seconds", Float, nullable=False),
    Column("customers", Integer, nullable=False),
    Column("screened", Integer, nullable=False),
    Column("new_alerts", Integer, nullable=False),
    Column("withdrawn_alerts", Integer, nullable=False),
    # the partner entries the run's screener held: up to which sharing sequence number, and the
    # member's groups and link flag then (JSON), so a delta run knows what was released since
    Column("partner_seq", Integer, nullable=True),
    Column("partner_recipient", Text, nullable=True),
)

# The freeze register: assets frozen under a listing, with the amount still frozen.
frozen_assets = Table(
    "frozen_assets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("member_id", Integer, nullable=False),
    Column("holder", Text, nullable=False),
    Column("customer_ref", String(128), nullable=True),
    Column("account", String(64), nullable=False),
    Column("institution", String(128), nullable=False),
    Column("amount", Numeric(24, 4), nullable=False),
    Column("frozen_amount", Numeric(24, 4), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("frozen_on", Date, nullable=False),
    Column("source", String(64), nullable=False),   # named "list_source" before migration 0013
    Column("reference", String(128), nullable=False),
    Column("regime", String(128), nullable=False),
    Column("country", String(2), nullable=False),
    Column("status", String(24), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Index("ix_frozen_assets_member", "member_id"),
)

# Every change of a frozen asset's status, appended, never edited: the register's history.
freeze_events = Table(
    "freeze_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("asset_id", Integer, ForeignKey("frozen_assets.id"), nullable=False),
    Column("status", String(24), nullable=False),
    Column("amount", Numeric(24, 4), nullable=False),
    Column("reason", Text, nullable=False),
    Column("licence", String(128), nullable=True),
    Column("by_user", String(128), nullable=True),
    Column("at", UtcDateTime(), nullable=False),
    Index("ix_freeze_events_asset", "asset_id"),
)

# ---- media hash bank (issue 8); migration 0008 ----

# One banked media item as one member contributed it: its hashes (never the media), the
# member's labels, and a status. Two members banking the same file get two rows, so neither
# can overwrite the other's labels. ``dedupe_key`` (sha256, else md5, else pdq) makes a
# re-contribution or re-import by the same member update its own row instead of adding one.
media_items = Table(
    "media_items",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("member_id", Integer, ForeignKey("members.id"), nullable=False),
    Column("dedupe_key", String(80), nullable=False),
    Column("md5", String(32), nullable=True),
    Column("sha256", String(64), nullable=True),
    Column("pdq", String(64), nullable=True),
    Column("pdq_quality", Integer, nullable=True),
    Column("signature", LargeBinary, nullable=True),
    Column("group_name", String(128), nullable=True),
    Column("content_type", String(32), nullable=False),
    Column("tlp", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("origin", String(64), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    # random, with no sequence in it: what a member may quote about an item it matched but may
    # not see (migration 0010)
    Column("ref", String(32), nullable=False),
    # image, video, audio (from the file's bytes) or other (exact hashes only) (migration 0020)
    Column("kind", String(8), nullable=False, server_default="other"),
    UniqueConstraint("member_id", "dedupe_key", name="uq_media_items_member_key"),
    UniqueConstraint("ref", name="uq_media_items_ref"),
    Index("ix_media_items_md5", "md5"),
    Index("ix_media_items_sha256", "sha256"),
    Index("ix_media_items_status", "status"),
)

# The history of every item: contributed, relabelled, disputed, withdrawn, reinstated; by whom
# and why. Appended, never edited: a false-positive appeal is answered from here.
media_events = Table(
    "media_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("item_id", Integer, ForeignKey("media_items.id"), nullable=False),
    Column("member_id", Integer, ForeignKey("members.id"), nullable=False),
    Column("user", String(128), nullable=False),
    Column("action", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Index("ix_media_events_item", "item_id"),
)

# One member's dispute of another member's item (migration 0010): the item stops matching for
# that member only, until its contributor agrees (and disputes it for everyone) or withdraws it.
media_disputes = Table(
    "media_disputes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("item_id", Integer, ForeignKey("media_items.id"), nullable=False),
    Column("member_id", Integer, ForeignKey("members.id"), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    UniqueConstraint("item_id", "member_id", name="uq_media_disputes_item_member"),
    Index("ix_media_disputes_member_at", "member_id", "at"),
)

# ---- partner sharing (issue 16); migration 0015 ----

# Named sets of members an entry may be distributed to (MISP's sharing groups). The owner
# manages who is in it; a member sees the groups it belongs to.
sharing_groups = Table(
    "sharing_groups",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("owner_member_id", Integer, ForeignKey("members.id"), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)

sharing_group_members = Table(
    "sharing_group_members",
    metadata,
    Column("group_id", Integer, ForeignKey("sharing_groups.id"), primary_key=True),
    Column("member_id", Integer, ForeignKey("members.id"), primary_key=True),
)

# A partner entry: one FtM entity a member (or, through a federation link, another server's
# member) contributes under rules. ``ref`` is global (it travels between servers); the row
# holds the current version's labels, ``shared_entry_versions`` every version's entity.
# Entries are withdrawn (status), never deleted.
shared_entries = Table(
    "shared_entries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ref", String(64), nullable=False, unique=True),
    # the local member that contributed it; None for an entry that came through a link
    Column("member_id", Integer, ForeignKey("members.id"), nullable=True),
    Column("originator", String(255), nullable=False),     # "border-police" or "border-police@agency-b"
    Column("link_id", Integer, nullable=True),              # the federation link it came through
    Column("schema", String(32), nullable=False),
    Column("caption", Text, nullable=False),
    Column("distribution", String(16), nullable=False),    # originator, members, group, server, connected
    Column("audience", Text, nullable=False),               # JSON: member ids (members) or [group id] (group)
    Column("tlp", String(16), nullable=False),
    Column("handling", Text, nullable=False),               # JSON list of handling codes
    Column("reason", Text, nullable=False),
    Column("expires_on", Date, nullable=True),
    Column("status", String(16), nullable=False),           # active, withdrawn
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    # the sharing generation of the last change: what a sync sends after a checkpoint
    Column("seq", Integer, nullable=False),
    Index("ix_shared_entries_member", "member_id"),
    Index("ix_shared_entries_seq", "seq"),
)

# Every version of every entry, appended: the entity (FtM JSON), its labels, who changed what and why.
shared_entry_versions = Table(
    "shared_entry_versions",
    metadata,
    Column("entry_id", Integer, ForeignKey("shared_entries.id"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("entity", Text, nullable=False),                 # FtM entity JSON of this version
    Column("labels", Text, nullable=False),                 # JSON: the labels of this version (as the entry row)
    Column("change", String(16), nullable=False),           # shared, edited, withdrawn, imported, synced
    Column("member_id", Integer, nullable=True),
    Column("user", String(128), nullable=False),
    Column("note", Text, nullable=False),
    Column("at", UtcDateTime(), nullable=False),
)

# One counter bumped in the same transaction as every change of an entry, a group or a
# link: a screener compares it to the one it was built on, so a withdrawal stops matching
# at the next request, in every process.
sharing_state = Table(
    "sharing_state",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("generation", Integer, nullable=False),
)

# Files attached to entries (documents, photographs, imagery): stored once by SHA-256.
evidence_blobs = Table(
    "evidence_blobs",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("size", Integer, nullable=False),
    Column("content", LargeBinary, nullable=False),
)

# An entry's evidence with its chain of custody: who added it, when, from where; a TLP at
# least as strict as the entry's; capture time and place read from the file.
shared_evidence = Table(
    "shared_evidence",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ref", String(32), nullable=False, unique=True),
    Column("entry_id", Integer, ForeignKey("shared_entries.id"), nullable=False),
    Column("sha256", String(64), ForeignKey("evidence_blobs.sha256"), nullable=False),
    Column("filename", String(255), nullable=False),
    Column("media_type", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("tlp", String(16), nullable=False),
    Column("description", Text, nullable=False),
    Column("member_id", Integer, nullable=True),
    Column("user", String(128), nullable=False),
    Column("origin", String(255), nullable=False),          # where from: "upload 10.0.0.7", "cli", "link agency-b"
    Column("captured_at", UtcDateTime(), nullable=True),
    Column("latitude", Float, nullable=True),
    Column("longitude", Float, nullable=True),
    Column("status", String(16), nullable=False),           # active, withdrawn
    Column("added_at", UtcDateTime(), nullable=False),
    Index("ix_shared_evidence_entry", "entry_id"),
)

# The sharing trail, appended, never edited: shared, edited, withdrawn, viewed, matched,
# exported, imported, sent and received over a link; so an originator can see where its
# entries went and who matched them.
sharing_events = Table(
    "sharing_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("entry_id", Integer, nullable=True),
    Column("member_id", Integer, nullable=True),            # who acted (None: a link or the server)
    Column("user", String(128), nullable=False),
    Column("action", String(32), nullable=False),
    Column("counterpart", String(255), nullable=False),     # to whom / from where
    Column("detail", Text, nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Index("ix_sharing_events_entry", "entry_id"),
)

# Federation: this server's Ed25519 signing keys (rotated, never deleted: old bundles stay checkable).
signing_keys = Table(
    "signing_keys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key_id", String(64), nullable=False, unique=True),
    Column("private_key", Text, nullable=False),            # PKCS#8 PEM
    Column("public_key", Text, nullable=False),             # raw, base64
    Column("created_at", UtcDateTime(), nullable=False),
    Column("retired_at", UtcDateTime(), nullable=True),
)

# A connected server: where it is, the public keys it signs with (exchanged out of band),
# how far its entries may be redistributed here, and the checkpoints of both directions.
federation_links = Table(
    "federation_links",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("url", String(512), nullable=True),
    Column("peer_keys", Text, nullable=False),              # JSON {key_id: base64 raw public key}
    Column("api_key", Text, nullable=True),                 # the key this server presents to the peer
    Column("member_id", Integer, ForeignKey("members.id"), nullable=False),  # the peer as a member here
    Column("allow", String(16), nullable=False),            # server (downgrade) or connected
    Column("pushed_seq", Integer, nullable=False),
    Column("pulled_seq", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)

# Bundles a link has accepted (by id): a replayed bundle is refused and audited.
federation_bundles = Table(
    "federation_bundles",
    metadata,
    Column("link_id", Integer, ForeignKey("federation_links.id"), primary_key=True),
    Column("bundle_id", String(64), primary_key=True),
    Column("seq", Integer, nullable=False),
    Column("at", UtcDateTime(), nullable=False),
)

# Blind discovery (issue 17): a holder member's offer to answer blind queries about its
# restricted entries. ``seed`` is the holder's secret: every OPRF key (one per asker and day)
# is derived from it, and it never leaves this server.
discovery_offers = Table(
    "discovery_offers",
    metadata,
    Column("holder_id", Integer, ForeignKey("members.id"), primary_key=True),
    Column("seed", String(64), nullable=False),             # 32 random bytes, hex
    Column("daily_keys", Integer, nullable=False),          # evaluations per asker per day
    Column("per_minute", Integer, nullable=False),          # evaluation calls per asker per minute
    Column("scope", String(16), nullable=False),            # server, or connected (linked servers too)
    Column("tlp_max", String(16), nullable=False),          # the strictest TLP of the entries it covers
    Column("status", String(16), nullable=False),           # open, closed
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

# What each asker spent of each holder's budget, per UTC day (seen by both sides).
discovery_spend = Table(
    "discovery_spend",
    metadata,
    Column("holder_id", Integer, ForeignKey("members.id"), primary_key=True),
    Column("asker", String(255), primary_key=True),        # "member:7", or "link:agency-a/border-police"
    Column("day", String(10), primary_key=True),            # YYYY-MM-DD (UTC)
    Column("keys", Integer, nullable=False),
    Column("queries", Integer, nullable=False),
    Column("refused", Integer, nullable=False),
    Column("window_start", UtcDateTime(), nullable=False),  # the current minute's rate window
    Column("window_calls", Integer, nullable=False),
)

# Every blind evaluation as the holder saw it: from whom, when, how many keys. Never a name.
discovery_queries = Table(
    "discovery_queries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("holder_id", Integer, ForeignKey("members.id"), nullable=False),
    Column("asker", String(255), nullable=False),
    Column("keys", Integer, nullable=False),
    Column("outcome", String(16), nullable=False),          # evaluated, refused
    Column("at", UtcDateTime(), nullable=False),
    Index("ix_discovery_queries_holder", "holder_id", "at"),
)

# A request for information after a blind hit. Inside one server one row serves both sides
# (side "both"); between servers each keeps its own row (side "asker" or "holder"), joined
# by ``remote_ref`` over the link.
info_requests = Table(
    "info_requests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ref", String(32), nullable=False, unique=True),        # "rq-…"
    Column("side", String(8), nullable=False),                     # both, asker, holder
    Column("asker_id", Integer, ForeignKey("members.id"), nullable=True),   # when the asker is here
    Column("asker", String(255), nullable=False),                  # "border-police" or "x@agency-a"
    Column("holder_id", Integer, ForeignKey("members.id"), nullable=True),  # when the holder is here
    Column("holder", String(255), nullable=False),
    Column("link_id", Integer, ForeignKey("federation_links.id"), nullable=True),
    Column("remote_ref", String(32), nullable=True),
    Column("entry_token", String(64), nullable=False),             # the blind index's token of the hit
    Column("epoch", String(10), nullable=False),                   # the day the token belongs to
    Column("entry_id", Integer, ForeignKey("shared_entries.id"), nullable=True),  # holder side only
    Column("subject", Text, nullable=False),                       # JSON: what the asker chose to reveal
    Column("reason", Text, nullable=False),
    Column("legal_basis", Text, nullable=False),
    Column("urgency", String(16), nullable=False),                 # routine, urgent, immediate
    Column("deadline", Date, nullable=False),
    Column("state", String(24), nullable=False),
    Column("answer", Text, nullable=False),
    Column("released_ref", String(64), nullable=True),             # the entry released on acceptance
    Column("release", Text, nullable=True),                        # JSON: the labels the holder released it under
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("reminded_at", UtcDateTime(), nullable=True),
    Index("ix_info_requests_asker", "asker_id"),
    Index("ix_info_requests_holder", "holder_id"),
)

# Every step of a request: who, when, what, the state it left.
info_request_events = Table(
    "info_request_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", Integer, ForeignKey("info_requests.id"), nullable=False),
    Column("member_id", Integer, nullable=True),
    Column("actor", String(255), nullable=False),
    Column("user", String(128), nullable=False),
    Column("action", String(32), nullable=False),
    Column("detail", Text, nullable=False),
    Column("state", String(24), nullable=False),
    Column("at", UtcDateTime(), nullable=False),
    Column("remote_event", Integer, nullable=True),    # the holder's server's event id, for one pulled from there
    Index("ix_info_request_events_request", "request_id"),
)

# People who sign in to the web console (issue 18): each belongs to a member and has one of
# the API's roles. Only the password's hash is kept (scrypt, its salt and parameters in the
# string, web/passwords.py). A user is disabled, never deleted, so audit rows keep their name.
console_users = Table(
    "console_users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("member_id", Integer, ForeignKey("members.id"), nullable=False),
    Column("user", String(128), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("password_set_at", UtcDateTime(), nullable=False),
    Column("disabled_at", UtcDateTime(), nullable=True),
)

# A signed-in console session: the cookie holds a random token, the store its SHA-256 (a copy
# of the database opens no session), the form token (CSRF) and when it was last used (idle timeout).
console_sessions = Table(
    "console_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("console_users.id"), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("last_seen_at", UtcDateTime(), nullable=False),
    Column("ended_at", UtcDateTime(), nullable=True),
    Index("ix_console_sessions_user", "user_id"),
)
