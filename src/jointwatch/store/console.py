"""The web console's users and sessions: who may sign in, as which member and role, and who is
signed in now.

The store keeps a password's hash (made and checked by ``jointwatch.web``, which owns the
algorithm) and a session token's SHA-256, never the password or the token. Users are
disabled, never deleted; a disabled user's sessions end with it, and so do a user's sessions
when the password is changed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from jointwatch.errors import ConflictError, InvalidInputError, NotFoundError
from jointwatch.store.members import get_member
from jointwatch.store.schema import console_sessions, console_users, members

# the API's roles a person can hold; "peer" is another server's key, never a person in a browser
CONSOLE_ROLES = ("screener", "analyst", "admin")


@dataclass(frozen=True)
class ConsoleUser:
    """A console user as the store knows it; ``password_hash`` is for the sign-in check only."""

    id: int
    member_id: int
    member_name: str
    user: str
    role: str
    created_at: datetime
    password_set_at: datetime
    disabled_at: datetime | None
    password_hash: str

    @property
    def active(self) -> bool:
        return self.disabled_at is None


@dataclass(frozen=True)
class ConsoleSession:
    """A session found by its token: its user, its form token and when it was last used."""

    token_hash: str
    csrf: str
    created_at: datetime
    last_seen_at: datetime
    user: ConsoleUser


def token_digest(token: str) -> str:
    """The SHA-256 (hex) of a session token: what the store keeps and looks up."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _user_query():  # type: ignore[no-untyped-def]
    return (select(console_users.c.id, console_users.c.member_id, members.c.name.label("member_name"),
                   console_users.c.user, console_users.c.role, console_users.c.created_at,
                   console_users.c.password_set_at, console_users.c.disabled_at, console_users.c.password_hash)
            .join(members, members.c.id == console_users.c.member_id))


def add_console_user(engine: Engine, member: str | int, user: str, role: str, password_hash: str) -> ConsoleUser:
    """A new console user of ``member``; ConflictError if the name is taken (by any member:
    the sign-in form asks for a name only)."""
    if role not in CONSOLE_ROLES:
        raise InvalidInputError(f"role {role!r} is not one of {', '.join(CONSOLE_ROLES)}")
    user = user.strip()
    if not user or len(user) > 128:
        raise InvalidInputError("a console user needs a name of 1 to 128 characters")
    owner = get_member(engine, member)
    now = datetime.now(UTC)
    row: dict[str, Any] = {"member_id": owner.id, "user": user, "role": role, "password_hash": password_hash,
                           "created_at": now, "password_set_at": now, "disabled_at": None}
    try:
        with engine.begin() as connection:
            connection.execute(insert(console_users).values(**row))
    except IntegrityError:
        raise ConflictError(f"console user {user!r} already exists") from None
    return get_console_user(engine, user)


def get_console_user(engine: Engine, user: str) -> ConsoleUser:
    """A console user by name, disabled or not; NotFoundError otherwise."""
    with engine.connect() as connection:
        row = connection.execute(_user_query().where(console_users.c.user == user)).first()
    if row is None:
        raise NotFoundError(f"no console user {user!r}")
    return ConsoleUser(**row._mapping)


def list_console_users(engine: Engine, member: str | int | None = None) -> list[ConsoleUser]:
    query = _user_query().order_by(console_users.c.id)
    if member is not None:
        query = query.where(console_users.c.member_id == get_member(engine, member).id)
    with engine.connect() as connection:
        return [ConsoleUser(**row._mapping) for row in connection.execute(query)]


def _end_sessions(connection: Any, user_id: int, now: datetime) -> None:
    connection.execute(update(console_sessions)
                       .where(console_sessions.c.user_id == user_id, console_sessions.c.ended_at.is_(None))
                       .values(ended_at=now))


def set_console_password(engine: Engine, user: str, password_hash: str) -> ConsoleUser:
    """Replace a user's password hash; the user's open sessions end (a changed password locks
    out whoever knew the old one)."""
    found = get_console_user(engine, user)
    now = datetime.now(UTC)
    with engine.begin() as connection:
        connection.execute(update(console_users).where(console_users.c.id == found.id)
                           .values(password_hash=password_hash, password_set_at=now))
        _end_sessions(connection, found.id, now)
    return get_console_user(engine, user)


def disable_console_user(engine: Engine, user: str) -> ConsoleUser:
    """Disable a user and end their sessions; disabling twice keeps the first time."""
    found = get_console_user(engine, user)
    now = datetime.now(UTC)
    with engine.begin() as connection:
        connection.execute(update(console_users)
                           .where(console_users.c.id == found.id, console_users.c.disabled_at.is_(None))
                           .values(disabled_at=now))
        _end_sessions(connection, found.id, now)
    return get_console_user(engine, user)


def open_console_session(engine: Engine, user_id: int, token: str, csrf: str) -> None:
    """Record a new session of ``user_id`` under the digest of ``token``."""
    now = datetime.now(UTC)
    with engine.begin() as connection:
        connection.execute(insert(console_sessions).values(
            token_hash=token_digest(token), user_id=user_id, csrf=csrf, created_at=now, last_seen_at=now,
            ended_at=None))


def find_console_session(engine: Engine, token: str) -> ConsoleSession | None:
    """The open session of ``token`` with its user, or None (unknown or ended)."""
    query = select(console_sessions).where(console_sessions.c.token_hash == token_digest(token),
                                           console_sessions.c.ended_at.is_(None))
    with engine.connect() as connection:
        row = connection.execute(query).first()
        if row is None:
            return None
        user = connection.execute(_user_query().where(console_users.c.id == row.user_id)).one()
    return ConsoleSession(token_hash=row.token_hash, csrf=row.csrf, created_at=row.created_at,
                          last_seen_at=row.last_seen_at, user=ConsoleUser(**user._mapping))


def touch_console_session(engine: Engine, token_hash: str) -> None:
    """Note that the session was used now (its idle time starts again)."""
    with engine.begin() as connection:
        connection.execute(update(console_sessions).where(console_sessions.c.token_hash == token_hash)
                           .values(last_seen_at=datetime.now(UTC)))


def end_console_session(engine: Engine, token_hash: str) -> None:
    """End one session (logout, or idle too long); ending an ended one changes nothing."""
    with engine.begin() as connection:
        connection.execute(update(console_sessions)
                           .where(console_sessions.c.token_hash == token_hash, console_sessions.c.ended_at.is_(None))
                           .values(ended_at=datetime.now(UTC)))
