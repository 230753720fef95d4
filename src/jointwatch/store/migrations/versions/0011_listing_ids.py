"""Entity ids unique per source (issue 13): ``<source>-<reference>``, e.g. ``us-ofac-sdn-18716``.

Before, a parser named listings after its format: ``ofac-18716`` on the SDN *and* on the
non-SDN list, ``uk-…`` for the UK list, ``un-sc-…`` / ``eu-fsf-…`` under any source name. The
same reference on two sources was then one entity: one screening match, one customer alert.
Parsers now name them ``sources.base.listing_id(source, reference)``; this migration gives the
stores loaded before the ids a fresh load gives, so that loading the next version continues
the history (diffs, first/last seen, delta re-screening) instead of replacing every entity.

For each source whose ids change (by the format it was loaded in; UN under ``un_sc``, EU under
``eu_fsf`` and partner CSV lists keep theirs): the entity ids of its statements and the entity
references among their values (every dependent id starts with its listing's id), the statement
keys (which hash the entity id), the versions' memberships, and the entity ids of whitelist
entries, decisions and customer alerts of that source. Partner FtM lists keep the ids their
files give. Screening indexes cached on disk are rebuilt (``screening.index.INDEX_FORMAT``).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from __future__ import annotations

import hashlib
import re

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# the id prefix each format used before this revision (partner formats: unchanged)
OLD_PREFIX = {"un": "un-sc", "eu": "eu-fsf", "uk": "uk", "ofac-sdn": "ofac", "ofac-cons": "ofac", "ofac-xml": "ofac"}
BATCH = 5000

# frozen copies of sources.base.make_id and store.load.statement_key as of this revision: a
# migration must keep doing what it did when it was written
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9.\-]+")


def _source_prefix(source: str) -> str:
    return _ID_UNSAFE.sub("-", source.strip()).strip("-")


def _key(source: str, entity_id: str, schema: str, prop: str, value: str, lang: str | None,
         original: str | None) -> str:
    raw = "\x1f".join((source, entity_id, schema, prop, value, lang or "", original or ""))
    return hashlib.sha1(raw.encode("utf-8")).hexdigest()


def _renames(connection: sa.Connection, forward: bool) -> list[tuple[str, str, str]]:
    """(source, prefix now, prefix after) of every loaded source whose ids this revision changes."""
    out = []
    for source, fmt in connection.execute(sa.text("SELECT DISTINCT source, format FROM list_versions")):
        if fmt not in OLD_PREFIX:
            continue
        old, new = OLD_PREFIX[fmt], _source_prefix(source)
        if old != new:
            out.append((source, old, new) if forward else (source, new, old))
    return out


def _renamed(value: str, old: str, new: str) -> str:
    return new + value[len(old):] if value.startswith(old + "-") else value


def _rename_statements(connection: sa.Connection, source: str, old: str, new: str) -> None:
    rows = connection.execute(sa.text(
        "SELECT id, entity_id, schema, prop, prop_type, value, lang, original_value, reference, first_seen, "
        "last_seen FROM statements WHERE source = :source"), {"source": source}).all()
    fresh, mapping = [], []
    for r in rows:
        entity_id = _renamed(r.entity_id, old, new)
        value = _renamed(r.value, old, new) if r.prop_type == "entity" else r.value
        if entity_id == r.entity_id and value == r.value:
            continue
        key = _key(source, entity_id, r.schema, r.prop, value, r.lang, r.original_value)
        mapping.append({"old_id": r.id, "new_id": key})
        fresh.append({"id": key, "entity_id": entity_id, "schema": r.schema, "prop": r.prop,
                      "prop_type": r.prop_type, "value": value, "lang": r.lang, "original_value": r.original_value,
                      "source": source, "reference": r.reference, "first_seen": r.first_seen,
                      "last_seen": r.last_seen})
    if not mapping:
        return
    insert = sa.text(
        "INSERT INTO statements (id, entity_id, schema, prop, prop_type, value, lang, original_value, source, "
        "reference, first_seen, last_seen) VALUES (:id, :entity_id, :schema, :prop, :prop_type, :value, :lang, "
        ":original_value, :source, :reference, :first_seen, :last_seen)")
    for start in range(0, len(fresh), BATCH):
        connection.execute(insert, fresh[start:start + BATCH])
        connection.execute(sa.text("INSERT INTO _listing_id_map (old_id, new_id) VALUES (:old_id, :new_id)"),
                           mapping[start:start + BATCH])
    # set-based from here: version_statements has no index on statement_id alone
    connection.execute(sa.text(
        "INSERT INTO version_statements (version_id, statement_id) SELECT v.version_id, m.new_id "
        "FROM version_statements v JOIN _listing_id_map m ON v.statement_id = m.old_id"))
    connection.execute(sa.text(
        "DELETE FROM version_statements WHERE statement_id IN (SELECT old_id FROM _listing_id_map)"))
    connection.execute(sa.text("DELETE FROM statements WHERE id IN (SELECT old_id FROM _listing_id_map)"))
    connection.execute(sa.text("DELETE FROM _listing_id_map"))


def _rename_references(connection: sa.Connection, source: str, old: str, new: str) -> None:
    """Whitelist entries, decisions and customer alerts name the listed entity by its id."""
    for table in ("whitelist", "decisions", "customer_alerts"):
        rows = connection.execute(sa.text(f"SELECT id, entity_id FROM {table} WHERE source = :source"),
                                  {"source": source}).all()
        changes = [{"id": r.id, "entity_id": _renamed(r.entity_id, old, new)} for r in rows
                   if _renamed(r.entity_id, old, new) != r.entity_id]
        if changes:
            connection.execute(sa.text(f"UPDATE {table} SET entity_id = :entity_id WHERE id = :id"), changes)


def _migrate(forward: bool) -> None:
    connection = op.get_bind()
    renames = _renames(connection, forward)
    if not renames:
        return
    op.create_table("_listing_id_map", sa.Column("old_id", sa.String(40), primary_key=True),
                    sa.Column("new_id", sa.String(40), nullable=False))
    # deleting a statement checks its foreign key in version_statements, whose key starts with
    # version_id: without this index every delete scans the whole table
    op.create_index("ix_tmp_version_statements_statement", "version_statements", ["statement_id"])
    for source, old, new in renames:
        _rename_statements(connection, source, old, new)
        _rename_references(connection, source, old, new)
    op.drop_index("ix_tmp_version_statements_statement", "version_statements")
    op.drop_table("_listing_id_map")


def upgrade() -> None:
    _migrate(forward=True)


def downgrade() -> None:
    # back to the format's prefix; a whitelist entry made twice, once per OFAC list, for the
    # same person would collide on the old id and stop the downgrade (a merge is not ours to pick)
    _migrate(forward=False)
