"""Video and audio in the bank: their signatures, and matching an upload against every banked clip.

A banked video keeps its vPDQ frames (four a second), the mirrored frames' PDQ, and the
Chromaprint fingerprint of its soundtrack; a banked sound file keeps its fingerprint. An
upload's signature is the same at vPDQ's one frame a second, without mirrors.

A video matches a banked one when at least ``MIN_FRAMES`` of its frames meet banked frames
(PDQ within 31 bits, both of quality 50 or more) at one consistent time offset, and those
frames are at least ``MIN_SHARE`` of the upload's frames or of the banked video's length:
so a 10-second clip cut out of an hour matches (all of the clip is there), and so does the
whole video with an intro and an outro added (all of the banked video is there). Each match
reports both shares. Sound (an audio file or a video's soundtrack) matches any banked sound
(of an audio item or of a video's soundtrack) that either of its fingerprints lines up with:
Chromaprint (``media.audio``) or landmarks (``media.landmarks``), so a known nasheed under a
different video, or under a louder voice, is found.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np

from jointwatch.errors import InvalidInputError, MessageFormatError
from jointwatch.media.audio import MAX_BIT_ERROR_RATE, align, fingerprint_bytes, sound_fingerprint
from jointwatch.media.hashing import PDQ_MIN_QUALITY
from jointwatch.media.index import HammingIndex
from jointwatch.media.landmarks import FRAME_SECONDS, MIN_SCORE, LandmarkHit, LandmarkIndex, peaks_bytes
from jointwatch.media.sniff import MediaKind
from jointwatch.media.video import (
    BANK_SECONDS_PER_HASH,
    MAX_VIDEO_SECONDS,
    QUERY_SECONDS_PER_HASH,
    Frames,
    check_video,
    mirrored_frames,
    probe,
    vpdq_frames,
)

# the first byte of a stored signature: 1 is an image's (``media.signature``), 2 a clip's
CLIP_FORMAT = 2
_KINDS: dict[MediaKind, int] = {"video": 1, "audio": 2}
_HEAD = "<BBfI"
_FRAME = np.dtype([("t", "<f4"), ("q", "u1"), ("h", "u1", (32,))])
FRAME_DISTANCE = 31     # PDQ's operating point, as for images
MIN_FRAMES = 3          # query frames within FRAME_DISTANCE that must line up with one banked video
# once MIN_FRAMES have fixed the offset, a frame at that offset counts within this distance: a watermark
# or caption moves PDQ 30-80 bits, an unrelated frame sits ~128 bits away (the nearest unrelated frame of
# the benchmark's videos at their best offset: 104)
ALIGNED_DISTANCE = 64
MIN_SHARE = 0.5         # of the upload's frames, or of the banked video's length
OFFSET_SLACK = 1.0      # seconds: frames within this of the best offset line up
# a banked sound whose landmarks score this much against an upload is aligned with Chromaprint too (half of
# MIN_SCORE: every upload the benchmark's Chromaprint found scored 20 or more)
CANDIDATE_SCORE = 5.0


def is_clip_signature(data: bytes | None) -> bool:
    """Whether a stored signature is a clip's (video or audio), not an image's."""
    return bool(data) and data[0] == CLIP_FORMAT  # type: ignore[index]


@dataclass(frozen=True)
class ClipSignature:
    """What is kept (bank) or matched (upload) of a video or a sound file: hashes only, never frames or samples."""

    kind: MediaKind
    seconds: float
    frames: Frames              # vPDQ (empty for audio)
    mirrored: Frames            # bank side only: PDQ of the flipped frames
    fingerprint: np.ndarray     # Chromaprint, uint32 (empty: no sound)
    # spectral peaks (``media.landmarks``), uint32 frame << 8 | bin; empty: no sound, or banked before landmarks
    peaks: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint32))

    def to_bytes(self) -> bytes:
        """A compact, versioned binary form (no pickle): the store and the exchange keep this."""
        out = [struct.pack(_HEAD, CLIP_FORMAT, _KINDS[self.kind], self.seconds, len(self.frames))]
        for frames in (self.frames, self.mirrored):
            packed = np.zeros(len(frames), _FRAME)
            packed["t"], packed["q"], packed["h"] = frames.timestamps, frames.qualities, frames.hashes
            out.append(struct.pack("<I", len(frames)) + packed.tobytes())
        out.append(struct.pack("<I", len(self.fingerprint)) + fingerprint_bytes(self.fingerprint))
        out.append(struct.pack("<I", len(self.peaks)) + peaks_bytes(self.peaks))
        return b"".join(out)

    @classmethod
    def from_bytes(cls, data: bytes) -> ClipSignature:
        """The signature in ``data``; ValueError naming the fault if it is not one."""
        try:
            version, kind_code, seconds, _count = struct.unpack_from(_HEAD, data, 0)
            if version != CLIP_FORMAT:
                raise ValueError(f"clip signature format {version} is not {CLIP_FORMAT}")
            kind = next(k for k, code in _KINDS.items() if code == kind_code)
            at = struct.calcsize(_HEAD)
            parts = []
            for _ in range(2):
                (n,) = struct.unpack_from("<I", data, at)
                at += 4
                packed = np.frombuffer(data, _FRAME, count=n, offset=at)
                at += n * _FRAME.itemsize
                parts.append(Frames(packed["t"].astype(np.float32), np.ascontiguousarray(packed["h"]),
                                    packed["q"].astype(np.uint8)))
            (n,) = struct.unpack_from("<I", data, at)
            at += 4
            values = np.frombuffer(data, "<u4", count=n, offset=at).astype(np.uint32)
            at += 4 * n
            peaks = np.zeros(0, np.uint32)
            if at < len(data):   # signatures banked before landmarks end after the fingerprint
                (n,) = struct.unpack_from("<I", data, at)
                at += 4
                peaks = np.frombuffer(data, "<u4", count=n, offset=at).astype(np.uint32)
                at += 4 * n
        except (struct.error, ValueError, StopIteration) as exc:
            raise ValueError(f"not a valid clip signature: {exc or 'unknown kind'}") from None
        if at != len(data):
            raise ValueError(f"not a valid clip signature: {len(data) - at} bytes left over")
        return cls(kind, float(seconds), parts[0], parts[1], values, peaks)


def vpdq_signature(features: list[str]) -> ClipSignature:
    """A video's signature from bare vPDQ features as ThreatExchange and HMA write them (``<PDQ hex>,<quality>,
    <timestamp>``): what a partner sends who hashed the video itself. InvalidInputError naming a bad feature."""
    rows = []
    for number, feature in enumerate(features, start=1):
        try:
            value, quality, timestamp = feature.strip().split(",")
            row = (float(timestamp), value.lower(), int(quality))
            if len(row[1]) != 64 or not 0 <= row[2] <= 100 or not 0 <= row[0] <= MAX_VIDEO_SECONDS:
                raise ValueError
            bytes.fromhex(row[1])
        except ValueError:
            raise InvalidInputError(f"vpdq feature {number} ({feature[:80]!r}) is not '<64 hex digits>,<quality "
                                    "0-100>,<seconds>'") from None
        rows.append(row)
    if not rows:
        raise InvalidInputError("vpdq: no feature given")
    rows.sort()
    return ClipSignature("video", rows[-1][0] + QUERY_SECONDS_PER_HASH, Frames.of(rows), Frames.empty(),
                         np.zeros(0, np.uint32))


def vpdq_features(signature: ClipSignature) -> list[str]:
    """A video's vPDQ frames as ThreatExchange and HMA write them (``<PDQ hex>,<quality>,<timestamp>``): the
    inverse of ``vpdq_signature``, for exchange (a banked video's four frames a second)."""
    frames = signature.frames
    return [f"{code.tobytes().hex()},{int(quality)},{float(timestamp):.3f}"
            for code, quality, timestamp in zip(frames.hashes, frames.qualities, frames.timestamps, strict=True)]


def clip_kind(data: bytes, name: str) -> MediaKind:
    """``video`` or ``audio``, from the streams FFmpeg finds; MessageFormatError naming ``name`` if it has neither."""
    found = probe(data, name)
    if not found.video and not found.audio:
        raise MessageFormatError(name, None, "no video or audio stream in the file")
    return "video" if found.video else "audio"


def hash_clip(data: bytes, name: str, for_bank: bool) -> ClipSignature:
    """The signature of a video or sound file's bytes; MessageFormatError naming ``name`` when it cannot be read.

    The kind comes from what FFmpeg finds inside: a file with moving pictures is a video (its
    soundtrack fingerprinted too), one with only sound is audio.
    """
    found = probe(data, name)
    if not found.video and not found.audio:
        raise MessageFormatError(name, None, "no video or audio stream in the file")
    sound, peaks = sound_fingerprint(data, name) if found.audio else (np.zeros(0, np.uint32),) * 2
    if not found.video:
        return ClipSignature("audio", found.seconds, Frames.empty(), Frames.empty(), sound, peaks)
    check_video(found, name)
    frames = vpdq_frames(data, name, BANK_SECONDS_PER_HASH if for_bank else QUERY_SECONDS_PER_HASH)
    if not len(frames):
        raise MessageFormatError(name, None, "no frame of the video could be decoded")
    mirrored = mirrored_frames(data, name) if for_bank else Frames.empty()
    return ClipSignature("video", found.seconds, frames, mirrored, sound, peaks)


@dataclass(frozen=True)
class ClipHit:
    """One banked clip an upload matched: by frames (vPDQ, of the mirror image) or by sound (Chromaprint, landmarks)."""

    position: int                 # the item's position in the matcher's rows
    method: str                   # "vpdq", "vpdq-mirror", "chromaprint" or "landmarks"
    share: float                  # of the upload's frames (or its sound) that lines up
    bank_share: float             # of the banked video's length (or its sound) that lines up
    offset: float                 # seconds into the banked clip at which the upload starts
    distance: int | None = None   # vPDQ: the median PDQ distance of the matched frames
    bit_error_rate: float | None = None
    landmarks: int | None = None  # landmarks: the upload's peak pairs found at the best offset


def _good(frames: Frames) -> np.ndarray:
    """Indices of the frames worth matching: quality >= 50, consecutive repeats dropped (as vPDQ does)."""
    keep = frames.qualities >= PDQ_MIN_QUALITY
    if len(frames) > 1:
        repeat = np.zeros(len(frames), bool)
        repeat[1:] = (frames.hashes[1:] == frames.hashes[:-1]).all(axis=1)
        keep &= ~repeat
    return np.flatnonzero(keep)


class ClipIndex:
    """Every banked clip's frames (and mirrored frames) in one Hamming index, every Chromaprint fingerprint, and
    every sound's landmarks in one inverted index."""

    def __init__(self, signatures: list[tuple[int, ClipSignature]]) -> None:
        codes, owner, times, mirror = [], [], [], []
        self.seconds: dict[int, float] = {}
        self.sounds: list[tuple[int, np.ndarray]] = []
        peaks: list[tuple[int, np.ndarray]] = []
        for position, signature in signatures:
            self.seconds[position] = signature.seconds
            for flipped, frames in ((False, signature.frames), (True, signature.mirrored)):
                good = _good(frames)
                codes.append(frames.hashes[good])
                owner.append(np.full(len(good), position, np.int64))
                times.append(frames.timestamps[good])
                mirror.append(np.full(len(good), flipped))
            if len(signature.fingerprint):
                self.sounds.append((position, signature.fingerprint))
            if len(signature.peaks):
                peaks.append((position, signature.peaks))
        self.landmarks = LandmarkIndex(peaks)
        # sounds banked before landmarks were kept (or imported without them): Chromaprint scans them all
        self.unindexed = {position for position, _ in self.sounds} - set(self.landmarks.frames)
        self.codes = np.concatenate(codes) if codes else np.zeros((0, 32), np.uint8)
        self.index = HammingIndex(self.codes)
        self.owner = np.concatenate(owner) if owner else np.zeros(0, np.int64)
        self.times = np.concatenate(times) if times else np.zeros(0, np.float32)
        self.mirror = np.concatenate(mirror) if mirror else np.zeros(0, bool)

    def __len__(self) -> int:
        return len(self.seconds)

    def match(self, query: ClipSignature) -> list[ClipHit]:
        """The banked clips the upload matches: by frames first, then by sound (Chromaprint, then landmarks: either
        fingerprint is enough); one hit per item."""
        found = {hit.position: hit for hit in self._by_frames(query.frames)}
        # the landmark index names the few banked sounds worth aligning Chromaprint with: a score of
        # CANDIDATE_SCORE or more (never-indexed sounds always): no scan of every banked fingerprint
        scored = self.landmarks.scores(query.peaks, CANDIDATE_SCORE) if len(query.peaks) else []
        candidates = {hit.position for hit in scored} | self.unindexed
        for hit in self._by_sound(query.fingerprint, candidates) + self._by_landmarks(scored, query.seconds):
            found.setdefault(hit.position, hit)
        return list(found.values())

    def _by_frames(self, frames: Frames) -> list[ClipHit]:
        good = _good(frames)
        if not len(good) or not len(self.owner):
            return []
        hits = self.index.search(np.ascontiguousarray(frames.hashes[good]), FRAME_DISTANCE)
        if not len(hits):
            return []
        query_times = frames.timestamps[good][hits.query]
        offsets = self.times[hits.ids] - query_times
        results: list[ClipHit] = []
        for position, flipped in {(int(p), bool(m)) for p, m in zip(self.owner[hits.ids], self.mirror[hits.ids],
                                                                     strict=True)}:
            mine = np.flatnonzero((self.owner[hits.ids] == position) & (self.mirror[hits.ids] == flipped))
            # the offset most frames agree on (to the second), then every frame within the slack of it
            votes = np.round(offsets[mine]).astype(np.int64)
            values, counts = np.unique(votes, return_counts=True)
            best = float(values[counts.argmax()])
            lined = mine[np.abs(offsets[mine] - best) <= OFFSET_SLACK]
            if len(np.unique(hits.query[lined])) < MIN_FRAMES:
                continue
            # at that offset, every query frame against the banked frames within the slack of its time
            distances = self._aligned(frames, good, position, flipped, best)
            matched = distances <= ALIGNED_DISTANCE
            share = float(matched.mean())
            span = self.seconds.get(position) or 0.0
            bank_share = min(1.0, int(matched.sum()) * QUERY_SECONDS_PER_HASH / span) if span > 0 else 0.0
            if max(share, bank_share) < MIN_SHARE:
                continue
            distance = int(np.median(distances[matched]))
            results.append(ClipHit(position, "vpdq-mirror" if flipped else "vpdq", round(share, 3),
                                   round(bank_share, 3), round(best, 2), distance=distance))
        # the original frames' hit before the mirror's, for the same item
        results.sort(key=lambda h: (h.position, h.method != "vpdq"))
        first: dict[int, ClipHit] = {}
        for hit in results:
            first.setdefault(hit.position, hit)
        return list(first.values())

    def _aligned(self, frames: Frames, good: np.ndarray, position: int, flipped: bool, offset: float) -> np.ndarray:
        """Each good query frame's PDQ distance to the nearest banked frame within OFFSET_SLACK of its time + offset."""
        rows = np.flatnonzero((self.owner == position) & (self.mirror == flipped))
        times, codes = self.times[rows], self.codes[rows]
        out = np.full(len(good), 256, np.int64)
        for n, frame in enumerate(good):
            near = np.abs(times - (frames.timestamps[frame] + offset)) <= OFFSET_SLACK
            if near.any():
                out[n] = int(np.bitwise_count(codes[near] ^ frames.hashes[frame]).sum(axis=1).min())
        return out

    def _by_sound(self, sound: np.ndarray, among: set[int] | None = None) -> list[ClipHit]:
        """Chromaprint's hits among these banked sounds (None: every one)."""
        results = []
        for position, banked in self.sounds:
            if among is not None and position not in among:
                continue
            found = align(sound, banked)
            if found is None or found.bit_error_rate > MAX_BIT_ERROR_RATE:
                continue
            seconds = len(banked) * (found.overlap / min(len(sound), len(banked)))
            query_seconds = len(sound) * (found.overlap / min(len(sound), len(banked)))
            results.append(ClipHit(position, "chromaprint", round(min(1.0, found.overlap / query_seconds), 3),
                                   round(min(1.0, found.overlap / seconds), 3), round(found.offset, 2),
                                   bit_error_rate=round(found.bit_error_rate, 3)))
        return results

    def _by_landmarks(self, scored: list[LandmarkHit], seconds: float) -> list[ClipHit]:
        """Hits of the upload's landmarks (a score of MIN_SCORE): share and bank_share from the stretch between the
        first and the last peak pair that lines up."""
        results = []
        for hit in scored:
            if hit.score < MIN_SCORE:
                continue
            span = hit.last - hit.first + FRAME_SECONDS
            banked = self.seconds.get(hit.position) or 0.0
            share = round(min(1.0, span / seconds), 3) if seconds > 0 else 0.0
            results.append(ClipHit(hit.position, "landmarks", share,
                                   round(min(1.0, span / banked), 3) if banked > 0 else 0.0, round(hit.offset, 2),
                                   landmarks=hit.landmarks))
        return results
