"""The bank: contribute, dispute, withdraw, reinstate, ask, list, and the history.

Each item belongs to the member that contributed it; only that member relabels, withdraws
or reinstates it. Who may see which item (TLP), and what a dispute does, is the store's one
rule (``jointwatch.store.media_bank``): every read here takes the ``viewer`` it answers for.
Nothing is ever deleted.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from jointwatch.media.hashing import MediaHashes
from jointwatch.media.labels import Labels
from jointwatch.store import media_bank as store
from jointwatch.store.media_bank import (
    DISPUTES_PER_DAY,
    SHARED_TLP,
    BankEvent,
    BankItem,
    MatchableRow,
    SeenMatches,
    Viewer,
    ask,
    bank_generation,
    change_status,
    exportable_rows,
    get_item,
    history,
    list_items,
    matchable_rows,
    seen_matches,
)
from jointwatch.store.members import get_member

__all__ = ["DISPUTES_PER_DAY", "SHARED_TLP", "BankEvent", "BankItem", "Contribution", "MatchableRow", "SeenMatches",
           "Viewer", "ask", "bank_generation", "change_status", "contribute", "contribute_hashes", "contribute_in",
           "exportable_rows", "get_item", "history", "list_items", "matchable_rows", "seen_matches"]


@dataclass(frozen=True)
class Contribution:
    """What was banked: the item, and whether it is new (False: the member's own row was updated)."""

    item: BankItem
    created: bool


def contribute_in(connection: Connection, member_id: int, user: str, *, md5: str | None, sha256: str | None,
                  pdq: str | None, pdq_quality: int | None, signature: bytes | None, labels: Labels,
                  origin: str, status: str = "active", reason: str = "") -> tuple[int, bool]:
    """Bank one item for ``member_id`` inside an open transaction: (item id, created)."""
    return store.contribute_in(connection, member_id, user, md5=md5, sha256=sha256, pdq=pdq, pdq_quality=pdq_quality,
                               signature=signature, group=labels.group, content_type=labels.content_type,
                               tlp=labels.tlp, origin=origin, status=status, reason=reason)


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
    return Contribution(get_item(engine, item_id, owner.id), created)
