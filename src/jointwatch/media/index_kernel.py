"""The multi-index search loop compiled with numba: probe, verify, and report each code once.

The NumPy path in ``index.py`` does the same work in whole-array passes; this loop does it
per candidate, in registers, without the passes' temporary arrays, and releases the GIL so
threads search in parallel. ``KERNEL`` is None when numba is not installed.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

KERNEL: Callable[..., int] | None

try:
    from numba import njit
except ImportError:  # numba is optional: the NumPy path gives the same answers, slower
    KERNEL = None
else:
    @njit(inline="always")
    def _popcount(x):  # type: ignore[no-untyped-def]
        # the SWAR popcount; LLVM turns it into one POPCNT instruction
        x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
        x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
        x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
        # as int64: mixing uint64 with int64 would make NumPy (and numba) compute in floats
        return np.int64((x * np.uint64(0x0101010101010101)) >> np.uint64(56))

    @njit(nogil=True, cache=True)
    def _search(words, order, offsets, per_word, width, qwords, masks, flips, radius,  # type: ignore[no-untyped-def]
                out_query, out_id, out_distance):
        """Fill the out arrays with (query, id, distance) and return the count; -1 if they are too small."""
        chunks = order.shape[0]
        low = np.uint64((1 << width) - 1)
        found = 0
        for q in range(qwords.shape[0]):
            for j in range(chunks):
                shift = np.uint64(width * (j % per_word))
                qchunk = (qwords[q, j // per_word] >> shift) & low
                for m in range(masks.shape[0]):
                    value = np.int64(qchunk ^ np.uint64(masks[m]))
                    for at in range(offsets[j, value], offsets[j, value + 1]):
                        cand = order[j, at]
                        distance = 0
                        for w in range(4):
                            distance += _popcount(words[cand, w] ^ qwords[q, w])
                        if distance > radius:
                            continue
                        # reported through the first table that finds it: skip if an earlier one did
                        seen = False
                        for k in range(j):
                            ks = np.uint64(width * (k % per_word))
                            diff = ((words[cand, k // per_word] ^ qwords[q, k // per_word]) >> ks) & low
                            if _popcount(diff) <= flips:
                                seen = True
                                break
                        if seen:
                            continue
                        if found == out_id.shape[0]:
                            return -1
                        out_query[found] = q
                        out_id[found] = cand
                        out_distance[found] = distance
                        found += 1
        return found

    KERNEL = _search
