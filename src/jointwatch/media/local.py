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
  ``IndexBinaryIVF``, ``PROBES`` of ~sqrt(n) lists whose centres are banked descriptors drawn at
  random). Nearest, not all within the radius: at 10,000 images a generic corner's descriptor has
  thousands of neighbours within 31 bits (measured: 584,000 for 64 query descriptors), and only
  the nearest few can be the same point of the same picture.

Each query point votes once per banked image it has a candidate in; only the
``GEOMETRIC_CANDIDATES`` images with the most votes (at least ``MIN_CANDIDATES``) get the
geometric check (RANSAC, ``signature.geometric_inliers``). Memory per banked image:
``BANK_POINTS`` x (32 bytes of descriptor in faiss + 8 of its id + 8 of position + 4 of owner),
about 6.6 KB at 128 (``LocalIndex.nbytes``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from jointwatch.media.deps import require
from jointwatch.media.index import Hits, ScanIndex, as_codes
from jointwatch.media.signature import (
    BANK_FEATURES,
    DESCRIPTOR_RADIUS,
    MIN_CANDIDATES,
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
# the nearest banked descriptors each query descriptor brings, from this many inverted lists
NEAREST, PROBES, MAX_LISTS = 4, 4, 16_384
# banked images whose correspondences are checked geometrically, most votes first
GEOMETRIC_CANDIDATES = 8


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
    neighbours within 31 bits, and only the nearest few can be the same point of the same picture.
    """

    def __init__(self, codes: np.ndarray, k: int = NEAREST, nprobe: int = PROBES) -> None:
        faiss = require("faiss", "faiss-cpu")
        codes = as_codes(codes)
        self.count = len(codes)
        self.k = k
        lists = max(1, min(MAX_LISTS, int(np.sqrt(len(codes)))))
        self._quantizer = faiss.IndexBinaryFlat(256)
        self._index = faiss.IndexBinaryIVF(self._quantizer, 256, lists)
        # the lists' centres are banked descriptors drawn at random: k-means (faiss trains binary IVF on
        # 256 floats a code) took minutes at 100,000 images and spread ORB's clusters little better
        self._quantizer.add(codes[np.random.default_rng(0).choice(len(codes), lists, replace=False)])
        self._index.is_trained = True
        self._index.add(codes)   # faiss keeps its own copy: ours is not held
        self._index.nprobe = min(nprobe, lists)

    def __len__(self) -> int:
        return self.count

    @property
    def probes(self) -> int:
        """How many inverted lists a query descriptor's search scans."""
        return int(self._index.nprobe)

    @probes.setter
    def probes(self, value: int) -> None:
        self._index.nprobe = max(1, min(value, self._index.nlist))

    @property
    def nbytes(self) -> int:
        """faiss's copy of the codes with an 8-byte id each, and the list centroids."""
        return int(self.count * (32 + 8) + self._index.nlist * 32)

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


@dataclass(frozen=True)
class LocalMatch:
    """A banked image (its position in the matcher) whose keypoints agree with the query's on one transform."""

    owner: int
    inliers: int


class LocalIndex:
    """The strongest keypoints of every banked image, searchable for an upload's keypoints."""

    def __init__(self, views: list[Keypoints], owners: list[int], points: int = BANK_POINTS,
                 exact_descriptors: int = EXACT_DESCRIPTORS) -> None:
        kept = [spread_of(view, points) for view in views]
        self.owner = np.repeat(np.asarray(owners, dtype=np.int32), [len(v) for v in kept])
        self.points = (np.concatenate([v.points for v in kept]) if kept else np.zeros((0, 2), np.float32)).astype(
            np.float32)
        codes = np.concatenate([v.descriptors for v in kept]) if kept else np.zeros((0, 32), np.uint8)
        self.index: ScanIndex | NearestIndex = (ScanIndex(codes) if len(codes) <= exact_descriptors
                                                else NearestIndex(codes))

    def __len__(self) -> int:
        return len(self.owner)

    @property
    def nbytes(self) -> int:
        """Memory held: the index, the points and their owners."""
        codes = self.index.nbytes if isinstance(self.index, NearestIndex) else self.index.codes.nbytes * 2
        return int(codes + self.points.nbytes + self.owner.nbytes)

    def search(self, query: Keypoints, min_inliers: int) -> list[LocalMatch]:
        """The banked images whose keypoints agree with ``query``'s on one plausible transform, most inliers first."""
        if not len(query) or not len(self):
            return []
        hits = self.index.search(query.descriptors, DESCRIPTOR_RADIUS)
        if not len(hits):
            return []
        owner = self.owner[hits.ids].astype(np.int64)
        # one correspondence per (query point, banked image): its nearest descriptor;
        # then one per banked point, so a repeated texture cannot vote many times
        order = np.lexsort((hits.distance, owner, hits.query))
        q, ids, owner = hits.query[order], hits.ids[order], owner[order]
        pair = q * (int(owner.max()) + 1) + owner
        _, first = np.unique(pair, return_index=True)
        q, ids, owner = q[first], ids[first], owner[first]
        _, first = np.unique(ids, return_index=True)
        q, ids, owner = q[first], ids[first], owner[first]
        candidates, votes = np.unique(owner, return_counts=True)
        best = np.argsort(-votes, kind="stable")[:GEOMETRIC_CANDIDATES]
        found = []
        for at in best:
            if votes[at] < MIN_CANDIDATES:
                break
            selected = owner == candidates[at]
            inliers = geometric_inliers(query.points[q[selected]], self.points[ids[selected]])
            if inliers >= min_inliers:
                found.append(LocalMatch(int(candidates[at]), inliers))
        return sorted(found, key=lambda m: (-m.inliers, m.owner))
