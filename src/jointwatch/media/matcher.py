"""Matching uploads against the bank: exact hashes, PDQ within a Hamming radius, then local features.

Built once from the bank's matchable items (active, and a PDQ quality of at least 50 for the
PDQ stage), then asked many times. Each match says how it was found (``method``), how close
it was (``distance`` in bits for PDQ, ``inliers`` for local features), and whose labels it
carries; a file that matches several contributors' items gets one match per item.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Annotated, Literal

import numpy as np
from pydantic import Field

from jointwatch.errors import InvalidInputError, ScreeningUnavailableError
from jointwatch.media.clips import ClipIndex, ClipSignature, is_clip_signature
from jointwatch.media.hashing import PDQ_MIN_QUALITY, MediaHashes, hex_to_bytes
from jointwatch.media.index import HammingIndex
from jointwatch.media.local import BANK_POINTS, EXACT_DESCRIPTORS, LocalIndex, LocalParts
from jointwatch.media.signature import VIEW_MIRROR, VIEW_ORIGINAL, Keypoints, QuerySignature, Signature
from jointwatch.store import (
    BankItem,
    Engine,
    MatchableRow,
    Viewer,
    bank_generation,
    matchable_bank_rows,
    matchable_count,
    seen_bank_matches,
)

# PDQ's published operating point: at 31 bits of 256, Meta reports near-zero false positives
# on real traffic while catching re-encodes, resizes and small edits.
DEFAULT_PDQ_THRESHOLD = 31


# how a match was found: an exact hash, PDQ (of the image, its mirror image, its canonical
# size, its centred window, the image trimmed of borders and bars) or local features (of the image,
# its mirror image); a video's frames (vPDQ, of the mirror image) or sound (Chromaprint or landmarks,
# of a sound file or a video's soundtrack)
MatchMethod = Literal["sha256", "md5", "pdq", "pdq-mirror", "pdq-canonical", "pdq-centred", "pdq-trimmed", "orb",
                      "orb-mirror", "vpdq", "vpdq-mirror", "chromaprint", "landmarks"]


# the one type of the CLI and the API (FastAPI reads the Field notes; the docstring describes the schema)
@dataclass(frozen=True)
class MediaMatch:
    """One banked item a file matched: a lead for a human reviewer, not a verdict."""

    item: BankItem
    method: MatchMethod
    distance: Annotated[int | None, Field(description="PDQ: differing bits of 256; exact hashes: 0")] = None
    inliers: Annotated[int | None, Field(description="Local features: keypoints agreeing on one transform")] = None
    share: Annotated[float | None, Field(description="Video and sound: the share of the file's frames (or sound) "
                                                     "that lines up with the banked item")] = None
    bank_share: Annotated[float | None, Field(description="Video and sound: the share of the banked item's length "
                                                          "that the file covers")] = None
    offset: Annotated[float | None, Field(description="Video and sound: seconds into the banked item at which the "
                                                      "file starts")] = None
    bit_error_rate: Annotated[float | None, Field(description="Sound: the share of Chromaprint's bits that differ "
                                                              "where the two line up")] = None
    landmarks: Annotated[int | None, Field(description="Sound: pairs of spectral peaks of the file found in the "
                                                       "banked sound at one time offset")] = None


# all a member learns of a match on an item it may not see (TLP amber+strict or red of another member)
HIDDEN_NOTICE = "matches an item you may not see; ask its contributor"


@dataclass(frozen=True)
class HiddenMatch:
    """A match on an item you may not see (another member's TLP amber+strict or red): only a random ref to ask by."""

    ref: Annotated[str, Field(description="Quote it in POST /media/refs/{ref}/ask to reach the item's contributor")]
    notice: str = HIDDEN_NOTICE


@dataclass(frozen=True)
class SeenBy:
    """What one viewer may know of a file's matches."""

    matches: list[MediaMatch]
    hidden: list[HiddenMatch]


def seen_by(engine: Engine, viewer: Viewer, matches: list[MediaMatch]) -> SeenBy:
    """The matches as ``viewer`` may know them: its visible items (as it sees them), refs of the others.

    Items the viewer disputed drop out; the store's ``visible_to`` decides what is visible. Hidden
    items found by PDQ count only within DEFAULT_PDQ_THRESHOLD bits.
    """
    seen = seen_bank_matches(engine, viewer, [m.item.id for m in matches])
    visible = [replace(m, item=seen.visible[m.item.id]) for m in matches if m.item.id in seen.visible]
    # A hidden item answers only at PDQ's operating point, whatever threshold the caller chose:
    # at a wide one, random guesses "match" and bit flips then walk back to the hidden hash.
    # sorted by ref, not by match order: the order of hidden items must not hint at their numbers
    hidden = sorted({HiddenMatch(seen.hidden[m.item.id]) for m in matches
                     if m.item.id in seen.hidden and (m.distance is None or m.distance <= DEFAULT_PDQ_THRESHOLD)},
                    key=lambda h: h.ref)
    return SeenBy(visible, hidden)


@dataclass
class MatchOptions:
    pdq_threshold: int = DEFAULT_PDQ_THRESHOLD
    use_signatures: bool = True
    min_inliers: int | None = None     # ORB inliers a match needs; None: the local index's own (media.local)


class Matcher:
    """The bank's matchable items, indexed for matching."""

    def __init__(self, rows: list[MatchableRow], exact_descriptors: int = EXACT_DESCRIPTORS,
                 bank_points: int = BANK_POINTS) -> None:
        """``exact_descriptors``: up to this many banked descriptors (both views, every keypoint) are scanned
        exhaustively; past it the bank is indexed at scale: each image's BANK_POINTS strongest keypoints of
        the image alone (a flip is the mirror PDQ's), in a chunk-hash index (``media.local``)."""
        self.items = [row.item for row in rows]
        self.by_sha256: dict[str, list[int]] = {}
        self.by_md5: dict[str, list[int]] = {}
        pdq_codes: list[bytes] = []
        self.pdq_owner: list[tuple[int, MatchMethod]] = []    # row -> (item position, method)
        canonical_codes: list[bytes] = []
        self.canonical_owner: list[int] = []          # row -> item position
        centred_codes: list[bytes] = []
        self.centred_owner: list[int] = []            # row -> item position
        trimmed_codes: list[bytes] = []
        self.trimmed_owner: list[int] = []            # row -> item position
        mirrored_by_pdq: set[int] = set()             # items whose mirror PDQ is matched
        # every view while they fit the exhaustive scan; past it (None) the bank is indexed at scale: each
        # image's ``bank_points`` keypoints of the image alone (a flip is the mirror PDQ's), gathered in
        # blocks as the rows are read (``media.local``)
        views: list[Keypoints] | None = []
        described = 0
        at_scale = LocalParts(bank_points)
        self.view_of: list[tuple[int, int]] = []   # view -> (item position, view number)
        clips: list[tuple[int, ClipSignature]] = []   # videos and sound files: ``media.clips``
        for position, row in enumerate(rows):
            item = row.item
            if item.sha256:
                self.by_sha256.setdefault(item.sha256, []).append(position)
            if item.md5:
                self.by_md5.setdefault(item.md5, []).append(position)
            if is_clip_signature(row.signature):
                clips.append((position, ClipSignature.from_bytes(row.signature)))  # type: ignore[arg-type]
                continue
            signature = Signature.from_bytes(row.signature) if row.signature else None
            if item.pdq and (item.pdq_quality is None or item.pdq_quality >= PDQ_MIN_QUALITY):
                # an imported hash without a quality score was judged matchable by its contributor
                pdq_codes.append(hex_to_bytes(item.pdq))
                self.pdq_owner.append((position, "pdq"))
                if signature and signature.pdq_mirror:
                    pdq_codes.append(hex_to_bytes(signature.pdq_mirror))
                    self.pdq_owner.append((position, "pdq-mirror"))
                    mirrored_by_pdq.add(position)
            if signature:
                # an animation's later frames: whatever the first frame's quality (a blank first frame is
                # the evasion they close)
                for frame in signature.pdq_frames:
                    pdq_codes.append(hex_to_bytes(frame))
                    self.pdq_owner.append((position, "pdq"))
            if signature and signature.pdq_canonical:
                canonical_codes.append(hex_to_bytes(signature.pdq_canonical))
                self.canonical_owner.append(position)
            if signature and signature.pdq_centred:
                centred_codes.append(hex_to_bytes(signature.pdq_centred))
                self.centred_owner.append(position)
            if signature and signature.pdq_trimmed:
                trimmed_codes.append(hex_to_bytes(signature.pdq_trimmed))
                self.trimmed_owner.append(position)
            if signature:
                for number, view in enumerate(signature.views):
                    if not len(view):
                        continue
                    self.view_of.append((position, number))
                    if views is not None:
                        views.append(view)
                        described += len(view)
                        if described > exact_descriptors:
                            for v, kept in enumerate(views):
                                if self._at_scale(v, mirrored_by_pdq):
                                    at_scale.add(kept, v)
                            views = None
                    elif self._at_scale(len(self.view_of) - 1, mirrored_by_pdq):
                        at_scale.add(view, len(self.view_of) - 1)
        self.pdq_index = HammingIndex(np.frombuffer(b"".join(pdq_codes), np.uint8).reshape(-1, 32))
        # row -> item position alone, for the trimmed upload's search of the PDQ index: built per upload it
        # cost 11 ms at 100,000 images, ~0.1 s at a million
        self._pdq_position = np.fromiter((position for position, _ in self.pdq_owner), np.int64, len(self.pdq_owner))
        self.canonical_index = HammingIndex(np.frombuffer(b"".join(canonical_codes), np.uint8).reshape(-1, 32))
        self.centred_index = HammingIndex(np.frombuffer(b"".join(centred_codes), np.uint8).reshape(-1, 32))
        self.trimmed_index = HammingIndex(np.frombuffer(b"".join(trimmed_codes), np.uint8).reshape(-1, 32))
        self.clips = ClipIndex(clips)
        if views is not None:
            every = LocalParts(max(map(len, views), default=0))
            for v, view in enumerate(views):
                every.add(view, v)
            self.local = LocalIndex(every)
        else:
            self.local = LocalIndex(at_scale, exact_descriptors=0)

    def _at_scale(self, view: int, mirrored_by_pdq: set[int]) -> bool:
        """Whether a bank at scale indexes ``view``: the image's own, and the mirror image's for an item whose
        mirror PDQ is not matched (a PDQ quality under 50: a flipped copy has nothing else to meet)."""
        position, number = self.view_of[view]
        return number == VIEW_ORIGINAL or position not in mirrored_by_pdq

    def __len__(self) -> int:
        return len(self.items)

    def match_hashes(self, md5: str | None = None, sha256: str | None = None, pdq: list[str] | None = None,
                     options: MatchOptions | None = None) -> list[MediaMatch]:
        """Matches of bare hashes (what a partner sends instead of the file)."""
        options = options or MatchOptions()
        found: dict[int, MediaMatch] = {}
        for position in self.by_sha256.get(sha256 or "", []):
            found.setdefault(position, MediaMatch(self.items[position], "sha256", distance=0))
        for position in self.by_md5.get(md5 or "", []):
            found.setdefault(position, MediaMatch(self.items[position], "md5", distance=0))
        codes = []
        for value in pdq or []:
            try:
                codes.append(hex_to_bytes(value))
            except ValueError as exc:
                raise InvalidInputError(f"pdq {value!r}: {exc}") from None
        if codes:
            hits = self.pdq_index.search(np.frombuffer(b"".join(codes), np.uint8).reshape(-1, 32),
                                         options.pdq_threshold)
            for row, distance in sorted(zip(hits.ids.tolist(), hits.distance.tolist(), strict=True),
                                        key=lambda pair: pair[1]):
                position, method = self.pdq_owner[row]
                if position not in found or (found[position].distance or 0) > distance:
                    found[position] = MediaMatch(self.items[position], method, distance=distance)
        return _ordered(found)

    def match_clip(self, query: ClipSignature) -> list[MediaMatch]:
        """Matches of a video's or sound's signature (of a file, or a partner's bare vPDQ): by frames, by sound."""
        return _ordered({hit.position: MediaMatch(self.items[hit.position], hit.method,  # type: ignore[arg-type]
                                                  distance=hit.distance, share=hit.share, bank_share=hit.bank_share,
                                                  offset=hit.offset, bit_error_rate=hit.bit_error_rate,
                                                  landmarks=hit.landmarks)
                         for hit in self.clips.match(query)})

    def match(self, hashes: MediaHashes, query: QuerySignature | ClipSignature | None = None,
              options: MatchOptions | None = None) -> list[MediaMatch]:
        """Matches of a hashed file: exact, PDQ (if its quality allows), canonical PDQ, then local features;
        a video or sound file's by its frames and its sound (``media.clips``)."""
        options = options or MatchOptions()
        pdq = [hashes.pdq] if hashes.pdq and hashes.pdq_matchable else []
        if isinstance(query, QuerySignature):
            pdq += list(query.frames)   # an animation's later frames, by PDQ whatever the options
        found = {m.item.id: m for m in self.match_hashes(hashes.md5, hashes.sha256, pdq, options)}
        if not options.use_signatures or query is None:
            return _ordered({i: m for i, m in enumerate(found.values())})
        if isinstance(query, ClipSignature):
            for match in self.match_clip(query):
                found.setdefault(match.item.id, match)
            return _ordered({i: m for i, m in enumerate(found.values())})
        if query.pdq_canonical:
            hits = self.canonical_index.search(np.frombuffer(hex_to_bytes(query.pdq_canonical), np.uint8),
                                               options.pdq_threshold)
            for row, distance in zip(hits.ids.tolist(), hits.distance.tolist(), strict=True):
                item = self.items[self.canonical_owner[row]]
                if item.id not in found:
                    found[item.id] = MediaMatch(item, "pdq-canonical", distance=distance)
        self._match_trimmed(hashes, query, options, found)
        if query.pdq_centred:
            # every window the upload tries: the nearest of them per banked item
            hits = self.centred_index.search(np.frombuffer(b"".join(map(hex_to_bytes, query.pdq_centred)),
                                                           np.uint8).reshape(-1, 32), options.pdq_threshold)
            for row, distance in sorted(zip(hits.ids.tolist(), hits.distance.tolist(), strict=True),
                                        key=lambda pair: pair[1]):
                item = self.items[self.centred_owner[row]]
                if item.id not in found:
                    found[item.id] = MediaMatch(item, "pdq-centred", distance=distance)
        keypoints = query.keypoints
        if len(keypoints):
            for position, method, inliers in self._local_matches(keypoints, options.min_inliers):
                item = self.items[position]
                if item.id not in found:
                    found[item.id] = MediaMatch(item, method, inliers=inliers)
        return _ordered({i: m for i, m in enumerate(found.values())})

    def _match_trimmed(self, hashes: MediaHashes, query: QuerySignature, options: MatchOptions,
                       found: dict[int, MediaMatch]) -> None:
        """The upload trimmed of borders and bars against the bank's PDQ and trimmed PDQ; the upload as it is
        against the bank's trimmed PDQ."""
        searches: list[tuple[str, HammingIndex, Sequence[int] | np.ndarray]] = []
        if query.pdq_trimmed:
            searches.append((query.pdq_trimmed, self.pdq_index, self._pdq_position))
            searches.append((query.pdq_trimmed, self.trimmed_index, self.trimmed_owner))
        if hashes.pdq and hashes.pdq_matchable:
            searches.append((hashes.pdq, self.trimmed_index, self.trimmed_owner))
        for value, index, owner in searches:
            hits = index.search(np.frombuffer(hex_to_bytes(value), np.uint8), options.pdq_threshold)
            for row, distance in sorted(zip(hits.ids.tolist(), hits.distance.tolist(), strict=True),
                                        key=lambda pair: pair[1]):
                item = self.items[owner[row]]
                if item.id not in found or (found[item.id].method == "pdq-trimmed"
                                            and (found[item.id].distance or 0) > distance):
                    found[item.id] = MediaMatch(item, "pdq-trimmed", distance=distance)

    def _local_matches(self, query: Keypoints, min_inliers: int | None) -> list[tuple[int, MatchMethod, int]]:
        results: dict[int, tuple[int, MatchMethod, int]] = {}
        for found in self.local.search(query, min_inliers):
            position, number = self.view_of[found.owner]
            method: MatchMethod = "orb-mirror" if number == VIEW_MIRROR else "orb"
            if position not in results or results[position][2] < found.inliers:
                results[position] = (position, method, found.inliers)
        return list(results.values())


def _ordered(found: dict[int, MediaMatch]) -> list[MediaMatch]:
    rank = {"sha256": 0, "md5": 1, "pdq": 2, "pdq-mirror": 2, "pdq-canonical": 3, "pdq-centred": 3, "pdq-trimmed": 3,
            "orb": 4, "orb-mirror": 4, "vpdq": 2, "vpdq-mirror": 2, "chromaprint": 5, "landmarks": 5}
    return sorted(found.values(), key=lambda m: (rank[m.method], m.distance or 0, -(m.inliers or 0), m.item.id))


def require_bank(matcher: Matcher, engine: Engine, viewer: Viewer) -> Matcher:
    """``matcher`` if it holds anything a match could report to ``viewer``; ScreeningUnavailableError for an empty
    bank, or one whose every active item the viewer disputed (fail closed: no match against nothing is not "not
    known content")."""
    if not len(matcher):
        raise ScreeningUnavailableError("the media bank holds no active item: nothing was matched (bank items with "
                                        "`jointwatch media add`, `media import` or `media fetch` first)")
    if not matchable_count(engine, viewer):
        raise ScreeningUnavailableError(f"your member disputed every active item of the media bank ({len(matcher)}): "
                                        "nothing is left to match against, so nothing was matched")
    return matcher


def load_matcher(engine: Engine, statuses: tuple[str, ...] = ("active",)) -> Matcher:
    """A matcher over the bank's items in these statuses (active only, unless asked)."""
    return Matcher(matchable_bank_rows(engine, statuses))


class MatcherCache:
    """One matcher per service, rebuilt when the bank changes (checked by a count and a timestamp)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._generation: object = None
        self._matcher: Matcher | None = None

    def get(self, engine: Engine) -> Matcher:
        generation = bank_generation(engine)
        with self._lock:
            if self._matcher is None or generation != self._generation:
                self._matcher = load_matcher(engine)
                self._generation = generation
            return self._matcher
