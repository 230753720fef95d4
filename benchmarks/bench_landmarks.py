"""Audio landmarks in depth (issue 21): scores per edit on several sets, what a louder voice leaves of a banked
sound's pairs, and the landmark index in memory beside the same index mapped from a file as the bank grows.

    python benchmarks/bench_landmarks.py                        # scores per edit, nasheeds of seeds 0-3
    python benchmarks/bench_landmarks.py --pairs --seeds 0,1    # the sounds under a voice: peaks and pairs kept
    python benchmarks/bench_landmarks.py --hours 20 --seeds 0   # index memory and lookups, 20 hours banked

1. Scores: the sound table's set of ``benchmarks/media_clips.py`` (six nasheeds and three
   espeak-ng speeches banked; the same edits but the soundtrack, which only re-encodes to AAC;
   the unrelated sounds) for each seed, landmarks only: the lowest score of each edit's true item
   and the highest of any upload against an item it is not, with the upload's peaks paired as the
   bank's are (FAN_OUT: the anchor, how it was) and as now (QUERY_FAN_OUT), in the same run.
2. ``--pairs``: for each banked sound 10 dB under the new voice, the share of its peaks the
   upload keeps (the same bin, within a frame), of its pairs whose two peaks both survive, and of
   its pairs the upload forms, paired with each fan-out.
3. ``--hours N``: N hours of synthesised nasheeds (60 s each, peaks only: no encode) banked beside
   the seed's set; the index in memory (LandmarkIndex) and saved to a file and memory-mapped
   (MappedLandmarkIndex): bytes per hour, the seed's uploads' lookup time (median CPU ms) in both,
   mapped cold (its pages dropped from the OS cache first) and warm, and recall / false matches
   among all those distractors.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from media_clips import encode_sound, nasheed, sound_edits, sound_set  # noqa: E402

from jointwatch.media.audio import decode_audio  # noqa: E402
from jointwatch.media.landmarks import (  # noqa: E402
    FAN_OUT,
    MIN_SCORE,
    QUERY_FAN_OUT,
    RATE,
    LandmarkIndex,
    MappedLandmarkIndex,
    landmark_hashes,
    spectral_peaks,
)

UNDER = "it as a bed 10 dB under a new voice (MP3)"
UNRELATED = "unrelated sound (nasheeds, speeches)"


def _peaks(data: bytes, name: str) -> np.ndarray:
    """The peaks the bank and an upload keep: the file decoded as ``media.audio`` decodes it."""
    return spectral_peaks([decode_audio(data, name)])


def seed_set(seed: int) -> tuple[list[np.ndarray], list[tuple[str, int | None, np.ndarray]]]:
    """The banked sounds' peaks, and every upload's (edit, its banked item or None, peaks)."""
    banked, bed, voice, others = sound_set(seed)
    bank = [_peaks(encode_sound(sound, "pcm_s16le", "wav"), name) for name, sound in banked]
    uploads: list[tuple[str, int | None, np.ndarray]] = []
    for label, edit in sound_edits(voice, bed).items():
        if label.startswith("soundtrack"):
            continue
        for position, (_, sound) in enumerate(banked):
            uploads.append((label, position, _peaks(edit(sound, position), label)))
    for sound in others:
        uploads.append((UNRELATED, None, _peaks(encode_sound(sound, "libmp3lame", "mp3"), "unrelated")))
    return bank, uploads


def scores_table(seeds: list[int]) -> None:
    print(f"\nlandmark scores (match at >= {MIN_SCORE:.0f}): an upload paired as the bank is (fan-out {FAN_OUT}) / "
          f"as now ({QUERY_FAN_OUT}); load average {os.getloadavg()[0]:.1f}\n")
    print("| seed | edit | uploads | lowest score of the true item | recall | highest score against another item "
          "| false matches | lookup CPU ms, median |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for seed in seeds:
        bank, uploads = seed_set(seed)
        index = LandmarkIndex(list(enumerate(bank)))
        rows: dict[str, dict[int, list[tuple[float, float, float]]]] = {}
        for label, expected, peaks in uploads:
            for fan_out in (FAN_OUT, QUERY_FAN_OUT):
                cpu = time.process_time()
                scores = {hit.position: hit.score for hit in index.scores(peaks, fan_out=fan_out)}
                spent = (time.process_time() - cpu) * 1000
                true = scores.pop(expected, 0.0) if expected is not None else np.nan
                rows.setdefault(label, {}).setdefault(fan_out, []).append((true, max(scores.values(), default=0.0),
                                                                           spent))
        for label, by in rows.items():
            cells = []
            for column in range(5):
                values = []
                for fan_out in (FAN_OUT, QUERY_FAN_OUT):
                    got = by[fan_out]
                    true = [t for t, _, _ in got]
                    values.append([f"{min(true):.1f}" if label != UNRELATED else "–",
                                   f"{np.mean([t >= MIN_SCORE for t in true]):.2f}" if label != UNRELATED else "–",
                                   f"{max(f for _, f, _ in got):.1f}",
                                   f"{sum(f >= MIN_SCORE for _, f, _ in got)}",
                                   f"{statistics.median(c for _, _, c in got):.0f}"][column])
                cells.append(" / ".join(values))
            print(f"| {seed} | {label} | {len(by[FAN_OUT])} | " + " | ".join(cells) + " |", flush=True)


def _present(peaks: np.ndarray) -> set[int]:
    """The peaks as a set, each also one frame earlier and later (a re-encode moves a peak by a frame)."""
    out: set[int] = set()
    for shift in (-256, 0, 256):
        out.update((peaks.astype(np.int64) + shift).tolist())
    return out


def pairs_table(seeds: list[int]) -> None:
    fan_outs = (FAN_OUT, 12, 24, QUERY_FAN_OUT, 48, 10_000)
    print(f"\nthe banked sounds 10 dB under a new voice: what the upload keeps of them; load average "
          f"{os.getloadavg()[0]:.1f}\n")
    print("| seed | item | banked peaks / s | upload peaks / s | peaks kept | pairs with both peaks kept | "
          + " | ".join(f"pairs formed, fan-out {f}" for f in fan_outs) + " |")
    print("|---|---|---:|---:|---:|---:|" + "---:|" * len(fan_outs))
    for seed in seeds:
        bank, uploads = seed_set(seed)
        for label, position, peaks in uploads:
            if label != UNDER or position is None:
                continue
            banked = bank[position]
            seconds = (int(banked[-1]) >> 8) * 256 / RATE
            kept = _present(peaks)
            hashes, times = landmark_hashes(banked)
            first = (times << 8) | (hashes >> 12).astype(np.int64)
            second = ((times + (hashes & 63).astype(np.int64)) << 8) | (
                (hashes >> 12).astype(np.int64) + ((hashes >> 6) & 63).astype(np.int64) - 31)
            both = np.mean([a in kept and b in kept for a, b in zip(first.tolist(), second.tolist(), strict=True)])
            formed = []
            for fan_out in fan_outs:
                mine = set()
                for h, t in zip(*(a.tolist() for a in landmark_hashes(peaks, fan_out)), strict=True):
                    mine.update(((h, t - 1), (h, t), (h, t + 1)))
                formed.append(np.mean([(h, t) in mine for h, t in zip(hashes.tolist(), times.tolist(), strict=True)]))
            upload_seconds = (int(peaks[-1]) >> 8) * 256 / RATE
            print(f"| {seed} | {position} | {len(banked) / seconds:.0f} | {len(peaks) / upload_seconds:.0f} | "
                  f"{np.mean([int(p) in kept for p in banked]):.2f} | {both:.3f} | "
                  + " | ".join(f"{f:.3f}" for f in formed) + " |", flush=True)


def _drop_cache(path: Path) -> None:
    """Ask the OS to forget the file's cached pages (this file only), so the next lookups read the disk."""
    with open(path, "rb") as handle:
        os.posix_fadvise(handle.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)


def scale_table(hours: float, seed: int) -> None:
    bank, uploads = seed_set(seed)
    cpu, wall = time.process_time(), time.perf_counter()
    sounds = list(enumerate(bank))
    count = int(hours * 60)
    for n in range(count):
        pcm = (nasheed(10_000_000 + n, 60) * 32767).astype(np.int16)
        sounds.append((len(bank) + n, spectral_peaks([pcm])))
    made = time.process_time() - cpu
    banked_hours = sum((int(p[-1]) >> 8) * 256 / RATE for _, p in sounds if len(p)) / 3600
    cpu = time.process_time()
    memory = LandmarkIndex(sounds)
    built = time.process_time() - cpu
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "landmarks.idx"
        cpu = time.process_time()
        memory.save(path)
        saved = time.process_time() - cpu
        with open(path, "rb+") as handle:
            os.fsync(handle.fileno())     # written out, so dropping its cached pages drops them
        mapped = MappedLandmarkIndex(path)
        print(f"\n{banked_hours:.1f} hours banked ({len(bank)} sounds of seed {seed}'s set + {count:,} synthesised "
              f"60 s nasheeds; peaks made in {made:.0f} s CPU, wall {time.perf_counter() - wall:.0f} s): "
              f"{len(memory):,} hashes ({len(memory) / banked_hours / 3600:.0f} a second); built in memory in "
              f"{built:.1f} s CPU, saved in {saved:.1f} s; load average {os.getloadavg()[0]:.1f}\n")
        size = path.stat().st_size
        print("| index | held in memory | per hour banked | on disk | per hour | lookup CPU ms, median (p90) "
              "| recall at >= 10 (the seed's edits) | false matches |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for name, index, cold in (("in memory (LandmarkIndex)", memory, False),
                                  ("mapped file, cold (MappedLandmarkIndex)", mapped, True),
                                  ("mapped file, warm", mapped, False)):
            spent, found, expected_total, false = [], 0, 0, 0
            for _, expected, peaks in uploads:
                if cold:
                    _drop_cache(path)
                started = time.process_time()
                hits = {hit.position for hit in index.match(peaks)}
                spent.append((time.process_time() - started) * 1000)
                if expected is not None:
                    expected_total += 1
                    found += expected in hits
                false += len(hits - {expected})
            on_disk = size if index is mapped else 0
            print(f"| {name} | {index.nbytes / 1e6:,.1f} MB | {index.nbytes / banked_hours / 1e6:,.2f} MB | "
                  f"{on_disk / 1e6:,.0f} MB | {on_disk / banked_hours / 1e6:,.1f} MB | "
                  f"{statistics.median(spent):.0f} ({np.percentile(spent, 90):.0f}) | "
                  f"{found / expected_total:.3f} | {false} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="0,1,2,3", help="sets of nasheeds (benchmarks/media_clips.py)")
    parser.add_argument("--pairs", action="store_true", help="what a voice leaves of the sounds under it")
    parser.add_argument("--hours", type=float, default=0, help="bank this many hours and compare the indexes")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    if args.hours:
        scale_table(args.hours, seeds[0])
    elif args.pairs:
        pairs_table(seeds)
    else:
        scores_table(seeds)


if __name__ == "__main__":
    main()
