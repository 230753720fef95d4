"""The secret keys of the audit digest: made on first use, rotated by the operator, never deleted.

An audit row holds an HMAC of its subject under the newest key, not a plain hash: whoever
can read the rows (``GET /audit``, ``jointwatch audit show``, an export) cannot confirm a
guessed name by hashing it. The keys live in the store, in a table no route reads; an
auditor with the store checks a suspected subject against rows of any age, because old keys
are kept (``audit.rows_about`` computes the digest under every key).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, insert, select

from jointwatch.store.engine import inserted_id
from jointwatch.store.schema import audit_keys

KEY_BYTES = 32


@dataclass(frozen=True)
class AuditKey:
    id: int
    secret: bytes
    created_at: datetime


def _key(row: object) -> AuditKey:
    mapping = row._mapping  # type: ignore[attr-defined]
    return AuditKey(int(mapping["id"]), bytes.fromhex(mapping["secret"]), mapping["created_at"])


def _new_key(connection: Connection) -> AuditKey:
    now = datetime.now(UTC)
    secret = secrets.token_bytes(KEY_BYTES)
    new_id = inserted_id(connection.execute(insert(audit_keys).values(secret=secret.hex(), created_at=now)))
    return AuditKey(new_id, secret, now)


# built once: the service's audit writer asks it in every batch (a rotation counts from the next one)
_NEWEST = select(audit_keys).order_by(audit_keys.c.id.desc()).limit(1)


def current_key(connection: Connection) -> AuditKey:
    """The newest key, made now if the store has none yet (in ``connection``'s transaction)."""
    row = connection.execute(_NEWEST).first()
    return _key(row) if row is not None else _new_key(connection)


def rotate_key(engine: Engine) -> AuditKey:
    """Make a new current key; rows written from now on are digested under it, the old keys stay."""
    with engine.begin() as connection:
        return _new_key(connection)


def all_keys(engine: Engine) -> list[AuditKey]:
    """Every key the store has had, oldest first."""
    with engine.connect() as connection:
        return [_key(row) for row in connection.execute(select(audit_keys).order_by(audit_keys.c.id))]
