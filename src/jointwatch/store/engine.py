"""Opening the store: a SQLite file by default, PostgreSQL (or any SQLAlchemy URL) by URL,
brought to the newest schema with Alembic on open."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import CursorResult, Engine, create_engine, event

from jointwatch.errors import StoreError

DEFAULT_DB = "jointwatch.db"
ENV_VAR = "JOINTWATCH_DB"


def database_url(db: str | None = None) -> str:
    """The SQLAlchemy URL for ``db`` (a path or URL), else $JOINTWATCH_DB, else ./jointwatch.db."""
    value = db or os.environ.get(ENV_VAR) or DEFAULT_DB
    if "://" in value:
        if value.startswith("postgresql://"):
            # psycopg 3 is the driver we install with the `postgres` extra
            value = "postgresql+psycopg://" + value[len("postgresql://"):]
        return value
    return f"sqlite:///{Path(value).expanduser()}"


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # statement keys are hashes, so loads insert all over the B-trees: a large page cache
    # (256 MB, allocated only as used) keeps that in memory instead of re-reading pages
    cursor.execute("PRAGMA cache_size=-262144")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


def open_engine(db: str | None = None, migrate: bool = True) -> Engine:
    """A SQLAlchemy engine on the store, migrated to the newest schema."""
    url = database_url(db)
    try:
        engine = create_engine(url, future=True)
    except Exception as exc:  # bad URL or missing driver: say which
        raise StoreError(f"cannot open store {url!r}: {exc}") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    if migrate:
        upgrade(engine)
    return engine


def alembic_config() -> Config:
    """Alembic configuration pointing at the migrations shipped inside the package."""
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    return config


def upgrade(engine: Engine) -> None:
    """Apply every pending migration."""
    config = alembic_config()
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except Exception as exc:
        raise StoreError(f"cannot migrate store {engine.url!r}: {exc}") from exc


def inserted_id(result: CursorResult[Any]) -> int:
    """The primary key of the one row an INSERT made."""
    key = result.inserted_primary_key
    if key is None:
        raise StoreError("the database returned no key for the new row")
    return int(key[0])
