"""Media hash bank benchmark: recall and false matches per edit, and the index's speed and memory.

    python benchmarks/bench_media.py                       # recall table + index at 1M hashes
    python benchmarks/bench_media.py --hashes 10000000     # index at 10M hashes
    python benchmarks/bench_media.py --skip-index          # recall table only
    python benchmarks/bench_media.py --video --audio       # the video and sound tables only (issue 21)
    python benchmarks/bench_media.py --audio --audio-seed 1   # the sound table on other nasheeds
    python benchmarks/bench_media.py --bank-size 100000 --skip-index   # recall and latency at bank scale

1. Recall: every sample photograph shipped with scikit-image and scikit-learn is banked; each
   is edited the ways re-uploaders dodge hash banks (benchmarks/media_edits.py) and matched.
   Anchor: PDQ alone (threshold 31, quality >= 50, as HMA does). Ours: exact + PDQ + the
   mirror PDQ + ORB local features. A false match is a hit on any *other* banked photograph.
   With ``--bank-size N``: the same queries against a bank of N images, the photographs plus
   N - 26 drawn distractors (benchmarks/media_distractors.py); beside PDQ alone, exact MD5 as
   a second anchor; per upload p50/p99 end to end (decode, hash, match) and memory per image.
2. Index: N random 256-bit hashes plus 10% near-duplicates; 2,000 queries (half within 0-40
   bits of an indexed hash, half random); exact radius-31 search by our multi-index hashing
   vs faiss IndexBinaryFlat (exhaustive SIMD scan), same queries, same run, same answers.
3. Video and sound (``--video``, ``--audio``; benchmarks/media_clips.py): videos made from the
   photographs (pans, zooms, a title bar) and synthesised nasheeds and espeak-ng speeches are
   banked, edited (re-encodes, resizes, a 10 s clip, intro + outro, watermark, flip; MP3/AAC,
   a 10 s cut, +-6 dB, a voice or a music bed mixed in, a soundtrack) and matched beside vPDQ
   alone (HMA's rule) and exact MD5, with unrelated videos and sounds for false matches.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from media_clips import audio_table, video_table  # noqa: E402
from media_distractors import distractor_keypoints, synthesized_keypoints  # noqa: E402
from media_edits import EDITS, sample_images  # noqa: E402

from jointwatch.media import (  # noqa: E402
    DEFAULT_PDQ_THRESHOLD,
    BankItem,
    HammingIndex,
    MatchableRow,
    Matcher,
    MatchOptions,
    hash_media,
    local,  # noqa: E402
)
from jointwatch.media.local import (  # noqa: E402
    BANK_POINTS,
    FLAT_LISTS,
    NEAREST,
    PROBES,
    SCALE_NEAREST,
    SCALE_PROBES,
    NearestIndex,
)
from jointwatch.media.signature import (  # noqa: E402
    MIN_CANDIDATES,
    MIN_INLIERS,
    Keypoints,
    Signature,
    geometric_inliers,
)

THREADS = 2
# drawn test patterns, not pictures: a smooth gradient with no corners, and a grid whose every
# corner looks alike; reported in the table, and summed apart as well
SYNTHETIC = ("colorwheel", "checkerboard")


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def recall_table() -> None:
    images = sample_images()
    names = list(images)
    now = datetime.now(UTC)
    rows = []
    for number, name in enumerate(names):
        hashed = hash_media(_png(images[name]), name, for_bank=True)
        h = hashed.hashes
        item = BankItem(number, 1, "bench", h.md5, h.sha256, h.pdq, h.pdq_quality, None, "other", "amber", "active",
                        "file", now, now)
        rows.append(MatchableRow(item, hashed.signature.to_bytes() if hashed.signature else None))
    ours = Matcher(rows)
    anchor = Matcher([MatchableRow(r.item, None) for r in rows])   # PDQ + exact only: no signatures
    print(f"\n{len(names)} sample photographs (scikit-image {len(names) - 2}, scikit-learn 2); "
          f"PDQ threshold {DEFAULT_PDQ_THRESHOLD}\n")
    print("| edit | PDQ alone: recall | ours: recall | PDQ alone: false matches | ours: false matches "
          "| missed by ours |")
    print("|---|---:|---:|---:|---:|---|")
    totals = {"anchor": [0, 0], "ours": [0, 0]}
    natural = {"anchor": 0, "ours": 0}   # without the two synthetic test patterns
    timings: list[float] = []
    for edit_name, edit in EDITS.items():
        stats = {"anchor": [0, 0], "ours": [0, 0]}
        missed = []
        for number, name in enumerate(names):
            data = _png(edit(images[name]))
            started = time.perf_counter()
            query = hash_media(data, name)
            found_ours = {m.item.id for m in ours.match(query.hashes, query.query)}
            timings.append(time.perf_counter() - started)
            found_anchor = {m.item.id for m in anchor.match(query.hashes)}
            for key, found in (("anchor", found_anchor), ("ours", found_ours)):
                stats[key][0] += number in found
                stats[key][1] += len(found - {number})
                natural[key] += number in found and name not in SYNTHETIC
            if number not in found_ours:
                missed.append(name)
        for key in stats:
            totals[key][0] += stats[key][0]
            totals[key][1] += stats[key][1]
        print(f"| {edit_name} | {stats['anchor'][0] / len(names):.0%} | {stats['ours'][0] / len(names):.0%} "
              f"| {stats['anchor'][1]} | {stats['ours'][1]} | {', '.join(missed) or '–'} |")
    queries = len(names) * len(EDITS)
    print(f"| **all {queries} queries** | **{totals['anchor'][0] / queries:.1%}** "
          f"| **{totals['ours'][0] / queries:.1%}** | **{totals['anchor'][1]}** | **{totals['ours'][1]}** | |")
    photos = (len(names) - len(SYNTHETIC)) * len(EDITS)
    print(f"| all but the synthetic {' and '.join(SYNTHETIC)} ({photos} queries) | {natural['anchor'] / photos:.1%} "
          f"| {natural['ours'] / photos:.1%} | | | |")
    print(f"\nours per upload (hash + match, {len(rows)} banked): median {statistics.median(timings) * 1000:.0f} ms")


def _distractor_rows(count: int, first_id: int, cache: Path, drawn: int, seed: int = 1,
                     synthesis: str = "mixed") -> list[MatchableRow]:
    """``count`` distractors as banked rows, ``drawn`` of them drawn (their keypoints and PDQ hashes are the bank's
    own), the rest synthesized from those (media_distractors.synthesized_keypoints); random MD5 / SHA-256."""
    drawn = min(drawn, count)
    found = distractor_keypoints(drawn, cache)
    rng = np.random.default_rng(seed)
    now = datetime.now(UTC)
    rows: list[MatchableRow] = []
    for part in [found, *synthesized_keypoints(count - drawn, found, how=synthesis)]:
        exact = rng.integers(0, 256, (len(part), 48), dtype=np.uint8)
        for n in range(len(part)):
            item = BankItem(first_id + len(rows), 1, "bench", exact[n, :16].tobytes().hex(),
                            exact[n, 16:].tobytes().hex(), part.pdq[n].tobytes().hex(), int(part.pdq_quality[n]),
                            None, "other", "amber", "active", "file", now, now)
            view = Keypoints(part.points[n, :part.counts[n]], part.descriptors[n, :part.counts[n]])
            centred, trimmed = (code.tobytes().hex() if code.any() else None for code in (part.centred[n],
                                                                                            part.trimmed[n]))
            rows.append(MatchableRow(item, Signature(None, None, (view,), centred, trimmed).to_bytes()))
    return rows


def scale_table(bank_size: int, points: int, cache: Path, drawn: int, settings: list[tuple[int, int, int, int]],
                scan_share: float | None = None, synthesis: str = "mixed") -> None:
    """Recall per edit, false matches, per-upload latency and memory with a bank of ``bank_size`` images, for each
    (lists probed, nearest descriptors, upload keypoints searched, inliers a match needs) in ``settings`` over the
    one built index."""
    images = sample_images()
    names = list(images)
    now = datetime.now(UTC)
    rows = []
    for number, name in enumerate(names):
        hashed = hash_media(_png(images[name]), name, for_bank=True)
        h = hashed.hashes
        item = BankItem(number, 1, "bench", h.md5, h.sha256, h.pdq, h.pdq_quality, None, "other", "amber", "active",
                        "file", now, now)
        rows.append(MatchableRow(item, hashed.signature.to_bytes() if hashed.signature else None))
    started = time.perf_counter()
    # the photographs go in last: a list that is full sends a later code to its next nearest centre
    # (media.local.balanced_lists), so the newest items are the ones a full list displaces
    rows = _distractor_rows(bank_size - len(rows), len(rows), cache, drawn, synthesis=synthesis) + rows
    made = time.perf_counter() - started
    started, cpu = time.perf_counter(), time.process_time()
    ours = Matcher(rows, bank_points=points)
    build, build_cpu = time.perf_counter() - started, time.process_time() - cpu
    anchor = Matcher([MatchableRow(r.item, None) for r in rows])   # PDQ + exact only: no signatures
    local_bytes = ours.local.nbytes
    pdq_bytes = (ours.pdq_index.nbytes + ours.canonical_index.nbytes + ours.centred_index.nbytes
                 + ours.trimmed_index.nbytes)
    drawn = min(drawn, len(rows) - len(names))
    index = ours.local.index
    lists = f"{index._index.nlist:,} lists" if isinstance(index, NearestIndex) else "exhaustive scan"
    print(f"\nbank of {len(rows):,} images: the {len(names)} sample photographs + {drawn:,} drawn distractors + "
          f"{len(rows) - len(names) - drawn:,} synthesized from them ({synthesis}; rows made in {made:.0f} s); "
          f"{points} keypoints per banked image, spread over the picture ({len(ours.local):,} indexed, "
          f"{type(index).__name__}, {lists}); built in {build:.0f} s ({build_cpu:.0f} CPU s of this process); "
          f"peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.1f} GB")
    print(f"memory per banked image: local features {local_bytes / len(rows):,.0f} B, PDQ indexes "
          f"{pdq_bytes / len(rows):,.0f} B (PDQ and mirror {len(ours.pdq_index):,}, canonical "
          f"{len(ours.canonical_index):,}, centred {len(ours.centred_index):,}, trimmed {len(ours.trimmed_index):,} "
          f"hashes)")
    if isinstance(index, NearestIndex):
        sizes = index.list_sizes()
        print(f"list sizes (cap {local.LIST_CAP or 'none'}x the mean): mean {sizes.mean():,.0f}, "
              f"median {np.median(sizes):,.0f}, 99th percentile {np.percentile(sizes, 99):,.0f}, "
              f"largest {sizes.max():,}; "
              f"weighted by size (what a random code's list holds) {np.sum(sizes ** 2) / sizes.sum():,.0f}")
    for probes, nearest, query_points, min_inliers in settings:
        options = MatchOptions(min_inliers=min_inliers or None)
        if isinstance(index, NearestIndex):
            index.scan_share = scan_share
            index.probes, index.k = probes or index.probes, nearest or index.k
            ours.local.query_points = query_points or None
            cap = "every code of them" if scan_share is None else f"at most {scan_share:g}x their even share of codes"
            searched = f"{query_points} of the upload's keypoints" if query_points else "all the upload's keypoints"
            print(f"\n{index.probes} lists probed ({cap}), {index.k} nearest banked descriptors a query descriptor, "
                  f"{searched} searched, a match at {min_inliers or 'the index’s own number of'} inliers:\n")
        _scale_run(ours, anchor, images, names, options)
        if not isinstance(index, NearestIndex):
            break


def _scale_run(ours: Matcher, anchor: Matcher, images: dict[str, Image.Image], names: list[str],
               options: MatchOptions) -> None:
    print("| edit | exact MD5: recall | PDQ alone: recall | ours: recall | false matches (MD5 / PDQ / ours) "
          "| missed by ours |")
    print("|---|---:|---:|---:|---:|---|")
    timings: list[float] = []
    matching: list[float] = []
    why: list[str] = []
    wrong: list[int] = []
    totals = {"md5": [0, 0], "anchor": [0, 0], "ours": [0, 0]}
    for edit_name, edit in EDITS.items():
        stats = {"md5": [0, 0], "anchor": [0, 0], "ours": [0, 0]}
        missed = []
        for number, name in enumerate(names):
            data = _png(edit(images[name]))
            started = time.perf_counter()
            query = hash_media(data, name)
            hashed = time.perf_counter()
            found_ours = {m.item.id for m in ours.match(query.hashes, query.query, options)}
            timings.append(time.perf_counter() - started)
            matching.append(time.perf_counter() - hashed)
            if query.query is not None:
                # untimed: how near another image came to a false match, and why a miss was missed
                wrong.append(_wrong_inliers(ours, query.query.keypoints, number))
                if number not in found_ours:
                    why.append(f"{edit_name}, {name}: {_why_missed(ours, query.query.keypoints, number)}")
            found_anchor = {m.item.id for m in anchor.match(query.hashes)}
            found_md5 = {m.item.id for m in anchor.match_hashes(md5=query.hashes.md5)}
            for key, found in (("md5", found_md5), ("anchor", found_anchor), ("ours", found_ours)):
                stats[key][0] += number in found
                stats[key][1] += len(found - {number})
            if number not in found_ours:
                missed.append(name)
        for key in stats:
            totals[key][0] += stats[key][0]
            totals[key][1] += stats[key][1]
        print(f"| {edit_name} | {stats['md5'][0] / len(names):.0%} | {stats['anchor'][0] / len(names):.0%} "
              f"| {stats['ours'][0] / len(names):.0%} | {stats['md5'][1]} / {stats['anchor'][1]} / {stats['ours'][1]} "
              f"| {', '.join(missed) or '–'} |")
    queries = len(names) * len(EDITS)
    print(f"| **all {queries} queries** | **{totals['md5'][0] / queries:.1%}** "
          f"| **{totals['anchor'][0] / queries:.1%}** | **{totals['ours'][0] / queries:.1%}** "
          f"| **{totals['md5'][1]} / {totals['anchor'][1]} / {totals['ours'][1]}** | |")
    ms, match_ms = np.array(timings) * 1000, np.array(matching) * 1000
    hash_ms = ms - match_ms
    print(f"\nours per upload, end to end (decode, hash, match; one at a time): p50 {np.percentile(ms, 50):.0f} ms, "
          f"p99 {np.percentile(ms, 99):.0f} ms, max {ms.max():.0f} ms; of which decoding and hashing: p50 "
          f"{np.percentile(hash_ms, 50):.0f} ms, p99 {np.percentile(hash_ms, 99):.0f} ms; matching: p50 "
          f"{np.percentile(match_ms, 50):.0f} ms, p99 {np.percentile(match_ms, 99):.0f} ms; load average "
          f"{os.getloadavg()[0]:.1f}")
    if wrong:
        most = np.array(wrong)
        print(f"\nthe most inliers another image's banked view reached on an upload (the geometric check of the "
              f"{local.GEOMETRIC_CANDIDATES} views with the most correspondences): max {most.max()}, 99th percentile "
              f"{np.percentile(most, 99):.0f}, median {np.median(most):.0f}; uploads by that figure: "
              + ", ".join(f"{v}: {c}" for v, c in zip(*np.unique(most, return_counts=True), strict=True)))
    if why:
        print(f"\nwhy ours missed (local features; a banked view is checked with at least {MIN_CANDIDATES} "
              f"correspondences and among the {local.GEOMETRIC_CANDIDATES} with the most):")
        for line in why:
            print(f"- {line}")


def _wrong_inliers(ours: Matcher, keypoints: Keypoints, number: int) -> int:
    """The most inliers a banked view of an image other than ``number`` reaches in the geometric check (of the views
    with the most correspondences, as a search checks them)."""
    return max((m.inliers for m in ours.local.checked(keypoints)
                if ours.items[ours.view_of[m.owner][0]].id != number), default=0)


def _why_missed(ours: Matcher, keypoints: Keypoints, number: int) -> str:
    """The correspondences the missed image's banked views got, their rank among the banked views and the
    geometric check's inliers on them: whether the index lost them or the check rejected them."""
    views = [view for view, (position, _) in enumerate(ours.view_of) if ours.items[position].id == number]
    searched, votes = ours.local.votes(keypoints)
    if votes is None:
        return "no correspondence at all"
    q, ids, owner = votes
    candidates, counts = np.unique(owner, return_counts=True)
    parts = []
    for view in views:
        mine = int(counts[candidates == view][0]) if view in candidates else 0
        selected = owner == view
        inliers = geometric_inliers(searched.points[q[selected]], ours.local.points[ids[selected]]) if mine else 0
        parts.append(f"view {ours.view_of[view][1]}: {mine} correspondences, rank {int((counts > mine).sum()) + 1} "
                     f"of {len(candidates):,} views, {inliers} inliers")
    return "; ".join(parts) or "not in the local index"


def _near(codes: np.ndarray, rng: np.random.Generator, count: int, max_flips: int) -> np.ndarray:
    picked = codes[rng.integers(0, len(codes), count)]
    bits = np.unpackbits(picked, axis=1)
    flips = rng.integers(0, max_flips + 1, count)
    for row, k in zip(bits, flips, strict=True):
        row[rng.choice(256, k, replace=False)] ^= 1
    return np.packbits(bits, axis=1)


def _qps(search, queries: np.ndarray, threads: int) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    parts = np.array_split(queries, threads * 4)
    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(search, parts))
    return len(queries) / (time.perf_counter() - started), results


def index_table(total: int, seed: int = 0) -> None:
    import faiss

    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (total - total // 10, 32), dtype=np.uint8)
    codes = np.concatenate([base, _near(base, rng, total // 10, 24)])   # near-duplicate clusters
    queries = np.concatenate([_near(codes, rng, 1000, 40), rng.integers(0, 256, (1000, 32), dtype=np.uint8)])
    radius = DEFAULT_PDQ_THRESHOLD

    started = time.perf_counter()
    ours = HammingIndex(codes)
    build_ours = time.perf_counter() - started
    started = time.perf_counter()
    flat = faiss.IndexBinaryFlat(256)
    flat.add(codes)
    build_flat = time.perf_counter() - started

    ours.search(queries[:64], radius)  # warm up (numba compiles on first use)
    qps_ours_1, _ = _qps(lambda q: ours.search(q, radius), queries, 1)
    qps_ours, ours_hits = _qps(lambda q: ours.search(q, radius), queries, THREADS)
    faiss.omp_set_num_threads(THREADS)

    def flat_search(q: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        limits, distance, ids = flat.range_search(q, radius + 1)   # faiss: strictly under the radius
        return limits, distance, ids

    faiss.omp_set_num_threads(1)
    started = time.perf_counter()
    [flat_search(q) for q in np.array_split(queries, 8)]
    qps_flat_1 = len(queries) / (time.perf_counter() - started)
    faiss.omp_set_num_threads(THREADS)
    started = time.perf_counter()
    flat_hits = [flat_search(q) for q in np.array_split(queries, 8)]   # faiss parallelises inside (OpenMP)
    qps_flat = len(queries) / (time.perf_counter() - started)

    same = True
    for (limits, distance, ids), mine in zip(flat_hits, ours_hits, strict=True):
        rows = np.repeat(np.arange(len(limits) - 1), np.diff(limits).astype(np.int64))
        pairs = sorted(zip(rows.tolist(), ids.tolist(), distance.astype(int).tolist(), strict=True))
        same &= pairs == list(zip(mine.query.tolist(), mine.ids.tolist(), mine.distance.tolist(), strict=True))
    found = sum(len(h) for h in ours_hits)
    print(f"\n{total:,} hashes ({total // 10:,} near-duplicates), {len(queries):,} queries, radius {radius}, "
          f"{THREADS} threads; {found:,} hits; same matches as faiss: {'yes' if same else 'NO'}\n")
    layout = f"{ours.layout.chunks} x {ours.layout.width} bits"
    print(f"| index | build s | memory MB | queries/s, 1 thread | queries/s, {THREADS} threads | ratio |")
    print("|---|---:|---:|---:|---:|---:|")
    print(f"| faiss IndexBinaryFlat (anchor) | {build_flat:.1f} | {codes.nbytes / 1e6:,.0f} | {qps_flat_1:,.0f} "
          f"| {qps_flat:,.0f} | 1.0 |")
    print(f"| ours: multi-index hashing ({layout}) | {build_ours:.1f} | {ours.nbytes / 1e6:,.0f} | {qps_ours_1:,.0f} "
          f"| {qps_ours:,.0f} | {qps_ours / qps_flat:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hashes", type=int, default=1_000_000, help="indexed hashes (default 1M)")
    parser.add_argument("--skip-recall", action="store_true")
    parser.add_argument("--skip-index", action="store_true")
    parser.add_argument("--bank-size", type=int, default=0,
                        help="recall and latency with a bank of this many images (photographs + drawn distractors)")
    parser.add_argument("--drawn", type=int, default=1_000_000,
                        help="distractors drawn (the rest of the bank is synthesized from them: cheaper)")
    parser.add_argument("--probes", default="0",
                        help="inverted lists a query descriptor scans; several, comma-separated, are each measured "
                             f"on the one built index (0: the index's own, {PROBES} or {SCALE_PROBES} past "
                             f"{FLAT_LISTS:,} lists)")
    parser.add_argument("--scan-share", type=float, default=None,
                        help="with --bank-size: cap the codes a query descriptor scans at this share of its probes' "
                             "even share (media.local NearestIndex.scan_share; default: no cap)")
    parser.add_argument("--list-cap", type=float, default=local.LIST_CAP or 0,
                        help="with --bank-size: an inverted list holds at most this many times its even share of "
                             "codes (media.local.LIST_CAP; 0, the default: no cap, every code in its nearest "
                             "centre's list)")
    parser.add_argument("--synthesis", choices=("mixed", "noised"), default="mixed",
                        help="with --bank-size: how distractors past --drawn are made (media_distractors."
                             "synthesized_keypoints: other drawn pictures' descriptors, or the rounds before "
                             "2026-12-05's sixth: the same picture's, 10%% of their bits flipped)")
    parser.add_argument("--nearest", default="0",
                        help="nearest banked descriptors a query descriptor brings (comma-separated, paired with "
                             f"--probes; 0: the index's own, {NEAREST} or {SCALE_NEAREST})")
    parser.add_argument("--query-points", default="0",
                        help="the upload's keypoints searched, spread over the picture (comma-separated, paired with "
                             "--probes; 0: all, media.local.QUERY_POINTS)")
    parser.add_argument("--min-inliers", default="0",
                        help="ORB inliers a match needs (comma-separated, paired with --probes; 0: the index's own, "
                             f"{MIN_INLIERS} over the exhaustive scan, {local.SCALE_MIN_INLIERS} at bank scale)")
    parser.add_argument("--points", type=int, default=BANK_POINTS, help="strongest keypoints kept per banked image")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "jointwatch-bench",
                        help="where the distractors' keypoints are kept between runs")
    parser.add_argument("--video", action="store_true",
                        help="the video table (benchmarks/media_clips.py: ours, vPDQ alone, MD5) and no other")
    parser.add_argument("--audio", action="store_true",
                        help="the sound table (benchmarks/media_clips.py: ours, Chromaprint alone, landmarks alone, "
                             "MD5) and no other")
    parser.add_argument("--audio-seed", type=int, default=0,
                        help="draw other nasheeds for the sound table (0: the README's set)")
    args = parser.parse_args()
    if args.video or args.audio:
        if args.video:
            video_table()
        if args.audio:
            audio_table(seed=args.audio_seed)
        return
    if args.bank_size:
        local.LIST_CAP = args.list_cap or None
        axes = [[int(v) for v in str(text).split(",")]
                for text in (args.probes, args.nearest, args.query_points, args.min_inliers)]
        longest = max(map(len, axes))
        probes, nearest, query_points, min_inliers = (axis * longest if len(axis) == 1 else axis for axis in axes)
        settings = list(zip(probes, nearest, query_points, min_inliers, strict=True))
        scale_table(args.bank_size, args.points, args.cache, args.drawn, settings, args.scan_share, args.synthesis)
    elif not args.skip_recall:
        recall_table()
    if not args.skip_index:
        index_table(args.hashes)


if __name__ == "__main__":
    main()
