"""The media bank's rows: items, their history, disputes, and which member may see which item.

Who sees what is decided in one place, ``visible_to``, and every read (one item, a list, a
history, an export, the items a match found) goes through it, so the CLI and the API show a
member the same rows. The rule is TLP 2.0 read with the bank as the recipient of what its
members contribute:

* ``clear``, ``green``, ``amber``: every member of the bank (AMBER allows the recipient to
  share with its members on a need-to-know basis; the bank's members are exactly those);
* ``amber+strict``, ``red``: the contributing member only (AMBER+STRICT keeps it inside the
  recipient, RED with the named recipients): another member's match on such an item learns
  only that it matched something, and a random ``ref`` to ask about it.

An item another member may not see answers as an item that does not exist, so the bank's
sequential numbers confirm nothing.

Disputes: a member disputes only items it can see. Its dispute of another member's item stops
the item matching for itself alone (a per-member row in ``media_disputes``), at most
``disputes_per_day`` a day; the item stops matching for everyone only when its contributor
agrees, by disputing (or withdrawing) its own item.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import Field
from sqlalchemy import Connection, Engine, and_, case, exists, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from jointwatch.errors import ConflictError, InvalidInputError, LimitReachedError, NotFoundError
from jointwatch.store.members import get_member
from jointwatch.store.schema import media_disputes, media_events, media_items, members

STATUSES = ("active", "disputed", "withdrawn")
# the TLP levels every member of the bank may see; above them only the contributor
SHARED_TLP = ("clear", "green", "amber")
# one member's disputes of other members' items in any 24 hours (ServiceSettings and the CLI pass theirs)
DISPUTES_PER_DAY = 20
QUESTIONS_PER_DAY = 50  # questions a member may put to contributors about hidden matches in 24 hours
_MAX_ID = 2**31 - 1  # an SQL INTEGER

# A member's id, or None: the view every member shares (what the CLI shows without --viewer).
Viewer = int | None


# One type per record for every front end: the CLI writes it field by field (jsonout), and the
# API answers with it as it is (FastAPI reads the Field notes, and its docstring is the schema's
# description), so each field is declared here once and has one name everywhere. The API leaves
# out member_id: a caller knows the contributor by its name.
@dataclass(frozen=True)
class BankItem:
    """A banked item as your member sees it (its status shows your own dispute as ``disputed``)."""

    id: int
    member_id: Annotated[int, Field(exclude=True)]
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
    ref: Annotated[str, Field(description="A random reference to the item (no sequence in it), as hidden "
                                          "matches give it")] = ""
    kind: Annotated[str, Field(description="image, video, audio (told from the file's bytes), or other (exact "
                                           "hashes only)")] = "other"


# Like BankItem, the one type of the CLI and the API; the API leaves out item_id (its route names the item).
@dataclass(frozen=True)
class BankEvent:
    """One thing that happened to an item: contributed, relabelled, disputed, withdrawn, reinstated, asked about."""

    item_id: Annotated[int, Field(exclude=True)]
    member: str
    # None: another member's user, whose name is not the viewer's to see
    user: Annotated[str | None, Field(description="Who acted; only for your own member's events")]
    action: str
    status: str
    reason: str
    at: datetime


@dataclass(frozen=True)
class MatchableRow:
    """What the matcher needs of an item: its hashes, signature and labels."""

    item: BankItem
    signature: bytes | None


@dataclass(frozen=True)
class NewBankItem:
    """One item to bank, as its contributor gives it: hashes (at least one), signature, labels, where it came from."""

    md5: str | None
    sha256: str | None
    pdq: str | None
    pdq_quality: int | None
    signature: bytes | None
    group: str | None
    content_type: str
    tlp: str
    origin: str
    status: str = "active"
    reason: str = ""  # kept in the item's history
    kind: str = "other"  # image, video, audio or other (MEDIA_KINDS)


@dataclass(frozen=True)
class SeenMatches:
    """The items a match found, as a viewer may know them: visible items, and refs of the others."""

    visible: dict[int, BankItem]
    hidden: dict[int, str]


def visible_to(viewer: Viewer) -> ColumnElement[bool]:
    """The SQL condition of the items ``viewer`` may see: shared TLP levels, and its own items."""
    shared = media_items.c.tlp.in_(SHARED_TLP)
    return shared if viewer is None else or_(shared, media_items.c.member_id == viewer)


def _status_seen_by(viewer: Viewer) -> ColumnElement[Any]:
    """The item's status, with the viewer's own dispute of an active item shown as ``disputed``."""
    if viewer is None:
        return media_items.c.status
    disputed = exists().where(media_disputes.c.item_id == media_items.c.id, media_disputes.c.member_id == viewer)
    return case((and_(media_items.c.status == "active", disputed), "disputed"), else_=media_items.c.status)


def _utc(value: datetime) -> datetime:
    # columns come back aware in UTC (schema.UtcDateTime); this is for aggregates (min of a
    # column), whose results a backend may hand back without the column's type
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _item_query(viewer: Viewer, with_signature: bool = False):  # type: ignore[no-untyped-def]
    hidden = {"signature", "dedupe_key", "status"} - ({"signature"} if with_signature else set())
    columns = [c for c in media_items.c if c.name not in hidden]
    return (select(*columns, _status_seen_by(viewer).label("status"), members.c.name.label("contributor"))
            .join(members, members.c.id == media_items.c.member_id).where(visible_to(viewer)))


def _item(row) -> BankItem:  # type: ignore[no-untyped-def]
    data = dict(row._mapping)
    data.pop("signature", None)
    data["group"] = data.pop("group_name")
    return BankItem(**data)


def dedupe_key(md5: str | None = None, sha256: str | None = None, pdq: str | None = None,
               signature: bytes | None = None) -> str:
    """The member-local identity of an item: its SHA-256, else MD5, else PDQ hash, else (a video known by its vPDQ
    alone, as a partner's exchange sends it) the SHA-256 of its signature."""
    if sha256:
        return f"sha256:{sha256}"
    if md5:
        return f"md5:{md5}"
    if pdq:
        return f"pdq:{pdq}"
    if signature:
        return f"signature:{hashlib.sha256(signature).hexdigest()}"
    raise InvalidInputError("an item needs at least one hash (sha256, md5 or pdq) or a video's vPDQ")


def add_bank_items(engine: Engine, member_id: int, user: str, items: Iterable[NewBankItem]) -> list[tuple[int, bool]]:
    """Bank every item for ``member_id`` in one transaction, all or nothing: (item id, created) of each.

    The member's own earlier row for the same file is relabelled (its hashes kept, a missing
    signature filled in, or one the new signature extends: the same bytes with more after them, as a
    sound banked before its landmarks were kept); any other member's row is never touched.
    """
    with engine.begin() as connection:
        return [_add_item(connection, member_id, user, item) for item in items]


def _add_item(connection: Connection, member_id: int, user: str, item: NewBankItem) -> tuple[int, bool]:
    now = datetime.now(UTC)
    key = dedupe_key(md5=item.md5, sha256=item.sha256, pdq=item.pdq, signature=item.signature)
    existing = connection.execute(select(media_items.c.id, media_items.c.signature, media_items.c.status).where(
        media_items.c.member_id == member_id, media_items.c.dedupe_key == key)).first()
    label_values: dict[str, object] = {"group_name": item.group, "content_type": item.content_type,
                                       "tlp": item.tlp}
    if existing is not None:
        values: dict[str, object] = {**label_values, "updated_at": now}
        old = None if existing.signature is None else bytes(existing.signature)
        if item.signature is not None and (old is None or (len(item.signature) > len(old)
                                                           and item.signature.startswith(old))):
            values["signature"] = item.signature
        connection.execute(update(media_items).where(media_items.c.id == existing.id).values(**values))
        _event(connection, existing.id, member_id, user, "relabel", existing.status, item.reason)
        return int(existing.id), False
    row = {"member_id": member_id, "dedupe_key": key, "md5": item.md5, "sha256": item.sha256, "pdq": item.pdq,
           "pdq_quality": item.pdq_quality, "signature": item.signature, **label_values, "status": item.status,
           "kind": item.kind,
           "origin": item.origin, "created_at": now, "updated_at": now, "ref": secrets.token_hex(16)}
    inserted = connection.execute(insert(media_items).values(**row)).inserted_primary_key
    assert inserted is not None
    new_id = int(inserted[0])
    _event(connection, new_id, member_id, user, "contribute", item.status, item.reason)
    return new_id, True


def _event(connection: Connection, item_id: int, member_id: int, user: str, action: str, status: str,
           reason: str) -> None:
    connection.execute(insert(media_events).values(item_id=item_id, member_id=member_id, user=user, action=action,
                                                   status=status, reason=reason, at=datetime.now(UTC)))


def _check_id(item_id: int) -> None:
    if not 1 <= item_id <= _MAX_ID:
        raise NotFoundError(f"no media item #{item_id}")


def get_bank_item(engine: Engine, item_id: int, viewer: Viewer) -> BankItem:
    """The item as ``viewer`` sees it; NotFoundError if there is none or it may not see it (the same answer)."""
    _check_id(item_id)
    with engine.connect() as connection:
        row = connection.execute(_item_query(viewer).where(media_items.c.id == item_id)).first()
    if row is None:
        raise NotFoundError(f"no media item #{item_id}")
    return _item(row)


def list_bank_items(engine: Engine, viewer: Viewer, member: str | int | None = None, status: str | None = None,
               limit: int | None = None, ref: str | None = None) -> list[BankItem]:
    """The items ``viewer`` may see, oldest first: of one contributor or all, in one status or all."""
    query = _item_query(viewer).order_by(media_items.c.id)
    if member is not None:
        query = query.where(media_items.c.member_id == get_member(engine, member).id)
    if status is not None:
        if status not in STATUSES:
            raise InvalidInputError(f"status {status!r} is not one of {', '.join(STATUSES)}")
        query = query.where(_status_seen_by(viewer) == status)
    if ref is not None:
        query = query.where(media_items.c.ref == ref.strip().lower())
    if limit is not None:
        query = query.limit(limit)
    with engine.connect() as connection:
        return [_item(row) for row in connection.execute(query)]


def bank_item_history(engine: Engine, item_id: int, viewer: Viewer) -> list[BankEvent]:
    """Everything that happened to an item ``viewer`` may see, oldest first; other members' users left out.

    A third member's questions and disputes are shown to the contributor only: who asks about
    or contests an item tells other members what that member is looking at."""
    contributor = get_bank_item(engine, item_id, viewer).member_id
    query = (select(media_events.c.item_id, media_events.c.member_id, members.c.name.label("member"),
                    media_events.c.user, media_events.c.action, media_events.c.status, media_events.c.reason,
                    media_events.c.at)
             .join(members, members.c.id == media_events.c.member_id)
             .where(media_events.c.item_id == item_id).order_by(media_events.c.id))
    with engine.connect() as connection:
        rows = [dict(row._mapping) for row in connection.execute(query)]
    out = []
    for row in rows:
        author = row.pop("member_id")
        if author not in (contributor, viewer) and viewer != contributor:
            continue
        own = viewer is not None and author == viewer
        out.append(BankEvent(**{**row, "user": row["user"] if own else None, "at": row["at"]}))
    return out


# (action, statuses it applies to, status it leaves, only the contributor may do it)
_TRANSITIONS = {
    "dispute": (("active",), "disputed", False),
    "withdraw": (("active", "disputed"), "withdrawn", True),
    "reinstate": (("disputed",), "active", True),
}


def change_bank_item_status(engine: Engine, item_id: int, member: str | int, user: str, action: str, reason: str,
                  disputes_per_day: int = DISPUTES_PER_DAY) -> BankItem:
    """Dispute, withdraw or reinstate an item ``member`` may see, with a reason kept in its history.

    The contributor's dispute stops the item matching for everyone; another member's, for
    that member only (at most ``disputes_per_day`` in any 24 hours). Only the contributor
    withdraws or reinstates.
    """
    if action not in _TRANSITIONS:
        raise InvalidInputError(f"action {action!r} is not one of {', '.join(_TRANSITIONS)}")
    if not reason.strip():
        raise InvalidInputError(f"to {action} an item, give a reason")
    allowed_from, new_status, owner_only = _TRANSITIONS[action]
    _check_id(item_id)
    actor = get_member(engine, member)
    with engine.begin() as connection:
        row = connection.execute(select(media_items.c.member_id, media_items.c.status)
                                 .where(media_items.c.id == item_id, visible_to(actor.id)).with_for_update()).first()
        if row is None:
            raise NotFoundError(f"no media item #{item_id}")
        if owner_only and row.member_id != actor.id:
            raise ConflictError(f"only the member that contributed item #{item_id} may {action} it")
        if row.status not in allowed_from:
            raise ConflictError(f"item #{item_id} is {row.status}: it cannot be {new_status} by {action}")
        if row.member_id == actor.id:
            connection.execute(update(media_items).where(media_items.c.id == item_id)
                               .values(status=new_status, updated_at=datetime.now(UTC)))
            _event(connection, item_id, actor.id, user, action, new_status, reason.strip())
        else:
            _dispute_for_member(connection, item_id, actor.id, disputes_per_day)
            _event(connection, item_id, actor.id, user, action, row.status, reason.strip())
    return get_bank_item(engine, item_id, actor.id)


def _dispute_for_member(connection: Connection, item_id: int, member_id: int, per_day: int) -> None:
    """Record one member's dispute of another's item, within its daily limit."""
    # the member's row, locked: two disputes at once by one member are counted one after the other
    connection.execute(select(members.c.id).where(members.c.id == member_id).with_for_update())
    since = datetime.now(UTC) - timedelta(days=1)
    recent = connection.execute(select(func.min(media_disputes.c.at), func.count()).where(
        media_disputes.c.member_id == member_id, media_disputes.c.at > since)).one()
    if recent[1] >= per_day:
        oldest = _utc(recent[0])
        wait = max(1, int((oldest + timedelta(days=1) - datetime.now(UTC)).total_seconds()) + 1)
        raise LimitReachedError(f"your member has disputed {recent[1]} items in the last 24 hours, the limit of "
                                f"{per_day}; ask the items' contributors, or try again later", retry_after=wait)
    try:
        with connection.begin_nested():
            connection.execute(insert(media_disputes).values(item_id=item_id, member_id=member_id,
                                                             at=datetime.now(UTC)))
    except IntegrityError:
        raise ConflictError(f"your member has already disputed item #{item_id}") from None


def ask_bank_contributor(engine: Engine, ref: str, member: str | int, user: str, question: str,
        questions_per_day: int = QUESTIONS_PER_DAY) -> None:
    """Leave ``member``'s question in the history of the item with ``ref`` (one it may not see), for its contributor."""
    if not question.strip():
        raise InvalidInputError("to ask about an item, say what")
    asker = get_member(engine, member)
    with engine.begin() as connection:
        row = connection.execute(select(media_items.c.id, media_items.c.status)
                                 .where(media_items.c.ref == ref.strip().lower())).first()
        if row is None:
            raise NotFoundError(f"no media item with ref {ref!r}")
        # a member must not be able to bury a contributor's histories under questions
        connection.execute(select(members.c.id).where(members.c.id == asker.id).with_for_update())
        since = datetime.now(UTC) - timedelta(days=1)
        recent = connection.execute(select(func.min(media_events.c.at), func.count()).where(
            media_events.c.member_id == asker.id, media_events.c.action == "ask", media_events.c.at > since)).one()
        if recent[1] >= questions_per_day:
            wait = max(1, int((_utc(recent[0]) + timedelta(days=1) - datetime.now(UTC)).total_seconds()) + 1)
            raise LimitReachedError(f"your member has asked {recent[1]} questions in the last 24 hours, the limit of "
                                    f"{questions_per_day}; try again later", retry_after=wait)
        _event(connection, row.id, asker.id, user, "ask", row.status, question.strip())


def seen_bank_matches(engine: Engine, viewer: Viewer, item_ids: list[int]) -> SeenMatches:
    """Of the items a match found, those ``viewer`` may see (as it sees them) and the refs of the rest.

    Items the viewer disputed, or no longer active, are in neither.
    """
    if not item_ids:
        return SeenMatches({}, {})
    with engine.connect() as connection:
        visible = {row.id: _item(row) for row in connection.execute(
            _item_query(viewer).where(media_items.c.id.in_(item_ids), _status_seen_by(viewer) == "active"))}
        hidden = {row.id: row.ref for row in connection.execute(
            select(media_items.c.id, media_items.c.ref).where(
                media_items.c.id.in_(item_ids), media_items.c.status == "active", ~visible_to(viewer)))}
    return SeenMatches(visible, hidden)


def matchable_count(engine: Engine, viewer: Viewer) -> int:
    """How many items a match could report to ``viewer`` (as a match or a ref): the active items, less those it
    disputed."""
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(media_items)
                                      .where(_status_seen_by(viewer) == "active")).scalar_one())


def matchable_bank_rows(engine: Engine, statuses: tuple[str, ...] = ("active",)) -> list[MatchableRow]:
    """Every member's items in these statuses, with signatures: the matcher's index, never shown as such.

    Whatever a match finds in it reaches a caller only through ``seen_bank_matches``.
    """
    query = (select(*[c for c in media_items.c if c.name != "dedupe_key"], members.c.name.label("contributor"))
             .join(members, members.c.id == media_items.c.member_id)
             .where(media_items.c.status.in_(statuses)).order_by(media_items.c.id))
    return _with_signatures(engine, query)


def exportable_bank_rows(engine: Engine, viewer: Viewer, statuses: tuple[str, ...],
                    member: str | int | None = None) -> list[MatchableRow]:
    """The items ``viewer`` may see in these statuses (as it sees them), of one contributor or all."""
    query = (_item_query(viewer, with_signature=True).where(_status_seen_by(viewer).in_(statuses))
             .order_by(media_items.c.id))
    if member is not None:
        query = query.where(media_items.c.member_id == get_member(engine, member).id)
    return _with_signatures(engine, query)


def _with_signatures(engine: Engine, query) -> list[MatchableRow]:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        return [MatchableRow(_item(row), row._mapping["signature"]) for row in connection.execute(query)]


def bank_generation(engine: Engine) -> tuple[int, datetime | None]:
    """A cheap fingerprint of the bank's state: a cached matcher is rebuilt when it changes."""
    with engine.connect() as connection:
        count, latest = connection.execute(select(func.count(), func.max(media_items.c.updated_at))).one()
    return int(count), latest
