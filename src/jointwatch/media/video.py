"""Video: what a file holds (probed with FFmpeg), its vPDQ frame hashes, the mirrored frames' PDQ.

vPDQ (Meta's video PDQ, the ``vpdq`` package, what HMA and ThreatExchange exchange) is the
PDQ hash of frames sampled at a fixed interval, each with its quality and timestamp. An
upload is hashed as vPDQ does by default, one frame a second. A banked video is hashed
denser, four frames a second, so an upload cut at any moment (its seconds fall between the
bank's) still meets a banked frame within a quarter second of its own; and the same frames
are mirrored and hashed again (PDQ's dihedral hashes, from frames decoded with ``av``),
because PDQ of a horizontally flipped frame shares nothing with the original's.
"""

from __future__ import annotations

import io
import os
import tempfile
from dataclasses import dataclass

import numpy as np

from jointwatch.errors import MessageFormatError
from jointwatch.media.deps import require
from jointwatch.media.hashing import MAX_PIXELS, bits_to_hex

QUERY_SECONDS_PER_HASH = 1.0   # vPDQ's default: what a partner's vPDQ hash holds too
BANK_SECONDS_PER_HASH = 0.25
# the longest video hashed: past it the upload is refused (naming the file), never cut
MAX_VIDEO_SECONDS = 3 * 3600
_MIRROR = 5   # pdqhash.compute_dihedral's order: the horizontal flip is the sixth


@dataclass(frozen=True)
class Probe:
    """What FFmpeg finds in a file: whether it has moving pictures and sound, and how long it runs."""

    video: bool
    audio: bool
    seconds: float
    width: int = 0
    height: int = 0


@dataclass(frozen=True)
class Frames:
    """Frame hashes of one video: timestamps (s), PDQ hashes (n, 32) and qualities, in time order."""

    timestamps: np.ndarray   # float32
    hashes: np.ndarray       # uint8 (n, 32)
    qualities: np.ndarray    # uint8

    def __len__(self) -> int:
        return len(self.timestamps)

    @classmethod
    def empty(cls) -> Frames:
        return cls(np.zeros(0, np.float32), np.zeros((0, 32), np.uint8), np.zeros(0, np.uint8))

    @classmethod
    def of(cls, rows: list[tuple[float, str, int]]) -> Frames:
        """From (timestamp, hex hash, quality) rows."""
        if not rows:
            return cls.empty()
        return cls(np.array([r[0] for r in rows], np.float32),
                   np.frombuffer(b"".join(bytes.fromhex(r[1]) for r in rows), np.uint8).reshape(-1, 32),
                   np.array([r[2] for r in rows], np.uint8))


def probe(data: bytes, name: str) -> Probe:
    """What the container holds; MessageFormatError naming ``name`` when FFmpeg cannot open it."""
    av = require("av", "av")
    attached = int(av.stream.Disposition.attached_pic)
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            moving = [s for s in container.streams.video if not int(s.disposition) & attached]
            seconds = float(container.duration or 0) / 1_000_000
            width, height = (moving[0].codec_context.width, moving[0].codec_context.height) if moving else (0, 0)
            return Probe(bool(moving), bool(container.streams.audio), seconds, width, height)
    except av.FFmpegError as exc:
        raise MessageFormatError(name, None, f"corrupt or truncated media: {exc}") from None


def check_video(found: Probe, name: str) -> None:
    """MessageFormatError naming ``name`` for a video too long or with frames too large to hash."""
    if found.seconds > MAX_VIDEO_SECONDS:
        raise MessageFormatError(name, None, f"the video runs {found.seconds / 3600:.1f} hours, over the "
                                             f"{MAX_VIDEO_SECONDS // 3600} hours hashed")
    if found.width * found.height > MAX_PIXELS:
        raise MessageFormatError(name, None, f"{found.width}x{found.height} frames are over the limit of "
                                             f"{MAX_PIXELS:,} pixels")


def vpdq_frames(data: bytes, name: str, seconds_per_hash: float = QUERY_SECONDS_PER_HASH) -> Frames:
    """The vPDQ hash of a video's bytes (the ``vpdq`` package reads a file, so it goes through a temporary one)."""
    vpdq = require("vpdq", "vpdq")
    handle, path = tempfile.mkstemp(prefix="jointwatch-", suffix=".video")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        try:
            features = vpdq.computeHash(path, seconds_per_hash=seconds_per_hash)
        except (ValueError, RuntimeError, OSError) as exc:
            raise MessageFormatError(name, None, f"the video's frames cannot be decoded: {exc}") from None
    finally:
        os.unlink(path)
    return Frames.of([(float(f.timestamp), f.hex, int(f.quality)) for f in features])


def mirrored_frames(data: bytes, name: str, seconds_per_hash: float = BANK_SECONDS_PER_HASH) -> Frames:
    """PDQ of every sampled frame flipped left to right (decoded with ``av``, hashed by the PDQ reference)."""
    av = require("av", "av")
    pdqhash = require("pdqhash", "pdqhash")
    rows: list[tuple[float, str, int]] = []
    due = 0.0
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            for frame in container.decode(stream):
                if frame.time is None or frame.time + 1e-6 < due:
                    continue
                due = frame.time + seconds_per_hash
                hashes, quality = pdqhash.compute_dihedral(np.ascontiguousarray(frame.to_ndarray(format="rgb24")))
                rows.append((float(frame.time), bits_to_hex(np.asarray(hashes[_MIRROR])), int(quality)))
    except av.FFmpegError as exc:
        raise MessageFormatError(name, None, f"corrupt or truncated video: {exc}") from None
    return Frames.of(rows)
