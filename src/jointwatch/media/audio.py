"""Audio fingerprints: Chromaprint's, of a sound file or a video's soundtrack, and how two line up.

(The other fingerprint of the same decode, spectral peaks paired into landmarks, is ``media.landmarks``'.)

Chromaprint (the library behind AcoustID, Debian's ``libchromaprint1``, called through
pyacoustid's binding) turns audio into one 32-bit number per ~0.124 s, each bit the sign of
a filter over a band of the chroma spectrogram: re-encoding (MP3, AAC, Opus), resampling and
volume changes leave almost every bit as it was, a different recording flips about half of
them. Two fingerprints match when, at the best offset of the shorter inside the longer, few
bits differ (the bit error rate, BER) over at least ``MIN_OVERLAP_SECONDS``: so a clip cut
out of a long speech, or a nasheed under a new intro, is found with where it starts.

Decoding is FFmpeg's (``av``): every format it reads (WAV, MP3, AAC/M4A, Ogg, FLAC, Opus, and
a video's audio stream), resampled to mono 11,025 Hz, Chromaprint's own working rate.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from jointwatch.errors import MessageFormatError
from jointwatch.media.deps import require
from jointwatch.media.landmarks import RATE, PeakFinder

# Chromaprint's step: 4096-sample frames with 2/3 overlap at 11,025 Hz, so one item per 1365.33 samples
ITEM_SECONDS = 4096 / 3 / RATE
# the longest stretch fingerprinted (a sermon or an album side); a longer file is refused, not cut
MAX_AUDIO_SECONDS = 3 * 3600
# fingerprints must overlap this long to be compared at all: shorter stretches agree by chance (Chromaprint
# gives a 10-second clip ~62 items, ~7.7 s: its frames and filters need ~2 s of the sound to start)
MIN_OVERLAP_SECONDS = 6.0
# the largest bit error rate that matches: re-encodes, cuts and volume changes stay under 0.05, a voice
# or a music bed mixed 6-10 dB under the sound under 0.2; the best offset of unrelated sound came to 0.29
# at the least (benchmarks/bench_media.py --video-audio, which prints both)
MAX_BIT_ERROR_RATE = 0.25
MIN_OVERLAP_ITEMS = int(np.ceil(MIN_OVERLAP_SECONDS / ITEM_SECONDS))
_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


@dataclass(frozen=True)
class Alignment:
    """Where the shorter fingerprint sits in the longer one, and how well it agrees there."""

    bit_error_rate: float
    offset: float     # seconds into the banked sound at which the query starts (negative: the bank starts later)
    overlap: float    # seconds compared


def _pcm_chunks(data: bytes, name: str) -> Iterator[np.ndarray]:
    """The first audio stream of ``data`` as mono int16 chunks at RATE (nothing when it has none).

    MessageFormatError naming ``name`` when FFmpeg cannot read it or it runs over MAX_AUDIO_SECONDS.
    """
    av = require("av", "av")
    samples = 0
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.audio:
                return
            resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
            for frame in container.decode(container.streams.audio[0]):
                for out in resampler.resample(frame):
                    chunk = out.to_ndarray().reshape(-1).astype(np.int16)
                    samples += len(chunk)
                    yield chunk
                if samples > MAX_AUDIO_SECONDS * RATE:
                    raise MessageFormatError(name, None, f"the audio runs over {MAX_AUDIO_SECONDS // 3600} hours, "
                                                         "the longest fingerprinted")
            for out in resampler.resample(None):
                yield out.to_ndarray().reshape(-1).astype(np.int16)
    except av.FFmpegError as exc:
        raise MessageFormatError(name, None, f"corrupt or truncated audio: {exc}") from None


def decode_audio(data: bytes, name: str) -> np.ndarray:
    """All the audio of ``data`` as mono int16 at RATE (empty when it has none); errors as ``_pcm_chunks``."""
    chunks = list(_pcm_chunks(data, name))
    return np.concatenate(chunks) if chunks else np.zeros(0, np.int16)


def sound_fingerprint(data: bytes, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Chromaprint's raw fingerprint (uint32, one per ITEM_SECONDS) and the spectrogram peaks (``media.landmarks``)
    of the sound in ``data``, from one decode fed a chunk at a time (an hour of sound never sits in memory); both
    empty when it has no sound."""
    chromaprint = require("chromaprint", "pyacoustid")
    printer = chromaprint.Fingerprinter()
    printer.start(RATE, 1)
    peaks = PeakFinder()
    fed = 0
    for chunk in _pcm_chunks(data, name):
        printer.feed(np.ascontiguousarray(chunk, dtype="<i2").tobytes())
        peaks.feed(chunk)
        fed += len(chunk)
    if not fed:
        return np.zeros(0, np.uint32), np.zeros(0, np.uint32)
    raw, _algorithm = chromaprint.decode_fingerprint(printer.finish())
    return np.asarray(raw, dtype=np.uint32), peaks.finish()


def _popcount(values: np.ndarray) -> np.ndarray:
    return _POPCOUNT[values.view(np.uint8)].reshape(*values.shape, 4).sum(axis=-1, dtype=np.int32)


def align(query: np.ndarray, banked: np.ndarray) -> Alignment | None:
    """The best offset of the shorter fingerprint inside the longer; None if either is under MIN_OVERLAP_ITEMS."""
    if min(len(query), len(banked)) < MIN_OVERLAP_ITEMS:
        return None
    short, long_, sign = (query, banked, 1) if len(query) <= len(banked) else (banked, query, -1)
    windows = np.lib.stride_tricks.sliding_window_view(long_, len(short))
    errors = np.empty(len(windows), dtype=np.int64)
    # in slices, so a long sermon against a short clip never builds a huge array at once
    step = max(1, 2_000_000 // len(short))
    for start in range(0, len(windows), step):
        errors[start:start + step] = _popcount(windows[start:start + step] ^ short).sum(axis=1)
    best = int(errors.argmin())
    return Alignment(float(errors[best]) / (32 * len(short)), sign * best * ITEM_SECONDS, len(short) * ITEM_SECONDS)


def fingerprint_bytes(values: np.ndarray) -> bytes:
    """A fingerprint as little-endian uint32s."""
    return np.ascontiguousarray(values, dtype="<u4").tobytes()
