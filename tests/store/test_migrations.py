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


def test_the_head_read_from_file_names_is_alembics() -> None:
    from alembic.script import ScriptDirectory

    from jointwatch.store.engine import alembic_config, schema_head

    assert schema_head() == ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_opening_twice_is_harmless(store: Engine) -> None:
    from jointwatch.store.engine import upgrade

    upgrade(store)
    upgrade(store)
