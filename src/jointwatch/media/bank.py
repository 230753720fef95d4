"""The bank in the store: contribute, dispute, withdraw, reinstate, list, and the history.

Each item belongs to the member that contributed it; only that member relabels, withdraws
or reinstates it. Any member may dispute any item (a false-positive appeal): a disputed
item stops matching at once and stays, with its history, until its contributor withdraws
it for good or reinstates it. Nothing is ever deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, insert, select, update

from jointwatch.errors import NotFoundError, QueryError, StoreError
from jointwatch.media.hashing import MediaHashes
from jointwatch.media.labels import STATUSES, Labels
from jointwatch.store.members import get_member
from jointwatch.store.schema import media_events, media_items, members


@dataclass(frozen=True)
class BankItem:
    id: int
    member_id: int
    contributor: str
    md5: str | None
    sha256: str | None
    pdq: str | None
    pdq_quality: int | None
    group: str | None
    content_type: str
    tlp: str
    status: str
    origin: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class BankEvent:
    item_id: int
    member: str
    user: str
    action: str
    status: str
    reason: str
    at: datetime


@dataclass(frozen=True)
class Contribution:
    """What was banked: the item, and whether it is new (False: the member's own row was updated)."""

    item: BankItem
    created: bool


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)  # SQLite keeps no offset; we write UTC


def _item_query():  # type: ignore[no-untyped-def]
    columns = [c for c in media_items.c if c.name not in ("signature", "dedupe_key")]
    return select(*columns, members.c.name.label("contributor")).join(members, members.c.id == media_items.c.member_id)


def _item(row) -> BankItem:  # type: ignore[no-untyped-def]
    data = dict(row._mapping)
    data["group"] = data.pop("group_name")
    data["created_at"], data["updated_at"] = _utc(data["created_at"]), _utc(data["updated_at"])
    return BankItem(**data)


def dedupe_key(hashes: MediaHashes | None = None, md5: str | None = None, sha256: str | None = None,
               pdq: str | None = None) -> str:
    """The member-local identity of an item: its SHA-256, else MD5, else PDQ hash."""
    if hashes is not None:
        md5, sha256, pdq = hashes.md5, hashes.sha256, hashes.pdq
    if sha256:
        return f"sha256:{sha256}"
    if md5:
        return f"md5:{md5}"
    if pdq:
        return f"pdq:{pdq}"
    raise QueryError("an item needs at least one hash (sha256, md5 or pdq)")


def contribute_in(connection: Connection, member_id: int, user: str, *, md5: str | None, sha256: str | None,
                  pdq: str | None, pdq_quality: int | None, signature: bytes | None, labels: Labels,
                  origin: str, status: str = "active", reason: str = "") -> tuple[int, bool]:
    """Bank one item for ``member_id`` inside an open transaction: (item id, created).

    The member's own earlier row for the same file is relabelled (its hashes kept, a missing
    signature filled in); any other member's row is never touched.
    """
    now = datetime.now(UTC)
    key = dedupe_key(md5=md5, sha256=sha256, pdq=pdq)
    existing = connection.execute(select(media_items.c.id, media_items.c.signature, media_items.c.status).where(
        media_items.c.member_id == member_id, media_items.c.dedupe_key == key)).first()
    label_values: dict[str, object] = {"group_name": labels.group, "content_type": labels.content_type,
                                       "tlp": labels.tlp}
    if existing is not None:
        values: dict[str, object] = {**label_values, "updated_at": now}
        if existing.signature is None and signature is not None:
            values["signature"] = signature
        connection.execute(update(media_items).where(media_items.c.id == existing.id).values(**values))
        _event(connection, existing.id, member_id, user, "relabel", existing.status, reason)
        return int(existing.id), False
    row = {"member_id": member_id, "dedupe_key": key, "md5": md5, "sha256": sha256, "pdq": pdq,
           "pdq_quality": pdq_quality, "signature": signature, **label_values, "status": status, "origin": origin,
           "created_at": now, "updated_at": now}
    inserted = connection.execute(insert(media_items).values(**row)).inserted_primary_key
    assert inserted is not None
    new_id = int(inserted[0])
    _event(connection, new_id, member_id, user, "contribute", status, reason)
    return new_id, True


def _event(connection: Connection, item_id: int, member_id: int, user: str, action: str, status: str,
           reason: str) -> None:
    connection.execute(insert(media_events).values(item_id=item_id, member_id=member_id, user=user, action=action,
                                                   status=status, reason=reason, at=datetime.now(UTC)))


def contribute(engine: Engine, member: str | int, user: str, hashes: MediaHashes, labels: Labels,
               signature: bytes | None = None, origin: str = "upload") -> Contribution:
    """Bank a hashed file under ``member`` with its labels (and its signature beyond PDQ)."""
    return contribute_hashes(engine, member, user, labels, md5=hashes.md5, sha256=hashes.sha256, pdq=hashes.pdq,
                             pdq_quality=hashes.pdq_quality, signature=signature, origin=origin)


def contribute_hashes(engine: Engine, member: str | int, user: str, labels: Labels, *, md5: str | None = None,
                      sha256: str | None = None, pdq: str | None = None, pdq_quality: int | None = None,
                      signature: bytes | None = None, origin: str = "api") -> Contribution:
    """Bank bare hashes (a partner hashed the file itself) under ``member``; at least one hash."""
    owner = get_member(engine, member)
    with engine.begin() as connection:
        item_id, created = contribute_in(connection, owner.id, user, md5=md5, sha256=sha256, pdq=pdq,
                                         pdq_quality=pdq_quality, signature=signature, labels=labels, origin=origin)
    return Contribution(get_item(engine, item_id), created)


_MAX_ID = 2**31 - 1  # an SQL INTEGER


def _check_id(item_id: int) -> None:
    if not 1 <= item_id <= _MAX_ID:
        raise NotFoundError(f"no media item #{item_id}")


def get_item(engine: Engine, item_id: int) -> BankItem:
    _check_id(item_id)
    with engine.connect() as connection:
        row = connection.execute(_item_query().where(media_items.c.id == item_id)).first()
    if row is None:
        raise NotFoundError(f"no media item #{item_id}")
    return _item(row)


def list_items(engine: Engine, member: str | int | None = None, status: str | None = None,
               limit: int | None = None) -> list[BankItem]:
    """Items oldest first, of one member or all, in one status or all."""
    query = _item_query().order_by(media_items.c.id)
    if member is not None:
        query = query.where(media_items.c.member_id == get_member(engine, member).id)
    if status is not None:
        if status not in STATUSES:
            raise QueryError(f"status {status!r} is not one of {', '.join(STATUSES)}")
        query = query.where(media_items.c.status == status)
    if limit is not None:
        query = query.limit(limit)
    with engine.connect() as connection:
        return [_item(row) for row in connection.execute(query)]


def history(engine: Engine, item_id: int) -> list[BankEvent]:
    """Everything that happened to an item, oldest first."""
    get_item(engine, item_id)
    query = (select(media_events.c.item_id, members.c.name.label("member"), media_events.c.user,
                    media_events.c.action, media_events.c.status, media_events.c.reason, media_events.c.at)
             .join(members, members.c.id == media_events.c.member_id)
             .where(media_events.c.item_id == item_id).order_by(media_events.c.id))
    with engine.connect() as connection:
        return [BankEvent(**{**row._mapping, "at": _utc(row.at)}) for row in connection.execute(query)]


# (action, statuses it applies to, status it leaves, only the contributor may do it)
_TRANSITIONS = {
    "dispute": (("active",), "disputed", False),
    "withdraw": (("active", "disputed"), "withdrawn", True),
    "reinstate": (("disputed",), "active", True),
}


def change_status(engine: Engine, item_id: int, member: str | int, user: str, action: str,
                  reason: str) -> BankItem:
    """Dispute (any member), withdraw or reinstate (the contributor) an item, with a reason, kept in its history."""
    if action not in _TRANSITIONS:
        raise QueryError(f"action {action!r} is not one of {', '.join(_TRANSITIONS)}")
    if not reason.strip():
        raise QueryError(f"to {action} an item, give a reason")
    allowed_from, new_status, owner_only = _TRANSITIONS[action]
    _check_id(item_id)
    actor = get_member(engine, member)
    with engine.begin() as connection:
        row = connection.execute(select(media_items.c.member_id, media_items.c.status)
                                 .where(media_items.c.id == item_id).with_for_update()).first()
        if row is None:
            raise NotFoundError(f"no media item #{item_id}")
        if owner_only and row.member_id != actor.id:
            raise StoreError(f"only the member that contributed item #{item_id} may {action} it")
        if row.status not in allowed_from:
            raise StoreError(f"item #{item_id} is {row.status}: it cannot be {new_status} by {action}")
        connection.execute(update(media_items).where(media_items.c.id == item_id)
                           .values(status=new_status, updated_at=datetime.now(UTC)))
        _event(connection, item_id, actor.id, user, action, new_status, reason.strip())
    return get_item(engine, item_id)


@dataclass(frozen=True)
class MatchableRow:
    """What the matcher needs of an item: its hashes, signature and labels."""

    item: BankItem
    signature: bytes | None


def matchable_rows(engine: Engine, statuses: tuple[str, ...] = ("active",)) -> list[MatchableRow]:
    """Every item in these statuses (by default: active only) with its signature."""
    query = (select(*media_items.c, members.c.name.label("contributor"))
             .join(members, members.c.id == media_items.c.member_id)
             .where(media_items.c.status.in_(statuses)).order_by(media_items.c.id))
    out = []
    with engine.connect() as connection:
        for row in connection.execute(query):
            data = dict(row._mapping)
            signature = data.pop("signature")
            data.pop("dedupe_key")
            data["group"] = data.pop("group_name")
            data["created_at"], data["updated_at"] = _utc(data["created_at"]), _utc(data["updated_at"])
            out.append(MatchableRow(BankItem(**data), signature))
    return out


def bank_generation(engine: Engine) -> tuple[int, datetime | None]:
    """A cheap fingerprint of the bank's state: a cached matcher is rebuilt when it changes."""
    from sqlalchemy import func

    with engine.connect() as connection:
        count, latest = connection.execute(select(func.count(), func.max(media_items.c.updated_at))).one()
    return int(count), latest
