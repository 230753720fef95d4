"""Which partner entries a delta run of a customer base must screen against, and what it records.

A customer run's screener may hold, besides the official lists, the partner entries
releasable to the member (``jointwatch.sharing.SharedScreener``). A delta run must react to
them as it reacts to a new list version: a customer that an entry shared, edited or newly
released to the member since the last run can reach is screened again. What changed is told
by the entries' sequence numbers (every change of an entry takes the next one) and by the
member's sharing groups and link flag, which the last run recorded with the sequence number
it covered (``PartnerMark``): an entry released through a group the member joined since has
no new sequence number, but was not releasable under the groups the run recorded.

Payments sits below ``sharing``: the caller hands in what only ``sharing`` knows, as a
``PartnerEntries`` (how an entry becomes a ``Listed``, and the sequence number the
screener's partner entries reached). Who may see and match an entry is decided by
``jointwatch.releasability`` alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine

from jointwatch.releasability import Recipient, is_live, may_see, today
from jointwatch.screening import Listed
from jointwatch.store import EntryLabels, PartnerMark, StoredEntry, all_entry_labels, load_entries, recipient_of


@dataclass(frozen=True)
class PartnerEntries:
    """What a customer run needs of its screener's partner entries, from the layer that knows them.

    ``covered``: the sharing sequence number up to which the screener holds every change; asked
    before any customer is screened, so a change made during the run is looked at again by the
    next one. ``listed``: an entry as the screening index holds it (``jointwatch.sharing.listed_of``)."""

    covered: Callable[[], int]
    listed: Callable[[StoredEntry], Listed | None]


@dataclass
class PartnerChange:
    """The partner entries a delta run screens against, and why alerts on others may go."""

    mark: PartnerMark
    entities: list[Listed] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=dict)   # by entity id (an entry's ref)


def partner_mark(engine: Engine, member_id: int, partners: PartnerEntries) -> tuple[PartnerMark, Recipient]:
    """What this run covers: the screener's sequence number and the member's groups now."""
    seq = partners.covered()
    recipient = recipient_of(engine, member_id)
    return PartnerMark(seq, tuple(sorted(recipient.groups)), recipient.link), recipient


def _matchable(entry: EntryLabels, recipient: Recipient) -> bool:
    return may_see(entry.member_id, entry.labels, recipient) and is_live(entry.status, entry.labels.expires_on,
                                                                         today())


def partner_changes(engine: Engine, member_id: int, since: PartnerMark | None,
                    partners: PartnerEntries) -> PartnerChange:
    """The entries the member may match now that changed, or were not releasable to it, since
    ``since`` (every matchable one when None: the last run held no partner entries)."""
    mark, recipient = partner_mark(engine, member_id, partners)
    if since is None:
        candidates = [e for e in all_entry_labels(engine) if _matchable(e, recipient)]
        return _change(engine, mark, candidates, [], partners)
    before = Recipient(member_id, frozenset(since.groups), since.link)
    changed = all_entry_labels(engine, since_seq=since.seq)
    candidates = [e for e in changed if _matchable(e, recipient)]
    if before != recipient:
        # released (or no longer) through a group joined or left: no new sequence number, new audience
        ids = {e.id for e in changed}
        moved = [e for e in all_entry_labels(engine) if e.id not in ids
                 and _matchable(e, recipient) != _matchable(e, before)]
        candidates += [e for e in moved if _matchable(e, recipient)]
        changed += [e for e in moved if not _matchable(e, recipient)]
    lost = [e for e in changed if not _matchable(e, recipient)]
    return _change(engine, mark, candidates, lost, partners)


def _change(engine: Engine, mark: PartnerMark, candidates: list[EntryLabels], lost: list[EntryLabels],
            partners: PartnerEntries) -> PartnerChange:
    out = PartnerChange(mark)
    for entry in load_entries(engine, [e.id for e in candidates]):
        item = partners.listed(entry)
        if item is not None:
            out.entities.append(item)
            out.reasons[item.entity_id] = (f"no longer matches after partner entry {entry.ref} changed "
                                           f"(version {entry.version})")
    for e in lost:
        # one wording for withdrawn, expired and no longer released: the member learns no more than that it went
        out.reasons[e.ref] = (f"partner entry {e.ref} no longer matches for this member (withdrawn, expired "
                              "or no longer shared with it)")
    return out
