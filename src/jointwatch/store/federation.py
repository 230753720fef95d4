"""Federation as stored: this server's signing keys, the links to other servers, and the
bundles each link has accepted.

The store keeps keys and checkpoints; signing, verifying and deciding what may travel is
``jointwatch.sharing`` (over ``jointwatch.releasability``). A link's peer is a member here
(role ``peer``): the key it presents to us is that member's, so every request of a peer is
authenticated, rate limited and audited like any member's.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, and_, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from jointwatch.errors import ConflictError, InvalidInputError, NotFoundError
from jointwatch.store.engine import inserted_id
from jointwatch.store.members import add_member, create_key
from jointwatch.store.schema import (
    federation_bundles,
    federation_links,
    shared_entries,
    sharing_events,
    signing_keys,
)
from jointwatch.store.sharing import StoredEntry, _bump, _entry, _entry_query

LINK_ALLOWS = ("server", "connected")
PEER_MEMBER_PREFIX = "peer:"   # the member that stands for link "agency-b" is "peer:agency-b"


@dataclass(frozen=True)
class SigningKey:
    """One of this server's Ed25519 keys; retired keys are kept (their bundles stay checkable)."""

    id: int
    key_id: str
    private_key: str          # PKCS#8 PEM
    public_key: str           # raw 32 bytes, base64
    created_at: datetime
    retired_at: datetime | None


@dataclass(frozen=True)
class FederationLink:
    """A connected server: where it is, the keys it signs with, what its entries may become here,
    and how far each direction has got (sharing sequence numbers: ours pushed, the peer's pulled)."""

    id: int
    name: str
    url: str | None
    peer_keys: dict[str, str]     # key id -> base64 raw Ed25519 public key
    api_key: str | None           # what we present to the peer
    member_id: int                # the peer as a member here
    allow: str                    # server (MISP downgrade) or connected
    pushed_seq: int
    pulled_seq: int
    status: str
    created_at: datetime


# -- signing keys ----------------------------------------------------------------------------

def _signing_key(row: Any) -> SigningKey:
    return SigningKey(row.id, row.key_id, row.private_key, row.public_key, row.created_at, row.retired_at)


def add_signing_key(engine: Engine, key_id: str, private_key: str, public_key: str) -> SigningKey:
    """A new current key; the one before it is retired in the same transaction (never deleted)."""
    now = datetime.now(UTC)
    try:
        with engine.begin() as connection:
            connection.execute(update(signing_keys).where(signing_keys.c.retired_at.is_(None)).values(retired_at=now))
            new_id = inserted_id(connection.execute(insert(signing_keys).values(
                key_id=key_id, private_key=private_key, public_key=public_key, created_at=now, retired_at=None)))
            row = connection.execute(select(signing_keys).where(signing_keys.c.id == new_id)).one()
    except IntegrityError:
        raise ConflictError(f"signing key {key_id!r} already exists") from None
    return _signing_key(row)


def current_signing_key(engine: Engine) -> SigningKey | None:
    with engine.connect() as connection:
        row = connection.execute(select(signing_keys).where(signing_keys.c.retired_at.is_(None))
                                 .order_by(signing_keys.c.id.desc())).first()
    return None if row is None else _signing_key(row)


def list_signing_keys(engine: Engine) -> list[SigningKey]:
    with engine.connect() as connection:
        return [_signing_key(r) for r in connection.execute(select(signing_keys).order_by(signing_keys.c.id))]


# -- links -----------------------------------------------------------------------------------

def _link(row: Any) -> FederationLink:
    return FederationLink(row.id, row.name, row.url, json.loads(row.peer_keys), row.api_key, row.member_id,
                          row.allow, row.pushed_seq, row.pulled_seq, row.status, row.created_at)


def _check_keys(peer_keys: Mapping[str, str]) -> str:
    if not peer_keys:
        raise InvalidInputError("a link needs at least one peer public key (KEYID=BASE64)")
    for key_id, public in peer_keys.items():
        if not key_id or len(key_id) > 64 or not public:
            raise InvalidInputError(f"peer key {key_id!r}: a key id of 1 to 64 characters and a base64 key")
    return json.dumps(dict(sorted(peer_keys.items())))


def add_link(engine: Engine, name: str, url: str | None, peer_keys: Mapping[str, str], allow: str = "server",
             api_key: str | None = None) -> tuple[FederationLink, str]:
    """A new link and the member that stands for the peer here, with a ``peer`` key: the link and
    that key's secret (shown once: the peer must present it to us)."""
    name = name.strip()
    if not name or len(name) > 100 or any(c.isspace() for c in name) or "@" in name:
        raise InvalidInputError("a link's name is 1 to 100 characters, no spaces and no '@'")
    if allow not in LINK_ALLOWS:
        raise InvalidInputError(f"allow {allow!r} is not one of {', '.join(LINK_ALLOWS)}")
    keys_json = _check_keys(peer_keys)
    if any(link.name == name for link in list_links(engine)):
        raise ConflictError(f"link {name!r} already exists")
    member = add_member(engine, PEER_MEMBER_PREFIX + name)
    _key, secret = create_key(engine, member.id, f"link:{name}", "peer")
    try:
        with engine.begin() as connection:
            link_id = inserted_id(connection.execute(insert(federation_links).values(
                name=name, url=url, peer_keys=keys_json, api_key=api_key, member_id=member.id, allow=allow,
                pushed_seq=0, pulled_seq=0, status="active", created_at=datetime.now(UTC))))
            _bump(connection)  # the peer's member is now a link member: releasability reads it so
            row = connection.execute(select(federation_links).where(federation_links.c.id == link_id)).one()
    except IntegrityError:
        raise ConflictError(f"link {name!r} already exists") from None
    return _link(row), secret


def list_links(engine: Engine) -> list[FederationLink]:
    with engine.connect() as connection:
        return [_link(r) for r in connection.execute(select(federation_links).order_by(federation_links.c.name))]


def get_link(engine: Engine, name_or_id: str | int) -> FederationLink:
    """A link by name or id; NotFoundError otherwise."""
    where = federation_links.c.name == str(name_or_id)
    if isinstance(name_or_id, int):
        where = federation_links.c.id == name_or_id
    with engine.connect() as connection:
        row = connection.execute(select(federation_links).where(where)).first()
    if row is None:
        raise NotFoundError(f"no link {name_or_id!r}")
    return _link(row)


def link_of_member(engine: Engine, member_id: int) -> FederationLink | None:
    """The link whose peer ``member_id`` stands for, if any."""
    with engine.connect() as connection:
        row = connection.execute(select(federation_links).where(federation_links.c.member_id == member_id)).first()
    return None if row is None else _link(row)


def set_peer_keys(engine: Engine, link_id: int, peer_keys: Mapping[str, str]) -> FederationLink:
    """Replace the peer's public keys (the peer rotated: give its new key and the old until it stops using it)."""
    keys_json = _check_keys(peer_keys)
    with engine.begin() as connection:
        connection.execute(update(federation_links).where(federation_links.c.id == link_id)
                           .values(peer_keys=keys_json))
    return get_link(engine, link_id)


def set_checkpoint(engine: Engine, link_id: int, *, pushed_seq: int | None = None,
                   pulled_seq: int | None = None) -> None:
    """Advance a checkpoint (never back: a late answer of an older request must not undo a newer one)."""
    c = federation_links.c
    with engine.begin() as connection:
        if pushed_seq is not None:
            connection.execute(update(federation_links).where(c.id == link_id, c.pushed_seq < pushed_seq)
                               .values(pushed_seq=pushed_seq))
        if pulled_seq is not None:
            connection.execute(update(federation_links).where(c.id == link_id, c.pulled_seq < pulled_seq)
                               .values(pulled_seq=pulled_seq))


# -- accepted bundles ------------------------------------------------------------------------

def claim_bundle(engine: Engine, link_id: int, bundle_id: str, seq: int) -> bool:
    """Note a bundle as accepted; False when it was accepted before (a replay)."""
    try:
        with engine.begin() as connection:
            connection.execute(insert(federation_bundles).values(link_id=link_id, bundle_id=bundle_id, seq=seq,
                                                                 at=datetime.now(UTC)))
    except IntegrityError:
        return False
    return True


def release_bundle(engine: Engine, link_id: int, bundle_id: str) -> None:
    """Forget a claimed bundle whose entries could not be stored, so the same bundle may be sent again."""
    with engine.begin() as connection:
        connection.execute(delete(federation_bundles).where(federation_bundles.c.link_id == link_id,
                                                            federation_bundles.c.bundle_id == bundle_id))


# -- what travels ----------------------------------------------------------------------------

def outbound_entries(engine: Engine, link: FederationLink, after_seq: int, limit: int) -> list[StoredEntry]:
    """Entries changed after ``after_seq`` that may concern ``link``, in order of change, at most ``limit``:
    those with distribution ``connected`` and those sent over it before (narrowed since: the peer must
    be told). Only a prefilter, never through the link they came by: ``releasability`` decides what is sent."""
    c = shared_entries.c
    sent_before = (select(sharing_events.c.entry_id)
                   .where(sharing_events.c.action == "sent", sharing_events.c.counterpart == link.name,
                          sharing_events.c.entry_id.is_not(None)))
    query = (_entry_query().where(c.seq > after_seq, or_(c.distribution == "connected", c.id.in_(sent_before)),
                                  or_(c.link_id.is_(None), c.link_id != link.id))
             .order_by(c.seq).limit(limit))
    with engine.connect() as connection:
        return [_entry(r) for r in connection.execute(query)]


@dataclass(frozen=True)
class KnownEntry:
    """Where an entry stands here, for deciding what a received record does to it."""

    id: int
    version: int
    member_id: int | None
    link_id: int | None


def known_entries(engine: Engine, refs: Iterable[str]) -> dict[str, KnownEntry]:
    wanted = sorted(set(refs))
    c = shared_entries.c
    out: dict[str, KnownEntry] = {}
    with engine.connect() as connection:
        for start in range(0, len(wanted), 500):
            rows = connection.execute(select(c.ref, c.id, c.version, c.member_id, c.link_id)
                                      .where(and_(c.ref.in_(wanted[start:start + 500])))).all()
            out.update({r.ref: KnownEntry(r.id, r.version, r.member_id, r.link_id) for r in rows})
    return out
