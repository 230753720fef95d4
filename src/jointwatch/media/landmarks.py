"""Audio landmarks: the peaks of a sound's spectrogram, paired into hashes, and an index that votes for one offset.

Chromaprint's bits are signs of filters over the chroma spectrogram, so they follow whichever
sound is louder: a voice as loud as a known nasheed already flips a third of them. A landmark
fingerprint (the "constellation" of Wang's 2003 Shazam paper) keeps only the local maxima of
the spectrogram, points in time and frequency. A peak of the banked sound stays a peak
wherever that sound is the louder one in its own small patch of time and frequency (between
the harmonics of a voice, above them, in its pauses), even when it is quieter overall. Each
peak is paired with a few peaks just after it, and a pair is hashed as (its frequency, the
other's frequency difference, the time between them), with the first peak's time.

An upload matches a banked sound when many of its hashes are found in the banked one **at
one time offset** (the difference of their times), far more than at its other offsets:
chance coincidences of unrelated sounds, and the notes a similar song shares with it, fall
on many offsets. The index is inverted
(hash -> banked sound, time), so an upload is looked up, not compared with every banked
sound in turn.

What is kept of a banked sound is its peaks (4 bytes each: ``frame << 8 | bin``), not the
hashes, which are made from them when the index is built. An upload's peaks are paired with
more partners than a banked sound's (``QUERY_FAN_OUT``), so a louder voice's peaks between
two of the banked ones do not keep their pair from forming: the bank's hashes, and so what is
stored, do not depend on it. A built index can be saved to one file and memory-mapped
(``MappedLandmarkIndex``): 8 bytes a hash on disk instead of 12 in memory.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from jointwatch.media.deps import require

RATE = 11_025             # the rate all sound is decoded at (``media.audio``): Chromaprint's own working rate
N_FFT = 512               # 46 ms windows: 21.5 Hz bins
HOP = 256                 # 23 ms between frames
FRAME_SECONDS = HOP / RATE
BINS = 256                # 0 - 5.5 kHz (the Nyquist bin dropped), so a bin fits a byte
# a peak is the largest value within +-PEAK_FRAMES frames (116 ms) and +-PEAK_BINS bins (43 Hz) of it: small
# patches, so a quieter sound keeps the peaks of the patches where it is the louder one (benchmarks/bench_media.py
# --audio was tried with 3-6 frames and 2-6 bins: wider patches leave a bed under a voice too few peaks)
PEAK_FRAMES = 5
PEAK_BINS = 2
# and at least this loud (dB of the magnitude of int16 samples in a window; a full-scale sine is ~132): silence
# and dither are not peaks
PEAK_FLOOR_DB = 50.0
# pairs: each peak with the first FAN_OUT peaks 1..MAX_DT frames (1.5 s) after it within +-MAX_DF bins
FAN_OUT = 6
# an upload's peaks are paired with more of the peaks after them than a banked sound's: a louder voice over a
# banked nasheed adds its own peaks between the nasheed's, so the banked pair's second peak is no longer among
# the first FAN_OUT after the first. Measured on the nasheeds 10 dB under a voice (benchmarks/bench_landmarks.py
# --pairs): 12% of a banked sound's peaks survive, 2.7-3.8% of its pairs keep both peaks, and an upload paired
# as the bank is forms 0.2-0.5% of them; with 32, 1.5-2.9% (all in the target zone: 1.8-3.1%). What is banked
# does not change (the peaks; the bank's pairs are made from them with FAN_OUT), only the upload's lookups
# (~3,400 a second of sound instead of ~700).
QUERY_FAN_OUT = 32
MAX_DT = 63
MAX_DF = 31
# An upload's hashes vote, per banked sound, for the offset between their times; the votes of an offset and its
# neighbours (+-SLACK frames: a re-encode or a cut moves a peak by a frame) count together. The best offset must
# stand out against the pair's OTHER offsets: the RIVAL-th best offset more than EXCLUDE frames from it (the
# banked sound may hold the same passage a few times: a chorus, a speech read twice) or the pair's chance level
# (its votes spread over every offset they could take), whichever is higher. The score is how far, in standard
# deviations (Poisson): (best - rival) / sqrt(rival + 1). A song of the same tempo and nearly the same key meets
# the banked one at every beat, so many offsets get votes, none stands out (a count alone let it through: 61
# votes, more than a nasheed under a voice got); a passage of the banked sound under a voice gets few votes, all
# at one offset.
SLACK = 1
RIVAL = 4
EXCLUDE = 2
# unrelated sound reached 5.8 at the most; a banked nasheed 10 dB under a new voice 22.8 at the least on the
# benchmark's set, 6.0 and 8.0 (missed) on a second set of nasheeds (benchmarks/bench_media.py --audio, and
# --audio-seed 1), when an upload was paired as the bank is; paired with QUERY_FAN_OUT, 22.0 at the least on
# every edit of the nasheeds of seeds 0-3 (25.5 under a new voice) and 5.1 at the most against another item
# (benchmarks/bench_landmarks.py)
MIN_SCORE = 10.0
_SILENT = -1000.0
_HASHES = 1 << 20         # a hash is 20 bits (``landmark_hashes``)
_FILE_HEAD = "<4sIqq"     # MappedLandmarkIndex's file: magic, version, banked sounds, postings
_FILE_MAGIC = b"JWLM"
_FILE_VERSION = 1
_BLOCK = 2048             # spectrogram frames searched for peaks at a time (an hour never sits in memory)
_WINDOW = np.hanning(N_FFT + 2)[1:-1].astype(np.float32)


def _spectrogram(pcm: np.ndarray) -> np.ndarray:
    """Log magnitudes (frames, BINS) of int16 samples, float32 dB; one frame every HOP samples."""
    frames = np.lib.stride_tricks.sliding_window_view(pcm.astype(np.float32), N_FFT)[::HOP]
    magnitude = np.abs(np.fft.rfft(frames * _WINDOW, axis=1))[:, :BINS]
    return (20 * np.log10(magnitude + 1e-3)).astype(np.float32)


class PeakFinder:
    """The spectrogram peaks of int16 mono samples at RATE, fed a chunk at a time (``feed``, then ``finish``).

    The same peaks for any chunking: the spectrogram is searched in blocks that overlap by the
    peaks' reach, and only the block's middle is kept.
    """

    def __init__(self) -> None:
        self._carry = np.zeros(0, np.int16)       # samples not yet made into frames
        self._pending = np.full((PEAK_FRAMES, BINS), _SILENT, np.float32)   # frames before the first: nothing
        self._first = -PEAK_FRAMES                # the frame number of _pending[0]
        self._found: list[np.ndarray] = []

    def feed(self, chunk: np.ndarray) -> None:
        samples = np.concatenate([self._carry, chunk.astype(np.int16, copy=False)])
        count = max(0, (len(samples) - N_FFT) // HOP + 1)
        if count:
            self._pending = np.concatenate([self._pending, _spectrogram(samples[:(count - 1) * HOP + N_FFT])])
            samples = samples[count * HOP:]
        self._carry = samples
        while len(self._pending) >= _BLOCK + 2 * PEAK_FRAMES:
            self._search(_BLOCK + PEAK_FRAMES)

    def finish(self) -> np.ndarray:
        """Every peak, as uint32 ``frame << 8 | bin``, in time order."""
        if len(self._pending) > PEAK_FRAMES:
            end = len(self._pending)
            self._pending = np.concatenate([self._pending, np.full((PEAK_FRAMES, BINS), _SILENT, np.float32)])
            self._search(end)
        return np.sort(np.concatenate(self._found)) if self._found else np.zeros(0, np.uint32)

    def _search(self, upto: int) -> None:
        """Peaks of _pending[PEAK_FRAMES:upto], then drop the frames no later peak needs."""
        cv2 = require("cv2", "opencv-python-headless")
        block = self._pending
        kernel = np.ones((2 * PEAK_FRAMES + 1, 2 * PEAK_BINS + 1), np.uint8)
        largest = cv2.dilate(block, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=_SILENT)
        frames, bins = np.nonzero((block >= largest) & (block > PEAK_FLOOR_DB))
        keep = (frames >= PEAK_FRAMES) & (frames < upto)
        self._found.append(((frames[keep] + self._first).astype(np.uint32) << 8) | bins[keep].astype(np.uint32))
        self._pending = block[upto - PEAK_FRAMES:]
        self._first += upto - PEAK_FRAMES


def spectral_peaks(chunks: Iterable[np.ndarray]) -> np.ndarray:
    """The peaks of int16 mono samples at RATE (in chunks), as uint32 ``frame << 8 | bin`` in time order."""
    finder = PeakFinder()
    for chunk in chunks:
        finder.feed(chunk)
    return finder.finish()


def landmark_hashes(peaks: np.ndarray, fan_out: int = FAN_OUT) -> tuple[np.ndarray, np.ndarray]:
    """Each peak paired with the first ``fan_out`` peaks after it in its target zone (a banked sound's FAN_OUT, an
    upload's QUERY_FAN_OUT): (hash uint32, the first peak's frame int64). A hash is ``bin << 12 | (Δbin + MAX_DF)
    << 6 | Δframe``: 20 bits."""
    frames = (peaks >> 8).astype(np.int64)
    bins = (peaks & 0xFF).astype(np.int64)
    taken = np.zeros(len(peaks), np.int64)
    hashes, times = [], []
    for step in range(1, len(peaks)):
        dt = frames[step:] - frames[:-step]
        if dt.min() > MAX_DT:     # peaks are in time order: no later step can pair
            break
        df = bins[step:] - bins[:-step]
        anchor = np.flatnonzero((dt >= 1) & (dt <= MAX_DT) & (np.abs(df) <= MAX_DF) & (taken[:-step] < fan_out))
        taken[anchor] += 1
        hashes.append((bins[anchor] << 12) | ((df[anchor] + MAX_DF) << 6) | dt[anchor])
        times.append(frames[anchor])
    if not hashes:
        return np.zeros(0, np.uint32), np.zeros(0, np.int64)
    return np.concatenate(hashes).astype(np.uint32), np.concatenate(times)


def peaks_bytes(peaks: np.ndarray) -> bytes:
    """Peaks as little-endian uint32s."""
    return np.ascontiguousarray(peaks, dtype="<u4").tobytes()


@dataclass(frozen=True)
class LandmarkHit:
    """A banked sound an upload's landmarks line up with."""

    position: int
    landmarks: int      # hashes of the upload found in the banked sound at the best offset (+-1 frame)
    score: float        # how far that stands above the pair's other offsets, in standard deviations
    offset: float       # seconds into the banked sound at which the upload starts
    first: float        # seconds into the upload of the first and the last hash that lines up
    last: float


class LandmarkIndex:
    """Every banked sound's landmark hashes, sorted by hash: hash -> (banked sound, frame).

    12 bytes a hash (the hash, its sound, its time) in memory; the store keeps only the peaks.
    """

    def __init__(self, sounds: list[tuple[int, np.ndarray]]) -> None:
        keys, owner, times = [], [], []
        self.frames: dict[int, int] = {}          # position -> the banked sound's length in frames
        for position, peaks in sounds:
            hashes, at = landmark_hashes(peaks)
            self.frames[position] = int(peaks[-1] >> 8) + 1 if len(peaks) else 0
            keys.append(hashes)
            owner.append(np.full(len(hashes), position, np.int32))
            times.append(at.astype(np.int32))
        every = np.concatenate(keys) if keys else np.zeros(0, np.uint32)
        order = np.argsort(every, kind="stable")
        self.keys = every[order]
        self.owner = (np.concatenate(owner) if owner else np.zeros(0, np.int32))[order]
        self.times = (np.concatenate(times) if times else np.zeros(0, np.int32))[order]

    def __len__(self) -> int:
        return len(self.owner)

    @property
    def nbytes(self) -> int:
        return int(self.keys.nbytes + self.owner.nbytes + self.times.nbytes)

    def _postings(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each hash's first row in owner / times, and how many rows it has."""
        left = np.searchsorted(self.keys, hashes, "left")
        return left, np.searchsorted(self.keys, hashes, "right") - left

    def save(self, path: Path) -> None:
        """Write the index as one file for ``MappedLandmarkIndex``: a header, the banked sounds' positions and
        lengths, where each of the 2**20 hashes' postings start, and the postings (sound, frame) in hash order."""
        starts = np.searchsorted(self.keys, np.arange(_HASHES + 1, dtype=np.int64)).astype("<i8")
        positions = np.fromiter(self.frames, np.int64, len(self.frames))
        lengths = np.fromiter(self.frames.values(), np.int64, len(self.frames))
        with open(path, "wb") as out:
            out.write(struct.pack(_FILE_HEAD, _FILE_MAGIC, _FILE_VERSION, len(positions), len(self)))
            for part in (positions.astype("<i8"), lengths.astype("<i8"), starts, self.owner.astype("<i4"),
                         self.times.astype("<i4")):
                out.write(np.ascontiguousarray(part).tobytes())

    def scores(self, peaks: np.ndarray, minimum: float = -np.inf, fan_out: int = QUERY_FAN_OUT) -> list[LandmarkHit]:
        """Every banked sound that shares a hash with the upload and scores at least ``minimum``: its best offset
        and how well that stands out. ``fan_out``: how many later peaks each of the upload's is paired with."""
        hashes, at = landmark_hashes(peaks, fan_out)
        if not len(hashes) or not len(self):
            return []
        left, counts = self._postings(hashes)
        total = int(counts.sum())
        if not total:
            return []
        query = np.repeat(np.arange(len(hashes)), counts)
        rows = np.repeat(left, counts) + (np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts))
        owner = self.owner[rows].astype(np.int64)
        offset = self.times[rows].astype(np.int64) - at[query]
        values, tally = np.unique((owner << 32) | (offset + (1 << 31)), return_counts=True)
        near = tally.copy()     # the votes of each offset and its neighbours
        for delta in [d for d in range(-SLACK, SLACK + 1) if d]:
            where = np.minimum(np.searchsorted(values, values + delta), len(values) - 1)
            found = values[where] == values + delta
            near[found] += tally[where[found]]
        owners = values >> 32
        positions, starts = np.unique(owners, return_index=True)
        # each banked sound's best offset: the first of its group once sorted by count, highest first
        best = np.lexsort((-near, owners))[starts]
        # chance: the pair's votes spread over the offsets they could take, per 2 * SLACK + 1 frames
        lengths = np.array([self.frames[int(p)] for p in positions], np.float64)
        chance = (2 * SLACK + 1) * np.add.reduceat(tally, starts) / (int(at.max()) + 1 + lengths)
        # the rival: the RIVAL-th best offset of the pair away from its best
        away = np.where(np.abs(values - np.repeat(values[best], np.diff(np.append(starts, len(values)))))
                        <= EXCLUDE, 0, near)
        ranked = np.lexsort((-away, owners))
        rival_at = starts + RIVAL - 1
        ends = np.append(starts[1:], len(values))
        rival = np.where(rival_at < ends, away[ranked[np.minimum(rival_at, len(values) - 1)]], 0)
        rival = np.maximum(rival.astype(np.float64), chance)
        score = (near[best] - rival) / np.sqrt(rival + 1)
        hits = []
        for n in np.flatnonzero(score >= minimum):
            position = int(positions[n])
            centre = int((values[best[n]] & 0xFFFFFFFF) - (1 << 31))
            lined = at[query[(owner == position) & (np.abs(offset - centre) <= SLACK)]] * FRAME_SECONDS
            hits.append(LandmarkHit(position, int(near[best[n]]), round(float(score[n]), 1), centre * FRAME_SECONDS,
                                    float(lined.min()), float(lined.max())))
        return hits

    def match(self, peaks: np.ndarray) -> list[LandmarkHit]:
        """The banked sounds the upload's landmarks match: a score of at least MIN_SCORE."""
        return self.scores(peaks, MIN_SCORE)


class MappedLandmarkIndex(LandmarkIndex):
    """A ``LandmarkIndex.save``d file, memory-mapped: the postings stay on disk and the OS pages in the ones a
    lookup reads, so a bank of thousands of hours is not held in memory.

    8 bytes a hash on disk (its sound, its time: the hash is where its postings sit) plus 8 MB of offsets
    (where each of the 2**20 hashes' postings start); the lengths of the banked sounds (16 bytes each) in memory.
    Lookups and scores are the in-memory index's. ValueError naming the file when it is not one.
    """

    def __init__(self, path: Path) -> None:
        head = struct.calcsize(_FILE_HEAD)
        size = path.stat().st_size
        with open(path, "rb") as handle:
            try:
                magic, version, sounds, postings = struct.unpack(_FILE_HEAD, handle.read(head))
            except struct.error:
                raise ValueError(f"{path}: not a landmark index (too short)") from None
        if magic != _FILE_MAGIC or version != _FILE_VERSION:
            raise ValueError(f"{path}: not a landmark index of format {_FILE_VERSION}")
        if size != head + 16 * sounds + 8 * (_HASHES + 1) + 8 * postings:
            raise ValueError(f"{path}: {size} bytes, not the {sounds} sounds and {postings} postings its header says")
        at = head
        positions = np.fromfile(path, "<i8", sounds, offset=at)
        lengths = np.fromfile(path, "<i8", sounds, offset=at + 8 * sounds)
        at += 16 * sounds
        self.frames = dict(zip(positions.tolist(), lengths.tolist(), strict=True))
        self.starts = np.memmap(path, "<i8", "r", at, (_HASHES + 1,))
        at += 8 * (_HASHES + 1)
        self.owner = np.memmap(path, "<i4", "r", at, (postings,)) if postings else np.zeros(0, np.int32)
        self.times = (np.memmap(path, "<i4", "r", at + 4 * postings, (postings,)) if postings
                      else np.zeros(0, np.int32))
        self.keys = np.zeros(0, np.uint32)

    @property
    def nbytes(self) -> int:
        """What is held in memory (the banked sounds' lengths); the mapped file's pages are the OS's."""
        return 16 * len(self.frames)

    def _postings(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        left = np.asarray(self.starts[hashes])
        return left, np.asarray(self.starts[hashes.astype(np.int64) + 1]) - left
