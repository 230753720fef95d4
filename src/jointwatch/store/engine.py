"""Opening the store: a SQLite file by default, PostgreSQL (or any SQLAlchemy URL) by URL,
brought to the newest schema with Alembic on open."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, CursorResult, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.exc import SQLAlchemyError

from jointwatch import settings
from jointwatch.errors import StoreBusyError, StoreError

if TYPE_CHECKING:
    from alembic.config import Config

DEFAULT_DB = settings.DB.default
ENV_VAR = settings.DB.env
# How long a writer waits for another to finish before StoreBusyError. SQLite lets one writer
# at a time hold the store; a list load holds it while it writes (about a second for the UN
# list, its parse is done before), and an audit row must wait that out rather than be lost.
BUSY_TIMEOUT_SECONDS = 60


def database_url(db: str | None = None) -> str:
    """The SQLAlchemy URL for ``db`` (a path or URL), else $JOINTWATCH_DB, else ./jointwatch.db."""
    value = db or settings.DB.read() or DEFAULT_DB
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
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_SECONDS * 1000}")
    # statement keys are hashes, so loads insert all over the B-trees: a large page cache
    # (256 MB, allocated only as used) keeps that in memory instead of re-reading pages
    cursor.execute("PRAGMA cache_size=-262144")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases and for in-memory SQLite)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def store_exists(db: str | None = None) -> bool:
    """Whether ``db`` names an existing SQLite file (other databases: assumed to exist)."""
    path = sqlite_path(database_url(db))
    return path is None or path.exists()


def open_engine(db: str | None = None, migrate: bool = True, create: bool = False) -> Engine:
    """A SQLAlchemy engine on an existing store, migrated to the newest schema.

    Only ``create=True`` (``jointwatch init``, ``lists load``, ``lists update``) makes a new
    store: a mistyped path must be an error, not a new empty store that screens as "clear".
    """
    url = database_url(db)
    path = sqlite_path(url)
    if not create and path is not None and not path.is_file():
        raise StoreError(f"no store at {path}: check --db / $JOINTWATCH_DB, or create one with "
                         f"`jointwatch init` or `jointwatch lists load` / `lists update`")
    try:
        engine = create_engine(url, future=True)
    except Exception as exc:  # bad URL or missing driver: say which
        raise StoreError(f"cannot open store {url!r}: {exc}") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "handle_error", _busy_as_store_busy)
    if not create:
        _require_store(engine)
    if migrate:
        upgrade(engine)
    return engine


def _require_store(engine: Engine) -> None:
    """Refuse a database that holds no jointwatch store (an empty file, another application's)."""
    try:
        with engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
    except Exception as exc:  # not a database at all, or unreachable
        raise StoreError(f"cannot open store {engine.url!r}: {exc}") from exc
    if "alembic_version" not in tables or "list_versions" not in tables:
        engine.dispose()
        raise StoreError(f"{engine.url!r} holds no jointwatch store: create one with `jointwatch init` "
                         f"or `jointwatch lists load` / `lists update`")


def _busy_as_store_busy(context: ExceptionContext) -> None:
    """A lock wait that timed out is StoreBusyError (exit 4, HTTP 503 with Retry-After), not a
    traceback: SQLite's "database is locked", PostgreSQL's lock_not_available (55P03)."""
    original = context.original_exception
    locked = "database is locked" in str(original) or getattr(original, "sqlstate", None) == "55P03"
    if locked:
        raise StoreBusyError(f"the store is busy: another writer (a list load?) held it for over "
                             f"{BUSY_TIMEOUT_SECONDS} s; nothing was changed, try again") from original


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that holds the store's write lock from its first statement.

    SQLite: BEGIN IMMEDIATE, so a second writer waits at the start (up to the busy timeout)
    instead of failing half way, and a check made inside (is this file loaded?) still holds
    when the writes follow. PostgreSQL: a transaction-scoped advisory lock serialises the
    writers that use this, with the same bound (lock_timeout).
    """
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        elif engine.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{BUSY_TIMEOUT_SECONDS}s'")
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(%(key)s)", {"key": WRITE_LOCK_KEY})
        try:
            yield connection
        except BaseException:
            connection.rollback()
            raise
        connection.commit()


WRITE_LOCK_KEY = 0x6A77_0001  # "jw" and 1: the advisory lock of write_transaction on PostgreSQL


MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    """Alembic configuration pointing at the migrations shipped inside the package."""
    from alembic.config import Config  # noqa: PLC0415 - Alembic only when a store is migrated

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def schema_head() -> str:
    """The newest migration's revision, read from the file names (each migration's revision is
    the number its file name begins with: tests/store/test_migrations.py checks that Alembic
    agrees), so that opening a store that is up to date imports no Alembic: 0.15 s off every
    command's start."""
    return max(path.name.split("_", 1)[0] for path in (MIGRATIONS / "versions").glob("[0-9]*_*.py"))


def _current_revision(engine: Engine) -> str | None:
    """The store's schema revision as Alembic recorded it; None for a store not made yet."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine) -> None:
    """Apply every pending migration."""
    try:
        if _current_revision(engine) == schema_head():
            return  # nothing to do: no write lock taken, so opening never waits for a running load
        from alembic import command  # noqa: PLC0415 - see alembic_config

        config = alembic_config()
        # one transaction with the write lock from its first statement: on SQLite, DDL outside an
        # explicit BEGIN commits at once, so a migration stopped half way would leave half a schema
        with write_transaction(engine) as connection:
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


def discard_new_store(engine: Engine) -> None:
    """Remove a SQLite store that this command created and then failed to fill, so that a failed
    first load leaves no empty store behind (which would otherwise be opened and screened later)."""
    path = sqlite_path(str(engine.url))
    engine.dispose()
    if path is None:
        return
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def store_reachable(engine: Engine) -> bool:
    """Whether the store answers a trivial query now (the service's health check)."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return False
    return True
