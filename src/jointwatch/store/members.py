"""Members (partner organisations) and their API keys: created, listed, revoked, checked.

A key is ``jw_<prefix>_<secret>``. The whole key is shown once, when it is created; the
store keeps the prefix (to find the row) and the SHA-256 of the whole key (to check it),
so a copy of the database does not give anyone a working key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from jointwatch.errors import ConflictError, InvalidInputError, JointwatchError, NotFoundError
from jointwatch.store.engine import inserted_id
from jointwatch.store.schema import api_keys, members

ROLES = ("admin", "analyst", "screener", "peer")
KEY_PREFIX = "jw"
# The member the command line acts as unless told otherwise (``--member`` / JOINTWATCH_MEMBER):
# one analyst on a laptop needs no member set-up, and what the CLI records (decisions,
# customers, freezes) belongs to a member like everything the service records.
LOCAL_MEMBER = "local"


@dataclass(frozen=True)
class Member:
    id: int
    name: str
    country: str | None
    created_at: datetime


@dataclass(frozen=True)
class ApiKey:
    """A key as the store knows it: whose it is and what it may do, never the secret."""

    id: int
    member_id: int
    member_name: str
    user: str
    role: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def key_digest(key: str) -> str:
    """The SHA-256 (hex) of a presented key: what the store compares."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def add_member(engine: Engine, name: str, country: str | None = None) -> Member:
    """A new member; ConflictError if the name is taken, InvalidInputError if it is empty."""
    name = name.strip()
    if not name:
        raise InvalidInputError("a member needs a name")
    if "@" in name:
        # "name@server" is how an entry from a connected server names its originator
        raise InvalidInputError(f"member {name!r}: a member's name has no '@' (name@server is another server's)")
    code = country.strip().lower() if country else None
    if code is not None and (len(code) != 2 or not code.isalpha()):
        raise InvalidInputError(f"country {country!r} is not an ISO 3166-1 alpha-2 code")
    row: dict[str, Any] = {"name": name, "country": code, "created_at": datetime.now(UTC)}
    try:
        with engine.begin() as connection:
            new_id = inserted_id(connection.execute(insert(members).values(**row)))
    except IntegrityError:
        raise ConflictError(f"member {name!r} already exists") from None
    return Member(id=int(new_id), **row)


def acting_member(engine: Engine, name_or_id: str | int = LOCAL_MEMBER) -> Member:
    """The member a command acts as: an existing member by name or number, or the store's
    own ``local`` member, made on first use; NotFoundError for any other unknown member (a
    typo must not file work under a new member)."""
    try:
        return get_member(engine, name_or_id)
    except NotFoundError:
        if str(name_or_id) != LOCAL_MEMBER:
            raise
    try:
        return add_member(engine, LOCAL_MEMBER)
    except JointwatchError:  # made meanwhile by another command ("already exists")
        return get_member(engine, LOCAL_MEMBER)


def member_or_local(engine: Engine, member_id: int | None) -> int:
    """``member_id``, or for None the id of the store's own ``local`` member (made on first
    use): library calls that name no member act as the CLI does by default, so nothing is
    recorded as no one's."""
    return acting_member(engine).id if member_id is None else member_id


def list_members(engine: Engine) -> list[Member]:
    with engine.connect() as connection:
        return [Member(**row._mapping) for row in connection.execute(select(members).order_by(members.c.id))]


def get_member(engine: Engine, name_or_id: str | int) -> Member:
    """A member by name or number; NotFoundError otherwise."""
    query = select(members).where(members.c.name == str(name_or_id))
    if str(name_or_id).isdigit():
        query = select(members).where(or_(members.c.name == str(name_or_id), members.c.id == int(name_or_id)))
    with engine.connect() as connection:
        row = connection.execute(query).first()
    if row is None:
        raise NotFoundError(f"no member {name_or_id!r}")
    return Member(**row._mapping)


def _key_query():  # type: ignore[no-untyped-def]
    return (select(api_keys.c.id, api_keys.c.member_id, members.c.name.label("member_name"), api_keys.c.user,
                   api_keys.c.role, api_keys.c.prefix, api_keys.c.created_at, api_keys.c.revoked_at,
                   api_keys.c.key_hash)
            .join(members, members.c.id == api_keys.c.member_id))


def _api_key(row) -> ApiKey:  # type: ignore[no-untyped-def]
    data = dict(row._mapping)
    data.pop("key_hash", None)
    return ApiKey(**data)


def create_key(engine: Engine, member: str | int, user: str, role: str) -> tuple[ApiKey, str]:
    """A new key for ``user`` of ``member`` with ``role``: the record and the secret (shown once)."""
    if role not in ROLES:
        raise InvalidInputError(f"role {role!r} is not one of {', '.join(ROLES)}")
    user = user.strip()
    if not user:
        raise InvalidInputError("a key needs a user")
    owner = get_member(engine, member)
    prefix = secrets.token_hex(6)
    secret = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    row: dict[str, Any] = {"member_id": owner.id, "user": user, "role": role, "prefix": prefix,
                           "key_hash": key_digest(secret), "created_at": datetime.now(UTC), "revoked_at": None}
    with engine.begin() as connection:
        new_id = inserted_id(connection.execute(insert(api_keys).values(**row)))
    row.pop("key_hash")
    return ApiKey(id=int(new_id), member_name=owner.name, **row), secret


def list_keys(engine: Engine, member: str | int | None = None) -> list[ApiKey]:
    query = _key_query().order_by(api_keys.c.id)
    if member is not None:
        query = query.where(api_keys.c.member_id == get_member(engine, member).id)
    with engine.connect() as connection:
        return [_api_key(row) for row in connection.execute(query)]


def revoke_key(engine: Engine, prefix: str) -> ApiKey:
    """Revoke the key with this prefix (or the whole key); revoking twice keeps the first time."""
    prefix = _prefix_of(prefix) or prefix
    with engine.begin() as connection:
        connection.execute(update(api_keys).where(api_keys.c.prefix == prefix, api_keys.c.revoked_at.is_(None))
                           .values(revoked_at=datetime.now(UTC)))
        row = connection.execute(_key_query().where(api_keys.c.prefix == prefix)).first()
    if row is None:
        raise NotFoundError(f"no key with prefix {prefix!r}")
    return _api_key(row)


def _prefix_of(key: str) -> str | None:
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1]:
        return None
    return parts[1]


def find_key(engine: Engine, presented: str) -> ApiKey | None:
    """The key record whose secret is ``presented`` (revoked or not), or None.

    A revoked key is still returned so that the refusal can be audited under its member.
    """
    prefix = _prefix_of(presented)
    if prefix is None:
        return None
    with engine.connect() as connection:
        row = connection.execute(_key_query().where(api_keys.c.prefix == prefix)).first()
    # compare digests in constant time: the prefix is public, the rest is the secret
    if row is None or not hmac.compare_digest(row.key_hash, key_digest(presented)):
        return None
    return _api_key(row)


def key_revoked_at(connection: Connection, key_id: int) -> datetime | None:
    """When the key ``key_id`` was revoked (None: it is not). One read by primary key: cheap enough
    to ask on every request, so a key a service holds in memory is refused as soon as it is revoked,
    by whichever process revoked it."""
    return connection.execute(select(api_keys.c.revoked_at).where(api_keys.c.id == key_id)).scalar()


class RevocationCheck:
    """Whether a key is revoked, asked of the store on a connection of its own, held open.

    A service keeps the keys it has seen in memory (the secret's digest compared once), and asks
    this on every request: one read by primary key, a few microseconds on SQLite, one round trip
    on PostgreSQL, and no pool or query compiler on the way. A key revoked by any process (the
    CLI, another worker) is refused at its very next request. Safe across threads (one lock) and
    across a fork (a forked process opens its own connection)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        placeholder = {"qmark": "?", "format": "%s", "pyformat": "%s", "numeric": ":1"}.get(
            engine.dialect.paramstyle, ":key_id")
        self._sql = f"SELECT revoked_at FROM api_keys WHERE id = {placeholder}"
        self.local = engine.dialect.name == "sqlite"  # a file on this machine, not a server's round trip
        self._lock = threading.Lock()
        self._connection: Any = None
        self._pid = -1

    def _dbapi(self) -> Any:
        if self._connection is None or self._pid != os.getpid():
            fairy = self.engine.raw_connection()
            fairy.detach()  # ours alone: never handed back to the pool with our settings
            connection: Any = fairy.dbapi_connection
            if self.engine.dialect.name != "sqlite":
                connection.autocommit = True  # every read sees the newest commit; no transaction held
            self._connection, self._pid = connection, os.getpid()
        return self._connection

    def revoked(self, key_id: int) -> bool:
        """True when the key is revoked or no longer in the store."""
        with self._lock:
            for attempt in (1, 2):
                try:
                    cursor = self._dbapi().cursor()
                    try:
                        cursor.execute(self._sql, (key_id,) if "key_id" not in self._sql else {"key_id": key_id})
                        row = cursor.fetchone()
                    finally:
                        cursor.close()
                    return row is None or row[0] is not None
                except self.engine.dialect.loaded_dbapi.Error:
                    self._connection = None  # a broken connection: open a new one, once
                    if attempt == 2:
                        raise
            raise AssertionError("unreachable")
