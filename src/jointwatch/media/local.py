"""Local features at bank scale: the strongest keypoints of each banked image, one index, RANSAC on the best few.

An exhaustive scan of every banked descriptor (300 per view, two views) stops being fast past
about 1,700 images. At bank scale each banked image keeps only ``BANK_POINTS`` ORB keypoints,
the strongest of each part of the picture (by the detector's own corner response: the ones most
likely to be found again in an edited copy; signatures store them strongest first): round by
round, the strongest left in each of ``SPREAD_CELLS`` x ``SPREAD_CELLS`` cells of the points'
extent, so a crop or a caption that removes one region leaves points elsewhere (the 128 strongest
alone sat on one tower of ``rocket`` and on the outline of ``shepp_logan_phantom``). The mirror
image is left to the mirror PDQ, except for an image whose PDQ quality is too low to match (its
mirror keypoints are indexed too), and the descriptors go into one index:

* up to ``EXACT_DESCRIPTORS`` descriptors, the exact scan (faiss ``IndexBinaryFlat``) of every
  descriptor within ``DESCRIPTOR_RADIUS`` bits;
* beyond, the ``NEAREST`` nearest banked descriptors of each query descriptor (faiss
  ``IndexBinaryIVF``, ``PROBES`` of ``list_count(n)`` lists whose centres are banked descriptors
  drawn at random: ~sqrt(n) lists in a bank of thousands of images, ~``LIST_SIZE`` descriptors a
  list past ~100,000, so a query scans about as many codes at a million images as at a hundred
  thousand; past ``FLAT_LISTS`` lists the nearest centres are found through lists of their own, a
  small ``IndexBinaryIVF`` over the centres, not by scanning all 160,000 of a million images). How even the lists are
  decides the matching time at that size: over 50,000 drawn pictures a random code's list held 1.7
  times the mean, over the benchmark's earlier synthesized distractors (noised copies of a few drawn
  ones, whose sources became hubs) 24 times (``benchmarks/media_list_sizes.py``). A cap on the codes
  a query descriptor scans (``scan_share``, faiss ``max_codes``) or on a list's size (``LIST_CAP``)
  trades recall for it; both are off. Nearest, not all within
  the radius: at 10,000 images a generic corner's descriptor has thousands of neighbours within
  31 bits (measured: 584,000 for 64 query descriptors), and only the nearest few can be the same
  point of the same picture.

Each query point votes once per banked image it has a candidate in; only the
``GEOMETRIC_CANDIDATES`` images with the most votes (at least ``MIN_CANDIDATES``) get the
geometric check (RANSAC, ``signature.geometric_inliers``). Memory per banked image:
``BANK_POINTS`` x (32 bytes of descriptor in faiss + 8 of its id + 8 of position + 4 of owner),
about 6.6 KB at 128 (``LocalIndex.nbytes``). The bank's keypoints are gathered in blocks as its rows
are read (``LocalParts``) and handed to faiss block by block, so building never holds them twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from jointwatch.media.deps import require
from jointwatch.media.index import Hits, ScanIndex, as_codes
from jointwatch.media.signature import (
    BANK_FEATURES,
    DESCRIPTOR_RADIUS,
    MIN_CANDIDATES,
    MIN_INLIERS,
    Keypoints,
    geometric_inliers,
    keypoints,
)

# the keypoints a banked image keeps in the index (measured: benchmarks/bench_media.py --bank-size), the strongest
# of each of SPREAD_CELLS x SPREAD_CELLS cells round by round
BANK_POINTS = 128
SPREAD_CELLS = 8
# up to this many descriptors (~15,000 images) the exact scan answers within ~50 ms
EXACT_DESCRIPTORS = 1_000_000
# the nearest banked descriptors each query descriptor brings, from this many inverted lists; once the lists'
# centres are searched through a graph (a bank past ~25,000 images) more of both: at 1,000,000 images 4 / 4
# found 96.8% of the benchmark's edits (a 10% crop 88%), 4 / 8 97.4% (92%), 8 / 16 97.8% with every edit
# >= 96%, at ~2.5x the matching time of 4 / 4 (benchmarks/bench_media.py --bank-size 1000000, README)
NEAREST, PROBES = 4, 4
SCALE_NEAREST, SCALE_PROBES = 8, 16
# descriptors an inverted list holds once a bank is large (list_count); past FLAT_LISTS lists their centres are
# found through lists of centres: ~sqrt(lists) of them (the centres of centres drawn at random), CENTRE_PROBES
# searched for a query's descriptor, CENTRE_PROBES_BUILD while placing the bank's codes. Measured on 160,000
# centres drawn from real descriptors, as at 1,000,000 images (benchmarks/media_centres.py: the benchmark's uploads,
# a flat scan as the truth): 400 lists of centres, 32 probed, found 94.7% of a query's 16 nearest centres in 4.5 ms
# an upload, and 8 probed placed 86.5% of codes in their nearest list at 2.4 us a code; the graph used before (faiss
# IndexBinaryHNSW, 16 links, 32 / 16 candidates) 86.8% in 4.3 ms and 78.5% at 3.9 us: a query's nearest banked
# descriptors are more often in the lists it probes, and the bank builds faster (1,000,000 images: 404 s, 587 s)
LIST_SIZE = 800
FLAT_LISTS = 4_096
CENTRE_PROBES, CENTRE_PROBES_BUILD = 32, 8
# LIST_CAP: an inverted list holds at most this many times its even share of codes, a code whose nearest
# centre's list is full going to the next of its LIST_CHOICES nearest (balanced_lists). Off by default: at
# 1,000,000 images a cap of 2 cut matching from 319 to 220 ms at the median and lost a 10% crop (88%), as
# scan_share did (README, "Media", fifth round)
LIST_CAP: float | None = None
LIST_CHOICES = 8
# no cap on the codes a query descriptor scans by default (NearestIndex.scan_share)
SCAN_SHARE: float | None = None
# banked images whose correspondences are checked geometrically, most votes first
GEOMETRIC_CANDIDATES = 8
# the inliers a match needs at bank scale (signature.MIN_INLIERS, 12, for the exhaustive scan): a banked image
# keeps 128 keypoints there, not 300-600, so an edited copy has fewer points to agree on. At 1,000,000 images the
# most inliers another image reached on any of the benchmark's 312 uploads was 3 (310 of them: 0), while a 10% crop
# of `microaneurysms` and of `page` reached 10 and 11 on their own image (README, "Media", eighth round); over the
# exhaustive scan, with every keypoint, another image reached 8 (400 images), so it keeps 12
SCALE_MIN_INLIERS = 10
# past the exact scan, the upload's keypoints searched: this many, spread over the picture as a banked image's are
# (``spread_of``); None: all of them (signature.QUERY_FEATURES). A query descriptor's search is most of the
# matching time at bank scale
QUERY_POINTS: int | None = None


def bank_keypoints(pixels: np.ndarray, count: int = BANK_POINTS) -> Keypoints:
    """The ``count`` ORB keypoints of an RGB image (at SIDE) a bank at scale indexes (``spread_of``)."""
    return spread_of(keypoints(pixels, BANK_FEATURES), count)


def spread_of(view: Keypoints, count: int = BANK_POINTS) -> Keypoints:
    """``count`` keypoints of a stored view (a signature keeps them strongest first), spread over the picture:
    the strongest of each of SPREAD_CELLS x SPREAD_CELLS cells of the points' extent, then the second strongest
    of each, and so on; kept strongest first."""
    if len(view) <= count:
        return view
    low = view.points.min(axis=0)
    extent = np.maximum(view.points.max(axis=0) - low, 1e-6)
    cell = np.minimum(((view.points - low) / extent * SPREAD_CELLS).astype(np.int64), SPREAD_CELLS - 1)
    cell_id = cell[:, 0] * SPREAD_CELLS + cell[:, 1]
    # each point's rank among the points of its cell (the view is strongest first)
    order = np.argsort(cell_id, kind="stable")
    starts = np.searchsorted(cell_id[order], cell_id[order])
    rank = np.empty(len(view), np.int64)
    rank[order] = np.arange(len(view)) - starts
    kept = np.sort(np.lexsort((np.arange(len(view)), rank))[:count])
    return Keypoints(view.points[kept], view.descriptors[kept])


class NearestIndex:
    """The ``k`` nearest banked descriptors of each query descriptor, within the radius (faiss ``IndexBinaryIVF``).

    Nearest, not every one within the radius: at bank scale a generic corner's descriptor has thousands of
    neighbours within 31 bits, and only the nearest few can be the same point of the same picture. The codes
    come in blocks, each handed to faiss and dropped from ``blocks`` in turn, so the bank's descriptors are
    never held twice.
    """

    def __init__(self, blocks: list[np.ndarray], k: int | None = None, nprobe: int | None = None) -> None:
        faiss = require("faiss", "faiss-cpu")
        sizes = [len(block) for block in blocks]
        self.count = sum(sizes)
        lists = list_count(self.count)
        # the lists' centres are banked descriptors drawn at random. k-means in two levels (~sqrt(n) coarse
        # clusters, each split in proportion, its centres the majority bits) left the lists as uneven at 100,000
        # images (a random code's list held 1,840 codes against 1,809, both with a cap of 2)
        drawn = np.sort(np.random.default_rng(0).choice(self.count, lists, replace=False))
        starts = np.cumsum([0, *sizes])
        centres = np.concatenate([as_codes(block)[drawn[(drawn >= lo) & (drawn < hi)] - lo]
                                  for block, lo, hi in zip(blocks, starts[:-1], starts[1:], strict=True)])
        self._nested = lists > FLAT_LISTS
        self._quantizer = centre_index(centres)
        self._index = faiss.IndexBinaryIVF(self._quantizer, 256, lists)
        self._index.is_trained = True
        fill = np.zeros(lists, np.int64)      # codes in each list so far (LIST_CAP)
        if self._nested and LIST_CAP is not None:
            # a displaced code must sit in one of the lists its own search would probe: choices as a query's
            self._quantizer.nprobe = CENTRE_PROBES
        while blocks:
            # faiss keeps its own copy: ours goes block by block
            codes = as_codes(blocks.pop(0))
            if LIST_CAP is None:
                self._index.add(codes)            # each code in its nearest centre's list
                continue
            _, near = self._quantizer.search(codes, min(LIST_CHOICES, lists))
            cap = max(1, int(np.ceil(LIST_CAP * self.count / lists)))
            assigned = balanced_lists(near.astype(np.int64), fill, cap)
            self._index.add_core(len(codes), faiss.swig_ptr(codes), None, faiss.swig_ptr(assigned))
        if self._nested:
            self._quantizer.nprobe = CENTRE_PROBES
        self.k = k or (SCALE_NEAREST if self._nested else NEAREST)
        self._scan_share: float | None = SCAN_SHARE
        self.probes = nprobe or (SCALE_PROBES if self._nested else PROBES)

    def __len__(self) -> int:
        return self.count

    @property
    def probes(self) -> int:
        """How many inverted lists a query descriptor's search scans."""
        return int(self._index.nprobe)

    @probes.setter
    def probes(self, value: int) -> None:
        self._index.nprobe = max(1, min(value, self._index.nlist))
        self.scan_share = self.scan_share

    @property
    def scan_share(self) -> float | None:
        """The most codes a query descriptor scans, in shares of what its probes would hold were the lists even
        (None: every code of its probes). The lists are not even (random centres in Hamming space gather hubs:
        at 1,000,000 images half held 3 codes or fewer and a few ~100,000, so 16 probes scanned ~25 times their
        share); capped, the nearest lists are scanned first. Measured at 1,000,000 (README): a share of 1 cut
        matching from 375 to 86 ms at the median, and recall from 97.8% to 95.8% (a 10% crop 81%), so the
        default is no cap."""
        return self._scan_share

    @scan_share.setter
    def scan_share(self, value: float | None) -> None:
        self._scan_share = value
        even = self.count / self._index.nlist
        self._index.max_codes = 0 if value is None else max(1, round(value * self._index.nprobe * even))

    @property
    def nbytes(self) -> int:
        """faiss's copy of the codes with an 8-byte id each, and the list centres: scanned, 32 bytes each; past
        FLAT_LISTS in lists of their own, with an id each, and those lists' centres."""
        centres = (self._index.nlist * (32 + 8) + self._quantizer.nlist * 32 if self._nested
                   else self._index.nlist * 32)
        return int(self.count * (32 + 8) + centres)

    def list_sizes(self) -> np.ndarray:
        """The number of codes each inverted list holds."""
        lists = self._index.invlists
        return np.array([lists.list_size(n) for n in range(self._index.nlist)], np.int64)

    def search(self, queries: np.ndarray, radius: int) -> Hits:
        """Up to ``k`` nearest codes within ``radius`` of each query (approximate)."""
        queries = as_codes(queries)
        if radius < 0 or len(self) == 0 or len(queries) == 0:
            return Hits(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int32))
        distance, ids = self._index.search(queries, self.k)
        rows = np.repeat(np.arange(len(queries), dtype=np.int64), self.k)
        distance, ids = distance.reshape(-1).astype(np.int32), ids.reshape(-1).astype(np.int64)
        keep = (ids >= 0) & (distance <= radius)
        return Hits(rows[keep], ids[keep], distance[keep])


def centre_index(centres: np.ndarray) -> Any:
    """What finds a code's nearest list centres (a centre's id is its list's number): every centre scanned up to
    FLAT_LISTS; past them (at 1,000,000 images 160,000 centres, whose scan would cost more than the lists
    themselves) lists of the centres, ~sqrt of them with centres drawn at random, CENTRE_PROBES_BUILD probed (a
    built NearestIndex raises it to CENTRE_PROBES for queries). ``benchmarks/media_centres.py`` measures it."""
    faiss = require("faiss", "faiss-cpu")
    if len(centres) <= FLAT_LISTS:
        index = faiss.IndexBinaryFlat(256)
    else:
        count = int(np.sqrt(len(centres)))
        outer = faiss.IndexBinaryFlat(256)
        outer.add(centres[np.random.default_rng(1).choice(len(centres), count, replace=False)])
        index = faiss.IndexBinaryIVF(outer, 256, count)      # faiss's wrapper keeps ``outer`` alive
        index.is_trained = True
        index.nprobe = CENTRE_PROBES_BUILD
    index.add(centres)
    return index


def balanced_lists(near: np.ndarray, fill: np.ndarray, cap: int) -> np.ndarray:
    """The list each code goes to: its nearest centre (``near``: each code's nearest few, nearest first) whose list
    holds fewer than ``cap`` codes (``fill``, updated), codes earlier in the block first; a code whose every
    choice is full goes to the emptiest of them. Without a cap a list can be far larger than the mean (at
    1,000,000 images of the benchmark's noised distractors the largest held 108,850 codes, 136 times it), and a
    query that probes it scans all of it."""
    assigned = np.full(len(near), -1, np.int64)
    left = np.arange(len(near))
    for rank in range(near.shape[1]):
        if not len(left):
            break
        choice = near[left, rank]
        order = np.argsort(choice, kind="stable")          # grouped by list, in code order within each
        chosen = choice[order]
        place = np.arange(len(chosen)) - np.searchsorted(chosen, chosen)   # the code's place in its list's queue
        take = (chosen >= 0) & (place < cap - fill[np.maximum(chosen, 0)])
        assigned[left[order[take]]] = chosen[take]
        fill += np.bincount(chosen[take], minlength=len(fill))
        left = np.sort(left[order[~take]])
    if len(left):
        choices = near[left]
        room = np.where(choices >= 0, fill[np.maximum(choices, 0)], np.iinfo(np.int64).max)
        assigned[left] = choices[np.arange(len(left)), np.argmin(room, axis=1)]
        fill += np.bincount(assigned[left], minlength=len(fill))
    return assigned


def list_count(descriptors: int) -> int:
    """Inverted lists for ``descriptors`` banked descriptors: ~sqrt(n) while that is small, then ~LIST_SIZE
    descriptors a list, so a query's probes scan about the same number of codes at any bank size."""
    return max(1, min(descriptors, max(int(np.sqrt(descriptors)), descriptors // LIST_SIZE)))


class LocalParts:
    """Banked views' keypoints as the index keeps them (``spread_of``), gathered one view at a time into blocks
    of ``BLOCK`` descriptors: at 1,000,000 images a list of every view's parsed keypoints would hold the bank's
    descriptors a second time."""

    BLOCK = 1 << 20

    def __init__(self, points: int = BANK_POINTS) -> None:
        self.points = points
        self.count = 0
        self.codes: list[np.ndarray] = []
        self._points: list[np.ndarray] = []
        self._owners: list[np.ndarray] = []

    def add(self, view: Keypoints, owner: int) -> None:
        """Keep ``view``'s spread keypoints as owned by ``owner``."""
        kept = spread_of(view, self.points)
        at = 0
        while at < len(kept):
            fill = self.count % self.BLOCK
            if fill == 0:
                self.codes.append(np.empty((self.BLOCK, 32), np.uint8))
                self._points.append(np.empty((self.BLOCK, 2), np.float32))
                self._owners.append(np.empty(self.BLOCK, np.int32))
            take = min(len(kept) - at, self.BLOCK - fill)
            self.codes[-1][fill:fill + take] = kept.descriptors[at:at + take]
            self._points[-1][fill:fill + take] = kept.points[at:at + take]
            self._owners[-1][fill:fill + take] = owner
            at += take
            self.count += take

    def trim(self) -> None:
        """Cut the last block to what was filled."""
        fill = self.count % self.BLOCK
        if fill and self.codes:
            self.codes[-1], self._points[-1], self._owners[-1] = (self.codes[-1][:fill].copy(),
                                                                  self._points[-1][:fill].copy(),
                                                                  self._owners[-1][:fill].copy())

    def positions(self) -> tuple[np.ndarray, np.ndarray]:
        """Every kept point's position and owner, in order."""
        self.trim()
        if not self._points:
            return np.zeros((0, 2), np.float32), np.zeros(0, np.int32)
        return np.concatenate(self._points), np.concatenate(self._owners)


@dataclass(frozen=True)
class LocalMatch:
    """A banked image (its position in the matcher) whose keypoints agree with the query's on one transform."""

    owner: int
    inliers: int


class LocalIndex:
    """The strongest keypoints of every banked image, searchable for an upload's keypoints."""

    def __init__(self, parts: LocalParts, exact_descriptors: int = EXACT_DESCRIPTORS) -> None:
        """``parts``' keypoints, scanned exhaustively up to ``exact_descriptors`` descriptors, indexed beyond
        (their code blocks are handed over: ``parts`` is empty of codes afterwards)."""
        self.points, self.owner = parts.positions()
        self.query_points = QUERY_POINTS
        if parts.count <= exact_descriptors:
            codes = np.concatenate(parts.codes) if parts.codes else np.zeros((0, 32), np.uint8)
            parts.codes.clear()
            self.index: ScanIndex | NearestIndex = ScanIndex(codes)
        else:
            self.index = NearestIndex(parts.codes)

    def __len__(self) -> int:
        return len(self.owner)

    @property
    def nbytes(self) -> int:
        """Memory held: the index, the points and their owners."""
        codes = self.index.nbytes if isinstance(self.index, NearestIndex) else self.index.codes.nbytes * 2
        return int(codes + self.points.nbytes + self.owner.nbytes)

    def search(self, query: Keypoints, min_inliers: int | None = None) -> list[LocalMatch]:
        """The banked images whose keypoints agree with ``query``'s on one plausible transform (at least
        ``min_inliers`` correspondences; None: ``MIN_INLIERS`` over the exhaustive scan, ``SCALE_MIN_INLIERS`` at
        bank scale), most inliers first."""
        if min_inliers is None:
            min_inliers = SCALE_MIN_INLIERS if isinstance(self.index, NearestIndex) else MIN_INLIERS
        found = [m for m in self.checked(query) if m.inliers >= min_inliers]
        return sorted(found, key=lambda m: (-m.inliers, m.owner))

    def checked(self, query: Keypoints) -> list[LocalMatch]:
        """Every banked view the geometric check tries for ``query`` (the ``GEOMETRIC_CANDIDATES`` with the most
        correspondences, at least ``MIN_CANDIDATES``), with the inliers it found, most correspondences first."""
        query, votes = self.votes(query)
        if votes is None:
            return []
        q, ids, owner = votes
        candidates, counts = np.unique(owner, return_counts=True)
        checked = []
        for at in np.argsort(-counts, kind="stable")[:GEOMETRIC_CANDIDATES]:
            if counts[at] < MIN_CANDIDATES:
                break
            selected = owner == candidates[at]
            checked.append(LocalMatch(int(candidates[at]),
                                      geometric_inliers(query.points[q[selected]], self.points[ids[selected]])))
        return checked

    def votes(self, query: Keypoints) -> tuple[Keypoints, tuple[np.ndarray, np.ndarray, np.ndarray] | None]:
        """The query as searched (its spread keypoints past the exact scan) and its correspondences: the query
        point, the banked point and the banked image of each (None without any)."""
        if not len(query) or not len(self):
            return query, None
        if isinstance(self.index, NearestIndex) and self.query_points:
            query = spread_of(query, self.query_points)
        hits = self.index.search(query.descriptors, DESCRIPTOR_RADIUS)
        if not len(hits):
            return query, None
        owner = self.owner[hits.ids].astype(np.int64)
        # one correspondence per (query point, banked image): its nearest descriptor;
        # then one per banked point, so a repeated texture cannot vote many times
        order = np.lexsort((hits.distance, owner, hits.query))
        q, ids, owner = hits.query[order], hits.ids[order], owner[order]
        pair = q * (int(owner.max()) + 1) + owner
        _, first = np.unique(pair, return_index=True)
        q, ids, owner = q[first], ids[first], owner[first]
        _, first = np.unique(ids, return_index=True)
        return query, (q[first], ids[first], owner[first])
