"""Distractor images for the media benchmark at bank scale: drawn by code, never photographs of anything.

Each distractor is a seeded picture: a colour-noise field blown up to a random scale (soft
blobs), then 5-25 random filled or outlined circles, rectangles, polygons and runs of random
capital letters in OpenCV's fonts, half of them blurred. They are unrelated to every sample
photograph, so any match on one is a false match. What the bank keeps of them (keypoints by the
bank's own ``bank_keypoints``; PDQ with its quality, the centred and the trimmed PDQ, by the
bank's own functions) is cached under ``--cache`` so a rerun does not redraw them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from jointwatch.media.hashing import pdq_hash
from jointwatch.media.local import bank_keypoints
from jointwatch.media.signature import centred_pdq, trimmed_pdq

CHUNK = 2_000
KEEP = 128   # keypoints cached per distractor (what a bank at scale indexes: media.local.BANK_POINTS)
FIELDS = ("points", "descriptors", "counts", "pdq", "pdq_quality", "centred", "trimmed")
CACHE_NAME = "distractors-v2-{start}.npz"   # v2: spread keypoints and real PDQ hashes (v1: strongest, no PDQ)


@dataclass(frozen=True)
class Distractors:
    """What the bank keeps of each distractor: keypoints (points (n, KEEP, 2), descriptors (n, KEEP, 32), counts),
    PDQ hashes (n, 32) with their quality, the centred and trimmed PDQ (n, 32; all zero bytes: none)."""

    points: np.ndarray
    descriptors: np.ndarray
    counts: np.ndarray
    pdq: np.ndarray
    pdq_quality: np.ndarray
    centred: np.ndarray
    trimmed: np.ndarray

    def __len__(self) -> int:
        return len(self.counts)


def distractor(seed: int) -> np.ndarray:
    """One drawn RGB picture, 300-520 pixels a side, the same for the same seed."""
    import cv2

    rng = np.random.default_rng(seed)
    h, w = int(rng.integers(300, 520)), int(rng.integers(300, 520))
    cells = (max(2, h // int(rng.integers(8, 64))), max(2, w // int(rng.integers(8, 64))), 3)
    image = cv2.resize(rng.integers(0, 256, cells, dtype=np.uint8), (w, h), interpolation=cv2.INTER_CUBIC)
    for _ in range(int(rng.integers(5, 25))):
        color = tuple(int(c) for c in rng.integers(0, 256, 3))
        kind = int(rng.integers(0, 4))
        at = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        if kind == 0:
            cv2.circle(image, at, int(rng.integers(5, 80)), color, int(rng.choice([-1, 2, 4])))
        elif kind == 1:
            corner = (int(rng.integers(0, w)), int(rng.integers(0, h)))
            cv2.rectangle(image, at, corner, color, int(rng.choice([-1, 3])))
        elif kind == 2:
            corners = rng.integers(0, [w, h], (int(rng.integers(3, 7)), 2)).astype(np.int32)
            cv2.fillPoly(image, [corners], color)
        else:
            text = "".join(chr(int(c)) for c in rng.integers(65, 91, int(rng.integers(3, 10))))
            cv2.putText(image, text, at, int(rng.integers(0, 8)), float(rng.uniform(0.5, 2.5)), color,
                        int(rng.integers(1, 4)))
    if rng.random() < 0.5:
        image = cv2.GaussianBlur(image, (0, 0), float(rng.uniform(0.5, 2)))
    return np.ascontiguousarray(image)


def _chunk(seeds: range) -> dict[str, np.ndarray]:
    out = {"points": np.zeros((len(seeds), KEEP, 2), np.float32), "descriptors": np.zeros((len(seeds), KEEP, 32),
                                                                                          np.uint8),
           "counts": np.zeros(len(seeds), np.int32), "pdq": np.zeros((len(seeds), 32), np.uint8),
           "pdq_quality": np.zeros(len(seeds), np.int32), "centred": np.zeros((len(seeds), 32), np.uint8),
           "trimmed": np.zeros((len(seeds), 32), np.uint8)}
    for row, seed in enumerate(seeds):
        image = distractor(seed)
        found = bank_keypoints(image, KEEP)
        out["counts"][row] = len(found)
        out["points"][row, :len(found)] = found.points
        out["descriptors"][row, :len(found)] = found.descriptors
        value, out["pdq_quality"][row] = pdq_hash(image)
        out["pdq"][row] = np.frombuffer(bytes.fromhex(value), np.uint8)
        for key, hashed in (("centred", centred_pdq(image)), ("trimmed", trimmed_pdq(image))):
            if hashed:
                out[key][row] = np.frombuffer(bytes.fromhex(hashed), np.uint8)
    return out


def distractor_keypoints(count: int, cache: Path, processes: int = 2) -> Distractors:
    """What the bank keeps of distractors 0..count-1 (``Distractors``).

    Cached in chunks of ``CHUNK`` seeds, so a larger bank reuses a smaller one's distractors.
    """
    cache.mkdir(parents=True, exist_ok=True)
    starts = range(0, count, CHUNK)
    missing = [s for s in starts if not (cache / CACHE_NAME.format(start=s)).exists()]
    # niced once per worker (not per chunk: that added 5 a chunk until the drawing ran at 19)
    with ProcessPoolExecutor(processes, initializer=os.nice, initargs=(5,)) as pool:
        for start, arrays in zip(missing, pool.map(_chunk, [range(s, s + CHUNK) for s in missing]), strict=True):
            np.savez(cache / CACHE_NAME.format(start=start), **arrays)
    parts = [np.load(cache / CACHE_NAME.format(start=s)) for s in starts]
    keep = count - starts[-1] if count % CHUNK else CHUNK
    return Distractors(*(np.concatenate([p[key] for p in parts[:-1]] + [parts[-1][key][:keep]]) for key in FIELDS))


def synthesized_keypoints(count: int, drawn: Distractors, seed: int = 2, block: int = 32_768,
                          how: str = "mixed") -> Iterator[Distractors]:
    """``count`` more distractors made from drawn ones without drawing, in blocks of ``block``: distractor
    ``i % n``'s keypoints moved by a random similarity transform (rotation, scale 0.7-1.4, shift), and their
    descriptors, by ``how``:

    * ``mixed`` (the default since 2026-12-05): each keypoint takes the descriptor of a keypoint of another drawn
      distractor, picked at random, with each bit flipped with probability 0.02 (~5 bits): real ORB descriptors,
      in no drawn picture's arrangement;
    * ``noised`` (the rounds before): the same distractor's descriptors, each bit flipped with probability 0.1
      (~26 bits). A code moved that far lands off the descriptors' manifold, nearer to nothing than its
      source is: the sources became hubs of the inverted file. At 50,000 images, 2,500 drawn and the rest
      noised, a random code's list held 18,904 codes (37% of the codes in 1% of the lists); all 50,000 drawn,
      1,371 (5%). Mixed: ``benchmarks/bench_media.py`` prints the sizes.

    Their PDQ and centred PDQ are random codes of quality 100 (unrelated pictures' hashes sit ~128 bits apart, as
    random codes do), no trimmed PDQ. In blocks: at 1,000,000 the whole set's draws would take tens of GB at
    once."""
    points, descriptors, counts = drawn.points, drawn.descriptors, drawn.counts
    rng = np.random.default_rng(seed)
    for at in range(0, count, block):
        size = min(block, count - at)
        source = np.arange(at, at + size) % len(counts)
        angle = rng.uniform(-np.pi, np.pi, size)
        scale = rng.uniform(0.7, 1.4, size)
        rotation = np.stack([np.cos(angle), -np.sin(angle), np.sin(angle), np.cos(angle)],
                            axis=1).reshape(-1, 2, 2)
        moved = np.einsum("nij,nkj->nki", rotation * scale[:, None, None], points[source] - 256) + 256
        moved += rng.uniform(-100, 100, (size, 1, 2))
        if how == "noised":
            flips = np.packbits(rng.random((size, descriptors.shape[1], 256), np.float32) < 0.1, axis=2)
            codes = descriptors[source] ^ flips
        else:
            # another drawn distractor's keypoint for each slot (one with a keypoint there: slots past a
            # distractor's count are empty)
            other = rng.integers(0, len(counts), (size, descriptors.shape[1]))
            slot = (rng.random((size, descriptors.shape[1])) * np.maximum(counts[other], 1)).astype(np.int64)
            flips = np.packbits(rng.random((size, descriptors.shape[1], 256), np.float32) < 0.02, axis=2)
            codes = descriptors[other, slot] ^ flips
        yield Distractors(moved.astype(np.float32), codes, counts[source],
                          rng.integers(0, 256, (size, 32), dtype=np.uint8), np.full(size, 100, np.int32),
                          rng.integers(0, 256, (size, 32), dtype=np.uint8), np.zeros((size, 32), np.uint8))
