"""The local-feature index at bank scale (media.local): lists grow with the bank, their centres are found through
lists of their own past a few thousand, and the bank's keypoints are gathered in blocks without being held twice."""

from __future__ import annotations

import numpy as np
import pytest

from jointwatch.media import local
from jointwatch.media.local import LocalIndex, LocalParts, NearestIndex, balanced_lists, list_count
from jointwatch.media.signature import MIN_INLIERS, Keypoints


def _near(codes: np.ndarray, rng: np.random.Generator, flips: int) -> np.ndarray:
    bits = np.unpackbits(codes, axis=1)
    for row in bits:
        row[rng.choice(256, flips, replace=False)] ^= 1
    return np.packbits(bits, axis=1)


def test_lists_grow_as_the_square_root_then_with_the_bank() -> None:
    assert list_count(1) == 1
    assert list_count(10_000) == 100                     # sqrt while it is the larger
    assert list_count(12_800_000) == 12_800_000 // local.LIST_SIZE
    assert list_count(128_000_000) == 160_000            # a million images of 128 keypoints


@pytest.mark.parametrize("flat_lists", [10_000, 4])      # centres scanned, then found through their own lists
def test_an_edited_descriptor_finds_its_banked_one(monkeypatch: pytest.MonkeyPatch, flat_lists: int) -> None:
    monkeypatch.setattr(local, "FLAT_LISTS", flat_lists)
    monkeypatch.setattr(local, "LIST_SIZE", 50)
    rng = np.random.default_rng(3)
    codes = rng.integers(0, 256, (20_000, 32), dtype=np.uint8)
    blocks = [codes[:7_000].copy(), codes[7_000:].copy()]
    index = NearestIndex(blocks, nprobe=16)
    assert blocks == []                                   # handed to faiss block by block
    assert len(index) == 20_000 and index._index.nlist == 400
    assert index._nested is (flat_lists == 4)
    wanted = rng.choice(20_000, 200, replace=False)
    hits = index.search(_near(codes[wanted], rng, 12), radius=31)
    found = {(int(q), int(i)) for q, i in zip(hits.query, hits.ids, strict=True)}
    share = np.mean([(q, int(w)) in found for q, w in enumerate(wanted)])
    # random codes sit ~128 bits apart: within 31 bits only the planted one, and most are found
    assert share >= 0.9
    assert set(hits.ids.tolist()) <= set(wanted.tolist())
    assert (hits.distance <= 31).all()


@pytest.mark.parametrize("flat_lists", [10_000, 4])
def test_a_nested_index_probes_more_lists_for_more_neighbours_by_default(monkeypatch: pytest.MonkeyPatch,
                                                                         flat_lists: int) -> None:
    """Past FLAT_LISTS lists (a bank of ~25,000 images) the defaults are the ones that kept every edit >= 96% at
    1,000,000 images; below, the ones measured at 10,000 (more would only cost time there)."""
    monkeypatch.setattr(local, "FLAT_LISTS", flat_lists)
    monkeypatch.setattr(local, "LIST_SIZE", 50)
    codes = np.random.default_rng(5).integers(0, 256, (20_000, 32), dtype=np.uint8)
    index = NearestIndex([codes])
    nested = flat_lists == 4
    assert (index.probes, index.k) == ((local.SCALE_PROBES, local.SCALE_NEAREST) if nested
                                       else (local.PROBES, local.NEAREST))
    assert local.SCALE_PROBES > local.PROBES and local.SCALE_NEAREST > local.NEAREST
    if nested:
        # ~sqrt(400) lists of the 400 centres; a query searches more of them than placing a code did
        assert index._quantizer.nlist == 20 and index._quantizer.ntotal == index._index.nlist == 400
        assert index._quantizer.nprobe == local.CENTRE_PROBES > local.CENTRE_PROBES_BUILD
    # no cap on the codes a query scans by default; a share caps them at that many times the probes' even share
    assert index.scan_share is None and index._index.max_codes == 0
    index.scan_share = 1.0
    assert index._index.max_codes == round(index.probes * 20_000 / index._index.nlist)
    index.probes = 2 * index.probes                       # the cap follows the probes
    assert index._index.max_codes == round(index.probes * 20_000 / index._index.nlist)
    hits = index.search(codes[:50], radius=0)             # capped, a banked code is still its own nearest
    assert sorted(set(hits.query.tolist())) == list(range(50))
    index.scan_share = None
    assert index._index.max_codes == 0


def test_a_full_list_sends_a_code_to_its_next_nearest_centre() -> None:
    """Each code goes to the first of its nearest centres whose list has room, earlier codes first; a code whose
    every choice is full goes to the emptiest of them."""
    near = np.array([[0, 1, 2], [0, 2, 1], [1, 0, 2], [0, 1, 2]])
    fill = np.zeros(3, np.int64)
    # code 1 finds list 0 taken by code 0 and goes to its next, 2; code 3 finds all three full: the first emptiest
    assert balanced_lists(near, fill, cap=1).tolist() == [0, 2, 1, 0]
    assert fill.tolist() == [2, 1, 1]
    # the next block: its code's nearest, list 0, is the fullest; it goes to list 1, the emptiest of its choices
    assert balanced_lists(np.array([[0, 1, 2]]), fill, cap=1).tolist() == [1]
    assert fill.tolist() == [2, 2, 1]
    # a centre missing from a code's choices (faiss gives -1 when it finds fewer) is never chosen
    assert balanced_lists(np.array([[-1, 3]]), np.zeros(4, np.int64), cap=1).tolist() == [3]


@pytest.mark.parametrize("flat_lists", [10_000, 4])
def test_no_list_holds_more_than_its_cap_and_every_code_is_still_found(monkeypatch: pytest.MonkeyPatch,
                                                                       flat_lists: int) -> None:
    """Capped at 1.2 times the even share (60 codes), the lists of 20,000 random codes hold at most the cap
    (without it the largest holds 71 or 80), and a banked code searched for is found at distance 0: a displaced code
    sits in one of its LIST_CHOICES nearest centres' lists, which its own search probes."""
    monkeypatch.setattr(local, "FLAT_LISTS", flat_lists)
    monkeypatch.setattr(local, "LIST_SIZE", 50)
    codes = np.random.default_rng(6).integers(0, 256, (20_000, 32), dtype=np.uint8)
    monkeypatch.setattr(local, "LIST_CAP", None)
    assert NearestIndex([codes.copy()]).list_sizes().max() > 60
    monkeypatch.setattr(local, "LIST_CAP", 1.2)
    index = NearestIndex([codes.copy()], nprobe=local.LIST_CHOICES, k=1)
    sizes = index.list_sizes()
    assert sizes.sum() == 20_000 and sizes.max() <= 60
    hits = index.search(codes, radius=0)
    assert hits.query.tolist() == list(range(20_000)) and hits.ids.tolist() == list(range(20_000))


def test_parts_cross_blocks_and_keep_each_points_owner(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(LocalParts, "BLOCK", 100)
    rng = np.random.default_rng(4)
    views = [Keypoints(rng.uniform(0, 512, (n, 2)).astype(np.float32), rng.integers(0, 256, (n, 32), np.uint8))
             for n in (30, 90, 45, 0, 70)]
    parts = LocalParts(points=60)
    for owner, view in enumerate(views):
        parts.add(view, owner * 10)
    assert parts.count == 30 + 60 + 45 + 60 and len(parts.codes) == 2
    index = LocalIndex(parts)                             # 195 codes: the exhaustive scan
    assert parts.codes == []
    assert np.bincount(index.owner).tolist()[::10] == [30, 60, 45, 0, 60]
    # each kept point is where its view had it, with its own descriptor
    third = views[2]
    mine = index.owner == 20
    assert np.array_equal(index.points[mine], third.points)
    hits = index.index.search(third.descriptors, radius=0)
    assert set(index.owner[hits.ids].tolist()) == {20}


def test_at_scale_an_upload_searches_only_its_spread_query_points_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    """``QUERY_POINTS`` (off by default) limits the upload's descriptors an index at scale searches to that many,
    spread over the picture as a banked image's; the exhaustive scan always searches them all."""
    monkeypatch.setattr(local, "LIST_SIZE", 50)
    rng = np.random.default_rng(6)
    views = [Keypoints(rng.uniform(0, 512, (128, 2)).astype(np.float32), rng.integers(0, 256, (128, 32), np.uint8))
             for _ in range(40)]
    searched: list[int] = []

    def parts() -> LocalParts:
        made = LocalParts()
        for owner, view in enumerate(views):
            made.add(view, owner)
        return made

    upload = views[7]
    for limit, exact, expected in ((None, 0, 128), (40, 0, 40), (40, 10**9, 128)):
        monkeypatch.setattr(local, "QUERY_POINTS", limit)
        index = LocalIndex(parts(), exact_descriptors=exact)
        search = index.index.search
        monkeypatch.setattr(index.index, "search",
                            lambda codes, radius, search=search: searched.append(len(codes)) or search(codes, radius))
        assert isinstance(index.index, NearestIndex) is (exact == 0)
        found = index.search(upload, min_inliers=12)
        assert searched[-1] == expected
        # the banked image itself is found whichever points are searched
        assert found and found[0].owner == 7


def test_at_bank_scale_a_match_needs_fewer_inliers_than_over_the_exhaustive_scan(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A banked image keeps 128 keypoints at scale, so an edited copy has fewer to agree on: 10 inliers make a match
    there (``SCALE_MIN_INLIERS``), 12 over the exhaustive scan (``MIN_INLIERS``), unless the caller says."""
    monkeypatch.setattr(local, "LIST_SIZE", 50)
    rng = np.random.default_rng(8)
    views = [Keypoints(rng.uniform(0, 512, (128, 2)).astype(np.float32), rng.integers(0, 256, (128, 32), np.uint8))
             for _ in range(40)]

    def index(exact: int) -> LocalIndex:
        made = LocalParts()
        for owner, view in enumerate(views):
            made.add(view, owner)
        return LocalIndex(made, exact_descriptors=exact)

    at_scale, scanned = index(0), index(10**9)
    assert isinstance(at_scale.index, NearestIndex) and not isinstance(scanned.index, NearestIndex)
    assert (local.SCALE_MIN_INLIERS, MIN_INLIERS) == (10, 12)
    for kept in (9, 10, 11, 12):
        # the first ``kept`` points of banked image 7, moved 3 px: that many correspondences on one transform
        upload = Keypoints(views[7].points[:kept] + 3.0, views[7].descriptors[:kept])
        for built, need in ((at_scale, 10), (scanned, 12)):
            found = built.search(upload)
            assert [(m.owner, m.inliers) for m in found] == ([(7, kept)] if kept >= need else [])
        assert [m.owner for m in at_scale.search(upload, min_inliers=12)] == ([7] if kept >= 12 else [])
