"""How well a bank at scale finds the inverted lists to search (issue 21, media at scale).

Past 4,096 lists (~25,000 images) an upload's descriptor cannot scan every list centre: at a million
images there are 160,000. Ours finds them through lists of the centres (``media.local.centre_index``);
the anchor is the graph of the centres used before 2026-12-06 (faiss ``IndexBinaryHNSW``, 16 links, 32
candidates for a query and 16 to place a code). Centres are drawn at random from real descriptors (the
benchmark's drawn distractors, spread as a bank keeps them), as ``NearestIndex`` draws them; the truth
is a flat scan of every centre. Printed, for each: the share of an upload descriptor's ``--probes``
nearest centres found and the time per upload (the 26 sample photographs under every other edit of
``media_edits``), and the share of banked codes placed in their nearest centre's list, with the time
per code.

    python benchmarks/media_centres.py                     # 160,000 centres, as at 1,000,000 images
    python benchmarks/media_centres.py --centres 16000     # as at 100,000
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from media_distractors import distractor_keypoints  # noqa: E402
from media_edits import EDITS, sample_images  # noqa: E402

from jointwatch.media import hash_media  # noqa: E402
from jointwatch.media.deps import require  # noqa: E402
from jointwatch.media.local import CENTRE_PROBES, CENTRE_PROBES_BUILD, SCALE_PROBES, centre_index, spread_of  # noqa: E402
from jointwatch.media.signature import Keypoints  # noqa: E402

GRAPH_LINKS, GRAPH_QUERY, GRAPH_PLACE = 16, 32, 16   # the anchor's settings, as they were in media/local.py


def _uploads() -> list[np.ndarray]:
    images = sample_images()
    out = []
    for edit in list(EDITS.values())[::2]:
        for name, image in images.items():
            buffer = io.BytesIO()
            edit(image).save(buffer, "PNG")
            query = hash_media(buffer.getvalue(), name).query
            if query is not None and len(query.keypoints):
                out.append(np.ascontiguousarray(query.keypoints.descriptors))
    return out


def _measure(index, uploads: list[np.ndarray], truth: list[np.ndarray], sample: np.ndarray,  # type: ignore[no-untyped-def]
             nearest: np.ndarray, probes: int, query: object, place: object) -> tuple[float, float, float, float]:
    query()  # type: ignore[operator]
    started = time.perf_counter()
    found = [index.search(u, probes)[1] for u in uploads]
    per_upload = (time.perf_counter() - started) / len(uploads) * 1000
    share = float(np.mean([np.mean([len(set(a) & set(b)) / probes for a, b in zip(f, t, strict=True)])
                           for f, t in zip(found, truth, strict=True)]))
    place()  # type: ignore[operator]
    started = time.perf_counter()
    placed = index.search(sample, 1)[1][:, 0]
    per_code = (time.perf_counter() - started) / len(sample) * 1e6
    return share, per_upload, float(np.mean(placed == nearest)), per_code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--centres", type=int, default=160_000, help="list centres (160,000 at 1,000,000 images)")
    parser.add_argument("--drawn", type=int, default=50_000, help="drawn distractors the descriptors come from")
    parser.add_argument("--codes", type=int, default=20_000, help="banked codes placed (a sample)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each; the median is printed")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "jointwatch-bench")
    args = parser.parse_args()
    faiss = require("faiss", "faiss-cpu")
    drawn = distractor_keypoints(args.drawn, args.cache)
    codes = np.concatenate([spread_of(Keypoints(drawn.points[n, :drawn.counts[n]],
                                                drawn.descriptors[n, :drawn.counts[n]])).descriptors
                            for n in range(len(drawn.counts))])
    rng = np.random.default_rng(0)
    centres = np.ascontiguousarray(codes[np.sort(rng.choice(len(codes), args.centres, replace=False))])
    sample = np.ascontiguousarray(codes[rng.choice(len(codes), args.codes, replace=False)])
    uploads = _uploads()
    flat = faiss.IndexBinaryFlat(256)
    flat.add(centres)
    started = time.perf_counter()
    truth = [flat.search(u, SCALE_PROBES)[1] for u in uploads]
    flat_ms = (time.perf_counter() - started) / len(uploads) * 1000
    nearest = flat.search(sample, 1)[1][:, 0]

    ours = centre_index(centres)
    graph = faiss.IndexBinaryHNSW(256, GRAPH_LINKS)
    graph.hnsw.efSearch = GRAPH_PLACE
    graph.add(centres)

    def set_ours(probes: int) -> object:
        return lambda: setattr(ours, "nprobe", probes)

    def set_graph(candidates: int) -> object:
        return lambda: setattr(graph.hnsw, "efSearch", candidates)

    rows = {"ours: lists of centres": (ours, set_ours(CENTRE_PROBES), set_ours(CENTRE_PROBES_BUILD)),
            "anchor: a graph of centres (HNSW)": (graph, set_graph(GRAPH_QUERY), set_graph(GRAPH_PLACE))}
    figures: dict[str, list[tuple[float, float, float, float]]] = {name: [] for name in rows}
    for _ in range(args.repeats):   # interleaved, so the machine's noise falls on both alike
        for name, (index, query, place) in rows.items():
            figures[name].append(_measure(index, uploads, truth, sample, nearest, SCALE_PROBES, query, place))
    print(f"\n{args.centres:,} centres drawn from {len(codes):,} real descriptors ({args.drawn:,} drawn pictures); "
          f"{len(uploads)} uploads (a flat scan of every centre: {flat_ms:.1f} ms an upload), {args.codes:,} codes "
          f"placed; medians of {args.repeats} interleaved runs\n")
    print(f"| finder | an upload descriptor's {SCALE_PROBES} nearest centres found | ms an upload "
          "| codes placed in their nearest centre's list | µs a code |")
    print("|---|---:|---:|---:|---:|")
    for name, runs in figures.items():
        share, ms, placed, us = (float(np.median(column)) for column in zip(*runs, strict=True))
        print(f"| {name} | {share:.1%} | {ms:.1f} | {placed:.1%} | {us:.2f} |")


if __name__ == "__main__":
    main()
