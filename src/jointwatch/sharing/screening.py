"""Screening against the official lists and the partner entries releasable to the caller.

Partner entries are indexed apart from the official lists, weighed with the official index's
word weights (``ScreeningIndex.subset``), so a partner hit scores exactly as the same names
would on a list, and adding entries never moves an official score. The partner index is a
large base plus a small delta of the entries changed since the base was built; an entry
withdrawn, expired or no longer releasable is masked out, so neither a withdrawal nor a
change of audience waits for a rebuild, and only the entries changed since the last look are
read again. Whether anything changed is told by ``SharingWatch``: a change made by this
process counts at its next call; one made by another process (another worker, a sync) is
seen within half a second.

What a member may not see is dropped before retrieval picks candidates, so it neither
crowds out what the member may see nor costs it time.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from jointwatch.errors import ConflictError
from jointwatch.payments import PartnerEntries
from jointwatch.releasability import Recipient, is_live, may_see, today
from jointwatch.screening import (
    Listed,
    Match,
    NameMemory,
    Query,
    ScoringConfig,
    Screener,
    SharedLabel,
    listed_from_properties,
)
from jointwatch.store import (
    Engine,
    EntryLabels,
    NewEvent,
    SharingWatch,
    StoredEntry,
    all_entry_labels,
    load_entries,
    recipient_of,
    record_sharing_events,
)

SOURCE = "shared"        # the ``source`` of every partner hit
# the delta is folded into a new base when it passes this many entries (or this share of the base)
DELTA_ENTRIES = 2000
DELTA_SHARE = 0.05


def listed_of(entry: StoredEntry) -> Listed | None:
    """A partner entry as the screening index holds it (the same conversion as an official listing)."""
    return listed_from_properties(entry.ref, entry.schema, entry.entity.get("properties", {}), SOURCE, entry.ref,
                                  f"v{entry.version}")


@dataclass
class _Part:
    """Some entries' index (the base or the delta) and which entry and version each position holds."""

    screener: Screener
    entry_ids: np.ndarray         # per index position
    versions: dict[int, int]      # entry id -> version indexed


@dataclass(frozen=True)
class _State:
    generation: int
    day: str
    labels: dict[int, EntryLabels]
    by_ref: dict[str, int]
    parts: tuple[_Part, ...]


class PartnerIndex:
    """The partner entries of a store, indexed against one official screener's word weights."""

    def __init__(self, engine: Engine, official: Screener, watch: SharingWatch | None = None) -> None:
        self.engine = engine
        self.official = official
        # shared by the partner indexes of one service, so one commit listener serves them all
        self.watch = watch or SharingWatch(engine)
        self._lock = threading.Lock()
        self._state: _State | None = None
        self._base: _Part | None = None
        self._masks: dict[tuple[int, int, str], tuple[np.ndarray, ...]] = {}
        self._seen_seq: int | None = None
        self._delta: tuple[frozenset[tuple[int, int]], _Part] | None = None

    def _part(self, entries: list[StoredEntry]) -> _Part:
        listed: list[Listed] = []
        ids: list[int] = []
        for entry in entries:
            item = listed_of(entry)
            if item is not None:
                listed.append(item)
                ids.append(entry.id)
        screener = Screener(self.official.index.subset(listed), config=self.official.config,
                            false_positives=self.official.false_positives)
        return _Part(screener, np.asarray(ids, dtype=np.int64), {e.id: e.version for e in entries})

    def state(self) -> _State:
        """The entries as the store holds them now (rebuilt parts only when content changed)."""
        generation = self.watch.generation()
        day = today().isoformat()
        state = self._state
        if state is not None and state.generation == generation and state.day == day:
            return state
        with self._lock:
            if self._state is not None and self._state.generation == generation and self._state.day == day:
                return self._state
            # only what changed since the last look is read again: a withdrawal costs one row, not all
            changed = all_entry_labels(self.engine, since_seq=self._seen_seq)
            labels = dict(self._state.labels) if self._state is not None else {}
            labels.update((e.id, e) for e in changed)
            self._seen_seq = max([self._seen_seq or 0, *(e.seq for e in changed)])
            live = {i for i, e in labels.items() if e.status == "active"}
            base = self._base
            stale = [] if base is None else [i for i in live if base.versions.get(i) != labels[i].version]
            if base is None or len(stale) > max(DELTA_ENTRIES, DELTA_SHARE * len(base.versions)):
                base = self._base = self._part(load_entries(self.engine, sorted(live)))
                stale = []
            parts = (base, self._delta_of(stale, labels)) if stale else (base,)
            by_ref = dict(self._state.by_ref) if self._state is not None else {}
            by_ref.update((e.ref, e.id) for e in changed)
            self._state = _State(generation, day, labels, by_ref, parts)
            self._masks = {}
            return self._state

    def _delta_of(self, stale: list[int], labels: dict[int, EntryLabels]) -> _Part:
        """The delta part of these entries, rebuilt only when one of them has a new version: a
        withdrawal or a change of audience changes masks, not content."""
        key = frozenset((i, labels[i].version) for i in stale)
        if self._delta is None or self._delta[0] != key:
            self._delta = (key, self._part(load_entries(self.engine, stale)))
        return self._delta[1]

    def masks(self, member_id: int) -> tuple[tuple[np.ndarray, ...], _State]:
        """Per part, which positions match for ``member_id``: releasable, live, and the entry's current version."""
        state = self.state()
        key = (state.generation, member_id, state.day)
        cached = self._masks.get(key)
        if cached is not None:
            return cached, state
        recipient: Recipient = recipient_of(self.engine, member_id)
        day = today()
        ok = {i for i, e in state.labels.items()
              if may_see(e.member_id, e.labels, recipient) and is_live(e.status, e.labels.expires_on, day)}
        masks = []
        for part in state.parts:
            current = np.asarray([i in ok and state.labels[i].version == part.versions.get(i)
                                  for i in part.entry_ids.tolist()], dtype=bool)
            masks.append(current)
        out = tuple(masks)
        self._masks[key] = out
        return out, state


class SharedScreener(Screener):
    """The official screener plus the partner entries releasable to the member that asks.

    A call without a member (``member_id=None``) screens the official lists only: partner
    entries are always screened as someone."""

    def __init__(self, official: Screener, partners: PartnerIndex) -> None:
        super().__init__(official.index, config=official.config, false_positives=official.false_positives,
                         warnings=official.warnings)
        self.official = official
        self.partners = partners

    def screen_each(self, queries: Sequence[Query], threshold: float | None = None, limit: int = 10,
                    member_id: int | None = None, config: ScoringConfig | None = None,
                    visible: np.ndarray | None = None, memory: NameMemory | None = None) -> list[list[Match]]:
        official = self.official.screen_each(queries, threshold, limit, member_id, config, visible, memory)
        if member_id is None:
            return official
        masks, state = self.partners.masks(member_id)
        found: list[list[Match]] = [[] for _ in queries]
        for part, mask in zip(state.parts, masks, strict=True):
            if mask.any():
                for each, more in zip(found, part.screener.screen_each(queries, threshold, limit, member_id,
                                                                      config, mask), strict=True):
                    each.extend(more)
        return [self._merged(matches, more, state, member_id, limit) if more else matches
                for matches, more in zip(official, found, strict=True)]

    def _merged(self, matches: list[Match], found: list[Match], state: _State, member_id: int,
                limit: int) -> list[Match]:
        """The official matches and the partner hits, labelled with whose entry each is, best
        first; the hits that make the cut are recorded as the entries' events."""
        labelled = []
        for match in found:
            entry = state.labels[_entry_id(match, state)]
            labelled.append(replace(match, shared=SharedLabel(entry.originator, entry.labels.tlp,
                                                              entry.labels.handling, entry.version)))
        merged = sorted([*matches, *labelled], key=lambda m: (-m.score, m.source, m.reference))[:limit]
        hits = [m for m in merged if m.shared is not None]
        if hits:
            record_sharing_events(self.partners.engine, [
                NewEvent(_entry_id(m, state), member_id, "", "matched", "", f"score {m.score:.3f}") for m in hits])
        return merged


def _entry_id(match: Match, state: _State) -> int:
    return state.by_ref[match.reference]


def partner_entries(screener: Screener) -> PartnerEntries | None:
    """What a customer run needs of the partner entries ``screener`` holds (None: it holds none):
    the sequence number its partner index reached (not the store's: the index may be half a
    second behind another process's change, which the next delta must then still look at)."""
    if not isinstance(screener, SharedScreener):
        return None
    partners = screener.partners
    return PartnerEntries(lambda: partners.state().generation, listed_of)


def official_screener(screener: Screener, member_id: int | None) -> Screener:
    """The screener of the official lists alone, for an engine that screens those only (Spark):
    ConflictError when partner entries are releasable to ``member_id``, which a local run would
    screen too (failing closed: leaving them out would answer "no match" for them unseen)."""
    if not isinstance(screener, SharedScreener):
        return screener
    if member_id is not None:
        masks, _ = screener.partners.masks(member_id)
        if any(mask.any() for mask in masks):
            raise ConflictError("partner entries are releasable to this member and Spark screens the official "
                                "lists only: screen with --engine local")
    return screener.official
