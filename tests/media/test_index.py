"""The multi-index hash index returns exactly what brute force returns, for every query and radius."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jointwatch.media.index import LARGE, SMALL, HammingIndex, ScanIndex, brute_force_search


def _near(codes: np.ndarray, rng: np.random.Generator, count: int, max_flips: int) -> np.ndarray:
    """Queries made from indexed codes with up to ``max_flips`` random bits flipped."""
    queries = codes[rng.integers(0, len(codes), count)].copy()
    bits = np.unpackbits(queries, axis=1)
    for row in bits:
        flips = rng.choice(256, rng.integers(0, max_flips + 1), replace=False)
        row[flips] ^= 1
    return np.packbits(bits, axis=1)


def _same(a, b) -> bool:  # type: ignore[no-untyped-def]
    return (np.array_equal(a.query, b.query) and np.array_equal(a.ids, b.ids)
            and np.array_equal(a.distance, b.distance))


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), size=st.integers(0, 3000), radius=st.integers(0, 56),
       duplicates=st.booleans())
def test_index_equals_brute_force(seed: int, size: int, radius: int, duplicates: bool) -> None:
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 256, (size, 32), dtype=np.uint8)
    if duplicates and size:
        # clustered data: many codes sharing chunks, as near-duplicate images do
        codes[size // 2:] = _near(codes[: max(1, size // 10)], rng, size - size // 2, 20)
    queries = (_near(codes, rng, 40, radius + 8) if size else rng.integers(0, 256, (5, 32), dtype=np.uint8))
    expected = brute_force_search(codes, queries, radius)
    for compiled in (True, False):  # the numba loop and the NumPy passes
        assert _same(HammingIndex(codes, compiled, SMALL).search(queries, radius), expected), compiled
    assert _same(ScanIndex(codes).search(queries, radius), expected)


@pytest.mark.parametrize("radius", [0, 9, 23, 31, 35])
def test_the_large_layout_equals_brute_force(radius: int) -> None:
    # the layout of banks over 2M hashes (12 chunks of 21 bits), on a small bank: same answers
    rng = np.random.default_rng(radius)
    codes = rng.integers(0, 256, (4000, 32), dtype=np.uint8)
    codes[2000:] = _near(codes[:200], rng, 2000, 20)
    queries = _near(codes, rng, 200, radius + 8)
    expected = brute_force_search(codes, queries, radius)
    assert len(expected) >= 10  # the test sees real hits, not only empty answers
    for compiled in (True, False):
        assert _same(HammingIndex(codes, compiled, LARGE).search(queries, radius), expected), compiled


def test_radius_31_finds_every_code_at_distance_31_and_none_at_32() -> None:
    rng = np.random.default_rng(7)
    base = rng.integers(0, 256, (1, 32), dtype=np.uint8)
    bits = np.unpackbits(base, axis=1)
    at31, at32 = bits.copy(), bits.copy()
    at31[0, :31] ^= 1
    at32[0, 100:132] ^= 1
    codes = np.concatenate([rng.integers(0, 256, (500, 32), dtype=np.uint8), np.packbits(at31, axis=1),
                            np.packbits(at32, axis=1)])
    for layout in (SMALL, LARGE):
        hits = HammingIndex(codes, layout=layout).search(base, 31)
        assert hits.ids.tolist() == [500] and hits.distance.tolist() == [31]


def test_bad_code_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="32"):
        HammingIndex(np.zeros((3, 16), np.uint8))
    with pytest.raises(ValueError, match="whole number"):
        HammingIndex(np.zeros(33, np.uint8))
