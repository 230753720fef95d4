"""Small generated video and sound files for the media tests: photographs panned and zoomed, tones and noise.

Encoded by FFmpeg through ``av`` as real files (H.264 in MP4, MP3, AAC in M4A, WAV, Opus in
Ogg), a few seconds each, so hashing them stays cheap.
"""

from __future__ import annotations

import io
from fractions import Fraction

import numpy as np

RATE = 11_025
FPS = 10
SIZE = (160, 120)


def pan(image: np.ndarray, seconds: float, seed: int) -> list[np.ndarray]:
    """A pan and zoom across an RGB photograph, SIZE at FPS."""
    import cv2

    rng = np.random.default_rng(seed)
    height, width = image.shape[:2]
    start, end, zoom = rng.uniform(0, 1, 2), rng.uniform(0, 1, 2), rng.uniform(0.5, 0.9)
    frames = []
    count = int(seconds * FPS)
    for i in range(count):
        t = i / max(1, count - 1)
        cw, ch = int(width * zoom), int(height * zoom)
        x = int((width - cw) * (start[0] + (end[0] - start[0]) * t))
        y = int((height - ch) * (start[1] + (end[1] - start[1]) * t))
        frames.append(cv2.resize(np.ascontiguousarray(image[y:y + ch, x:x + cw]), SIZE,
                                 interpolation=cv2.INTER_AREA))
    return frames


def watermark(frame: np.ndarray) -> np.ndarray:
    """A half-transparent white box with a channel's name in the top-right corner, and a line of text at the bottom."""
    import cv2

    marked = frame.copy()
    overlay = marked.copy()
    cv2.rectangle(overlay, (SIZE[0] - 60, 18), (SIZE[0] - 4, 36), (255, 255, 255), -1)
    marked = cv2.addWeighted(overlay, 0.5, marked, 0.5, 0)
    cv2.putText(marked, "@news", (SIZE[0] - 56, 32), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (20, 20, 200), 1)
    cv2.putText(marked, "t.me/mirror", (4, SIZE[1] - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 0), 1)
    return marked


def melody(seed: int, seconds: float) -> np.ndarray:
    """Plucked notes with harmonics over a noise beat, mono float at RATE: a stand-in for a nasheed."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    out = np.zeros_like(t)
    beat = 60 / rng.uniform(80, 140)
    base = rng.uniform(150, 330)
    for i in range(int(seconds / beat) + 1):
        s, e = int(i * beat * RATE), min(len(t), int((i + 1) * beat * RATE))
        if s >= len(t):
            break
        f = base * 2 ** (rng.choice([0, 2, 3, 5, 7, 8, 10, 12]) / 12)
        tt = t[s:e] - t[s]
        for harmonic, amplitude in ((1, 1.0), (2, 0.5), (3, 0.25)):
            out[s:e] += amplitude * np.exp(-tt * 2) * np.sin(2 * np.pi * f * harmonic * tt)
        k = min(e - s, 500)
        out[s:s + k] += rng.normal(0, 0.5, k) * np.exp(-np.arange(k) / 200)
    return (out / np.abs(out).max() * 0.5).astype(np.float32)


def mix(under: np.ndarray, over: np.ndarray, db_below: float) -> np.ndarray:
    """``over`` at its level with ``under`` mixed in ``db_below`` dB under it (by RMS), as long as ``over``."""
    def rms(x: np.ndarray) -> float:
        return float(np.sqrt(np.mean(np.square(x.astype(np.float64)))) or 1e-9)

    under = np.resize(under, len(over))
    mixed = over + under * (rms(over) / rms(under)) * 10 ** (-db_below / 20)
    return (mixed / max(1.0, float(np.abs(mixed).max()))).astype(np.float32)


def _sound_into(out, stream, sound: np.ndarray) -> None:  # type: ignore[no-untyped-def]
    import av

    resampler = av.AudioResampler(format=stream.format.name, layout="mono", rate=stream.rate,
                                  frame_size=stream.codec_context.frame_size or None)
    pcm = np.clip(sound, -1, 1).astype(np.float32)
    for start in range(0, len(pcm), 2048):
        frame = av.AudioFrame.from_ndarray(pcm[None, start:start + 2048], format="flt", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = RATE, start, Fraction(1, RATE)
        for converted in resampler.resample(frame):
            for packet in stream.encode(converted):
                out.mux(packet)
    for converted in resampler.resample(None):
        for packet in stream.encode(converted):
            out.mux(packet)
    for packet in stream.encode():
        out.mux(packet)


def video(frames: list[np.ndarray], sound: np.ndarray | None = None, codec: str = "libx264",
          container: str = "mp4", fps: int = FPS, bitrate: int | None = None, preset: str | None = None) -> bytes:
    """Frames (and a soundtrack) as a video file's bytes (also benchmarks/media_clips.py's encoder)."""
    import av

    buffer = io.BytesIO()
    with av.open(buffer, "w", format=container) as out:
        stream = out.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        if bitrate:
            stream.bit_rate = bitrate
        if preset:
            stream.options = {"preset": preset}
        audio = out.add_stream("aac", rate=44_100) if sound is not None else None
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
        if audio is not None and sound is not None:
            _sound_into(out, audio, sound)
    return buffer.getvalue()


def sound(samples: np.ndarray, codec: str, container: str, rate: int = 44_100) -> bytes:
    """Mono float sound at RATE as a file's bytes: (pcm_s16le, wav), (libmp3lame, mp3), (aac, ipod), (libopus, ogg)."""
    import av

    buffer = io.BytesIO()
    with av.open(buffer, "w", format=container) as out:
        stream = out.add_stream(codec, rate=rate)
        stream.layout = "mono"
        _sound_into(out, stream, samples)
    return buffer.getvalue()
