"""The Alembic migrations create exactly the schema the code uses."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

from jointwatch.store.schema import metadata


def test_migrated_schema_matches_the_code(store: Engine) -> None:
    with store.connect() as connection:
        context = MigrationContext.configure(connection)
        assert compare_metadata(context, metadata) == []


def test_opening_twice_is_harmless(store: Engine) -> None:
    from jointwatch.store.engine import upgrade

    upgrade(store)
    upgrade(store)
