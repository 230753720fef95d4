"""Customers and freezes always belong to a member; the freeze register says ``source`` (issue 14).

The CLI now acts as a member (``--member``, default the store's own member ``local``), so
what it records is seen by that member's API keys too. Rows it recorded before belong to no
member (member_id NULL); they are given to ``local`` (made here if such rows exist and it does
not), so nothing made earlier is lost, and the customer and freeze tables refuse NULL from
now on. The whitelist's NULL rows are given to ``local`` too (a NULL row left there would
apply to everyone); its column stays nullable, as store/whitelist.py decides. A NULL row
that repeats an entry ``local`` already has is dropped: the same pair stays suppressed.

``frozen_assets.list_source`` becomes ``source``: one word for the list a record comes from.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

LOCAL_MEMBER = "local"   # store.members.LOCAL_MEMBER, written here as it was when this ran
OWNED = ("customers", "customer_alerts", "customer_runs", "frozen_assets")

_members = sa.table("members", sa.column("id", sa.Integer), sa.column("name", sa.String),
                    sa.column("country", sa.String), sa.column("created_at", sa.DateTime(timezone=True)))


def _owned(name: str) -> sa.TableClause:
    return sa.table(name, sa.column("member_id", sa.Integer))


def _has_unowned(connection: sa.Connection, name: str) -> bool:
    table = _owned(name)
    return connection.execute(sa.select(table.c.member_id).where(table.c.member_id.is_(None)).limit(1)).first() \
        is not None


def _local_member(connection: sa.Connection) -> int:
    found = connection.execute(sa.select(_members.c.id).where(_members.c.name == LOCAL_MEMBER)).scalar()
    if found is not None:
        return int(found)
    connection.execute(sa.insert(_members).values(name=LOCAL_MEMBER, country=None, created_at=datetime.now(UTC)))
    return int(connection.execute(sa.select(_members.c.id).where(_members.c.name == LOCAL_MEMBER)).scalar_one())


def upgrade() -> None:
    connection = op.get_bind()
    unowned = [name for name in (*OWNED, "whitelist") if _has_unowned(connection, name)]
    if unowned:
        local = _local_member(connection)
        if "whitelist" in unowned:
            op.execute(sa.text(
                "DELETE FROM whitelist WHERE member_id IS NULL AND EXISTS (SELECT 1 FROM whitelist AS w "
                "WHERE w.member_id = :local AND w.query_key = whitelist.query_key "
                "AND w.entity_id = whitelist.entity_id)").bindparams(local=local))
        for name in unowned:
            table = _owned(name)
            op.execute(sa.update(table).where(table.c.member_id.is_(None)).values(member_id=local))
    for name in OWNED:
        with op.batch_alter_table(name) as batch:
            batch.alter_column("member_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("frozen_assets") as batch:
        batch.alter_column("list_source", new_column_name="source", existing_type=sa.String(64),
                           existing_nullable=False)


def downgrade() -> None:
    # the rows stay with ``local``: a member's rows are what the earlier code reads for that member
    with op.batch_alter_table("frozen_assets") as batch:
        batch.alter_column("source", new_column_name="list_source", existing_type=sa.String(64),
                           existing_nullable=False)
    for name in OWNED:
        with op.batch_alter_table(name) as batch:
            batch.alter_column("member_id", existing_type=sa.Integer(), nullable=True)
