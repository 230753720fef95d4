"""Members (partner organisations) and their API keys: created, listed, revoked, checked.

A key is ``jw_<prefix>_<secret>``. The whole key is shown once, when it is created; the
store keeps the prefix (to find the row) and the SHA-256 of the whole key (to check it),
so a copy of the database does not give anyone a working key.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, insert, or_, select, update
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
