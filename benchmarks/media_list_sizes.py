"""How evenly a bank's local descriptors fall into the inverted file's lists (issue 21, media at scale).

A match's time at a million images is the codes its probes scan, so it follows the lists' sizes.
This builds the bank's descriptors as ``bench_media.py --bank-size`` does (``count`` distractors,
``--drawn`` of them drawn, the rest synthesized by ``--synthesis``), draws the lists' centres at random
as ``media.local.NearestIndex`` does, assigns every code to its nearest centre exactly (faiss
``IndexBinaryFlat``, so no graph search blurs the figure), and prints the sizes: the median, the 99th
percentile, the largest, the size a random code's list has (the mean weighted by size, what a probe
scans on average) and the share of all codes in the largest 1% of lists.

    python benchmarks/media_list_sizes.py 50000 --drawn 50000
    python benchmarks/media_list_sizes.py 50000 --drawn 2500 --synthesis noised
    python benchmarks/media_list_sizes.py 50000 --drawn 2500 --synthesis mixed
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from media_distractors import distractor_keypoints, synthesized_keypoints  # noqa: E402

from jointwatch.media.deps import require  # noqa: E402
from jointwatch.media.local import BANK_POINTS, list_count, spread_of  # noqa: E402
from jointwatch.media.signature import Keypoints  # noqa: E402


def bank_codes(count: int, drawn: int, cache: Path, synthesis: str) -> np.ndarray:
    """The descriptors a bank of ``count`` distractors indexes (BANK_POINTS spread keypoints each)."""
    found = distractor_keypoints(min(drawn, count), cache)
    codes = []
    for part in [found, *synthesized_keypoints(count - len(found), found, how=synthesis)]:
        for n in range(len(part)):
            view = Keypoints(part.points[n, :part.counts[n]], part.descriptors[n, :part.counts[n]])
            codes.append(spread_of(view, BANK_POINTS).descriptors)
    return np.ascontiguousarray(np.concatenate(codes))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("count", type=int, help="distractor images in the bank")
    parser.add_argument("--drawn", type=int, default=50_000, help="of them drawn (the rest synthesized)")
    parser.add_argument("--synthesis", choices=("mixed", "noised"), default="mixed")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "jointwatch-bench")
    args = parser.parse_args()
    faiss = require("faiss", "faiss-cpu")
    codes = bank_codes(args.count, args.drawn, args.cache, args.synthesis)
    lists = list_count(len(codes))
    centres = codes[np.sort(np.random.default_rng(0).choice(len(codes), lists, replace=False))]
    quantizer = faiss.IndexBinaryFlat(256)
    quantizer.add(centres)
    _, nearest = quantizer.search(codes, 1)
    sizes = np.bincount(nearest.reshape(-1), minlength=lists)
    largest = np.sort(sizes)[::-1][:max(1, lists // 100)].sum() / sizes.sum()
    print(f"{args.count:,} images, {min(args.drawn, args.count):,} drawn, the rest {args.synthesis}: "
          f"{len(codes):,} codes in {lists:,} lists (mean {sizes.mean():,.0f}); median {np.median(sizes):,.0f}, "
          f"99th percentile {np.percentile(sizes, 99):,.0f}, largest {sizes.max():,}; a random code's list "
          f"{np.sum(sizes.astype(np.float64) ** 2) / sizes.sum():,.0f}; {largest:.0%} of the codes in the largest "
          "1% of lists")


if __name__ == "__main__":
    main()
