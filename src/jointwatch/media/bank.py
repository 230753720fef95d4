"""The bank: contribute, dispute, withdraw, reinstate, ask, list, and the history.

Each item belongs to the member that contributed it; only that member relabels, withdraws
or reinstates it. Who may see which item (TLP), and what a dispute does, is the store's one
rule (``jointwatch.store``'s bank functions): every read here takes the ``viewer`` it answers
for. Nothing is ever deleted. All SQL and every transaction is the store's: this module only
turns media's types (hashes, labels) into the store's.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from jointwatch.media.clips import ClipSignature, is_clip_signature
from jointwatch.media.hashing import MediaHashes
from jointwatch.media.labels import Labels
from jointwatch.store import (
    DISPUTES_PER_DAY,
    SHARED_TLP,
    BankEvent,
    BankItem,
    Engine,
    MatchableRow,
    NewBankItem,
    SeenMatches,
    Viewer,
    add_bank_items,
    get_member,
)

# The media package's names of the store's bank functions (the store's names say "bank" because
# they sit beside every other table's): one function each, two names by where they are read.
from jointwatch.store import ask_bank_contributor as ask
from jointwatch.store import bank_item_history as history
from jointwatch.store import change_bank_item_status as change_status
from jointwatch.store import get_bank_item as get_item
from jointwatch.store import list_bank_items as list_items

__all__ = ["DISPUTES_PER_DAY", "SHARED_TLP", "BankEvent", "BankItem", "Contribution", "MatchableRow", "SeenMatches",
           "Viewer", "ask", "change_status", "contribute", "contribute_hashes", "get_item", "history", "list_items",
           "new_item", "restate"]


# the one type of the CLI and the API (POST /media/items answers with it); its docstring describes the schema
@dataclass(frozen=True)
class Contribution:
    """What was banked: the item, whether it is new (false: your member's own item was relabelled), and a note
    on its hashes (a low PDQ quality, not an image)."""

    item: BankItem
    created: bool
    note: str | None = None


def new_item(labels: Labels, *, md5: str | None, sha256: str | None, pdq: str | None, pdq_quality: int | None,
             signature: bytes | None, origin: str, status: str = "active", reason: str = "",
             kind: str | None = None) -> NewBankItem:
    """The store's record of an item to bank, from media's hashes and labels (kind: an image if it has a PDQ hash,
    a clip if its signature is one, else other)."""
    if kind is None:
        kind = (ClipSignature.from_bytes(signature).kind if signature and is_clip_signature(signature)
                else "image" if pdq else "other")
    return NewBankItem(md5=md5, sha256=sha256, pdq=pdq, pdq_quality=pdq_quality, signature=signature,
                       group=labels.group, content_type=labels.content_type, tlp=labels.tlp, origin=origin,
                       status=status, reason=reason, kind=kind)


def contribute(engine: Engine, member: str | int, user: str, hashes: MediaHashes, labels: Labels,
               signature: bytes | None = None, origin: str = "upload", note: str | None = None) -> Contribution:
    """Bank a hashed file under ``member`` with its labels (and its signature beyond PDQ); ``note``: what the
    hashing said of the file, kept on the contribution after what the bank says of its item."""
    done = contribute_hashes(engine, member, user, labels, md5=hashes.md5, sha256=hashes.sha256, pdq=hashes.pdq,
                             pdq_quality=hashes.pdq_quality, signature=signature, origin=origin, kind=hashes.kind)
    return replace(done, note="; ".join(n for n in (done.note, note) if n) or None)


def contribute_hashes(engine: Engine, member: str | int, user: str, labels: Labels, *, md5: str | None = None,
                      sha256: str | None = None, pdq: str | None = None, pdq_quality: int | None = None,
                      signature: bytes | None = None, origin: str = "api", kind: str | None = None) -> Contribution:
    """Bank bare hashes (a partner hashed the file itself) under ``member``; at least one hash."""
    owner = get_member(engine, member)
    [(item_id, created)] = add_bank_items(engine, owner.id, user, [
        new_item(labels, md5=md5, sha256=sha256, pdq=pdq, pdq_quality=pdq_quality, signature=signature,
                 origin=origin, kind=kind)])
    item = get_item(engine, item_id, owner.id)
    return Contribution(item, created, None if item.status == "active" else _not_matching(item))


# the change of status that brings an item from one status to another, where one exists (withdrawn is final)
_TRANSITIONS = {("active", "disputed"): "dispute", ("active", "withdrawn"): "withdraw",
                ("disputed", "withdrawn"): "withdraw", ("disputed", "active"): "reinstate"}


def restate(engine: Engine, item_id: int, member: int, user: str, status: str, reason: str) -> None:
    """Bring ``member``'s own item to ``status`` as an exchange says it now is (an import or a fetch of a file
    banked before: relabelling alone keeps the old status, so a signal marked false positive would match on)."""
    action = _TRANSITIONS.get((get_item(engine, item_id, member).status, status))
    if action:
        change_status(engine, item_id, member, user, action, reason)


def _not_matching(item: BankItem) -> str:
    """Why a file banked again still does not match: its earlier item's status (relabelling keeps it)."""
    after = {"disputed": "reinstate it after review (`jointwatch media reinstate`)",
             "withdrawn": "a withdrawn item stays withdrawn"}.get(item.status, "")
    return f"item #{item.id} is {item.status}: it does not match" + (f"; {after}" if after else "")
