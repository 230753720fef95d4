"""Exact Hamming-radius search over 256-bit codes (PDQ hashes, ORB descriptors): multi-index hashing.

A code is cut into m chunks (16 of 16 bits, or 12 of 21 bits for large banks). If two codes
differ in at most ``r`` bits, then by pigeonhole at least one chunk differs in at most
``r // m`` bits; so looking up every chunk value within that many flipped bits of the
query's, in one table per chunk, finds every code within ``r`` — exactly, no approximation —
and each candidate is then checked by a popcount of its full code.

The tables are plain sorted arrays (ids ordered by chunk value, plus 2^width + 1 offsets), so
the index costs 32 bytes of code + 4 bytes of id per chunk per hash and builds by sorting. Searching
runs a numba-compiled loop (``index_kernel``) when numba is installed, else a few vectorised
NumPy passes; ``brute_force_search`` is the reference the tests hold both to.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations

import numpy as np

CODE_BYTES = 32
MAX_FLIPS = 2          # beyond that the probes cost more than a scan
_BATCH = 64            # queries per vectorised pass: bounds the candidate arrays' memory


def _kernel() -> Callable[..., int] | None:
    """The compiled search loop (None without numba), imported at the first search, not with this module.

    Loading numba takes up to a second: the service and the CLI import the media package for its
    types and must not pay that until something is matched.
    """
    from jointwatch.media.index_kernel import KERNEL

    return KERNEL


@dataclass(frozen=True)
class Hits:
    """Every (query, code) pair within the radius, sorted by query then code id."""

    query: np.ndarray      # int64 row of the query
    ids: np.ndarray        # int64 id of the indexed code
    distance: np.ndarray   # int32 Hamming distance

    def __len__(self) -> int:
        return len(self.ids)


def as_codes(codes: np.ndarray | bytes | list[bytes]) -> np.ndarray:
    """Codes as a C-contiguous (n, 32) uint8 array; ValueError for any other shape."""
    if isinstance(codes, bytes):
        codes = np.frombuffer(codes, dtype=np.uint8)
    elif isinstance(codes, list):
        codes = np.frombuffer(b"".join(codes), dtype=np.uint8) if codes else np.zeros(0, np.uint8)
    array = np.ascontiguousarray(codes, dtype=np.uint8)
    if array.ndim == 1:
        if array.size % CODE_BYTES:
            raise ValueError(f"{array.size} bytes is not a whole number of {CODE_BYTES}-byte codes")
        array = array.reshape(-1, CODE_BYTES)
    if array.ndim != 2 or array.shape[1] != CODE_BYTES:
        raise ValueError(f"codes must be (n, {CODE_BYTES}) bytes, not {array.shape}")
    return array


def _words(codes: np.ndarray) -> np.ndarray:
    return codes.view(np.uint64).reshape(-1, CODE_BYTES // 8)


def _flip_masks(flips: int, width: int) -> np.ndarray:
    masks = [0]
    for k in range(1, flips + 1):
        masks += [sum(1 << b for b in bits) for bits in combinations(range(width), k)]
    return np.array(masks, dtype=np.int64)


def _empty() -> Hits:
    return Hits(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int32))


def _sorted(query: np.ndarray, ids: np.ndarray, distance: np.ndarray) -> Hits:
    order = np.lexsort((ids, query))
    return Hits(query[order], ids[order], distance[order])


def brute_force_search(codes: np.ndarray, queries: np.ndarray, radius: int) -> Hits:
    """Every code within ``radius`` of every query, by comparing each query with every code."""
    words, qwords = _words(as_codes(codes)), _words(as_codes(queries))
    found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for q in range(len(qwords)):
        distance = np.bitwise_count(words ^ qwords[q]).sum(axis=1, dtype=np.int32)
        ids = np.flatnonzero(distance <= radius)
        found.append((np.full(len(ids), q, np.int64), ids.astype(np.int64), distance[ids]))
    if not found:
        return _empty()
    return _sorted(*(np.concatenate(parts) for parts in zip(*found, strict=True)))


@dataclass(frozen=True)
class Layout:
    """How codes are cut: ``per_word`` chunks of ``width`` bits from each of the four 64-bit words."""

    per_word: int
    width: int

    @property
    def chunks(self) -> int:
        return 4 * self.per_word

    def flips_for(self, radius: int) -> int:
        """Flips per chunk that make a search at ``radius`` exact (pigeonhole over the chunks)."""
        return radius // self.chunks


# 16 chunks of 16 bits (17 probes per chunk at radius 31): small tables, right for up to ~1M codes.
SMALL = Layout(per_word=4, width=16)
# 12 chunks of 21 bits (232 probes per chunk at radius 31, 4 bits unused): buckets stay ~1-5
# codes deep at 10M, so a query checks ~13k candidates instead of ~42k.
LARGE = Layout(per_word=3, width=21)
LARGE_FROM = 1 << 21


def chunk_values(words: np.ndarray, layout: Layout, j: int) -> np.ndarray:
    """Chunk ``j`` of every code, as int64."""
    shift = np.uint64(layout.width * (j % layout.per_word))
    mask = np.uint64((1 << layout.width) - 1)
    return ((words[:, j // layout.per_word] >> shift) & mask).astype(np.int64)


class HammingIndex:
    """Codes by id (their row), searchable exactly within a Hamming radius."""

    def __init__(self, codes: np.ndarray, compiled: bool = True, layout: Layout | None = None) -> None:
        """``compiled``: use the numba loop when numba is installed (same answers, faster)."""
        self.compiled = compiled
        self.codes = as_codes(codes)
        self.words = _words(self.codes)
        n = len(self.codes)
        self.layout = layout or (LARGE if n >= LARGE_FROM else SMALL)
        chunks, size = self.layout.chunks, 1 << self.layout.width
        self.order = np.empty((chunks, n), dtype=np.int32)
        self.offsets = np.empty((chunks, size + 1), dtype=np.int64 if n >= 2**31 else np.int32)
        for j in range(chunks):
            column = chunk_values(self.words, self.layout, j)
            self.order[j] = np.argsort(column)  # any order within a bucket will do
            self.offsets[j, 0] = 0
            np.cumsum(np.bincount(column, minlength=size), out=self.offsets[j, 1:])
        self._flat_order = self.order.reshape(-1)

    def __len__(self) -> int:
        return len(self.codes)

    @property
    def nbytes(self) -> int:
        """Memory held by the index (codes, tables, offsets)."""
        return int(self.codes.nbytes + self.order.nbytes + self.offsets.nbytes)

    def search(self, queries: np.ndarray, radius: int) -> Hits:
        """Every indexed code within ``radius`` bits of each query (exact: the same as brute force)."""
        queries = as_codes(queries)
        if radius < 0 or len(self) == 0 or len(queries) == 0:
            return _empty()
        flips = self.layout.flips_for(radius)
        if flips > MAX_FLIPS:
            return brute_force_search(self.codes, queries, radius)
        masks = _flip_masks(flips, self.layout.width)
        kernel = _kernel() if self.compiled else None
        if kernel is not None:
            return self._search_compiled(kernel, queries, radius, flips, masks)
        parts = [self._search_batch(queries[s:s + _BATCH], s, radius, masks) for s in range(0, len(queries), _BATCH)]
        return _sorted(*(np.concatenate(p) for p in zip(*parts, strict=True)))

    def _search_compiled(self, kernel: Callable[..., int], queries: np.ndarray, radius: int, flips: int,
                         masks: np.ndarray) -> Hits:
        qwords = _words(queries)
        capacity = max(1024, 16 * len(queries))
        while True:
            out_query = np.empty(capacity, np.int64)
            out_id = np.empty(capacity, np.int64)
            out_distance = np.empty(capacity, np.int32)
            count = kernel(self.words, self.order, self.offsets, self.layout.per_word, self.layout.width, qwords,
                           masks, flips, radius, out_query, out_id, out_distance)
            if count >= 0:
                return _sorted(out_query[:count], out_id[:count], out_distance[:count])
            capacity *= 4  # more hits than room (a query near a big cluster): search again with more

    def _search_batch(self, queries: np.ndarray, first: int, radius: int,
                      masks: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n, chunks = len(self), self.layout.chunks
        q = len(queries)
        qwords = _words(queries)
        qchunks = np.stack([chunk_values(qwords, self.layout, j) for j in range(chunks)], axis=1)
        probes = qchunks[:, :, None] ^ masks[None, None, :]                       # (q, chunks, masks)
        table = np.broadcast_to(np.arange(chunks)[None, :, None], probes.shape)
        starts = self.offsets[table, probes].reshape(-1).astype(np.int64)
        lengths = self.offsets[table, probes + 1].reshape(-1).astype(np.int64) - starts
        total = int(lengths.sum())
        if total == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int32)
        # expand every [start, start+length) of every probe into positions of the flat tables
        base = table.reshape(-1) * n + starts
        run_start = np.cumsum(lengths) - lengths
        positions = np.arange(total, dtype=np.int64) - np.repeat(run_start - base, lengths)
        ids = self._flat_order[positions].astype(np.int64)
        rows = np.repeat(np.repeat(np.arange(q), chunks * len(masks)), lengths)
        distance = np.bitwise_count(self.words[ids] ^ qwords[rows]).sum(axis=1, dtype=np.int32)
        keep = distance <= radius
        rows, ids, distance = rows[keep], ids[keep], distance[keep]
        # a code found through several chunks is reported once
        _, unique = np.unique(rows * n + ids, return_index=True)
        return rows[unique] + first, ids[unique], distance[unique]


class ScanIndex:
    """The same answers by an exhaustive SIMD scan (faiss ``IndexBinaryFlat``).

    Used for local-feature descriptors: ORB descriptors crowd into a few chunk values (their
    bits are correlated), which makes multi-index buckets huge, while a scan does not care.
    """

    def __init__(self, codes: np.ndarray) -> None:
        from jointwatch.media.deps import require

        faiss = require("faiss", "faiss-cpu")
        self.codes = as_codes(codes)
        self._index = faiss.IndexBinaryFlat(CODE_BYTES * 8)
        if len(self.codes):
            self._index.add(self.codes)

    def __len__(self) -> int:
        return len(self.codes)

    def search(self, queries: np.ndarray, radius: int) -> Hits:
        """Every code within ``radius`` bits of each query."""
        queries = as_codes(queries)
        if radius < 0 or len(self) == 0 or len(queries) == 0:
            return _empty()
        # faiss keeps distances strictly under its radius
        limits, distance, ids = self._index.range_search(queries, radius + 1)
        rows = np.repeat(np.arange(len(queries), dtype=np.int64), np.diff(limits).astype(np.int64))
        distance = distance.astype(np.int32)
        keep = distance <= radius
        return _sorted(rows[keep], ids[keep].astype(np.int64), distance[keep])
