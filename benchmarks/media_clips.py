"""The video and sound sets of the media benchmark, made by code, and their recall tables.

Video: scikit-image's and scikit-learn's sample photographs, animated (pans and zooms, a
title bar) and encoded with ``av`` (H.264 in MP4), three scenes a video. Banked videos use
one set of photographs, the unrelated videos another and drawn noise, so nothing they share
is real. Each banked video is edited as re-uploaders do, and every edit is matched against
the bank: ours (``jointwatch.media``), vPDQ alone (HMA's rule: at least 80% of the upload's
frames within 31 bits of a banked video's frames, quality >= 50, one hash a second on both
sides) and exact MD5.

Sound: "nasheeds" (synthesised melodies: plucked notes with harmonics over a beat, a seed each)
and speeches (espeak-ng, several voices, if it is installed), edited (MP3 and AAC re-encodes,
a 10-second cut, +-6 dB, a voice over the nasheed or a music bed under the speech) and
matched: ours (Chromaprint aligned by bit error rate, or landmarks voting for one offset) beside each of
the two alone and exact MD5. The soundtrack row
puts a banked nasheed under an unrelated video.

Everything is deterministic (seeded), so the table is the same on every run.
"""

from __future__ import annotations

import io
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np

from jointwatch.media import BankItem, MatchableRow, Matcher, hash_media
from jointwatch.media.audio import MAX_BIT_ERROR_RATE, RATE, align
from jointwatch.media.clips import CANDIDATE_SCORE
from jointwatch.media.hashing import PDQ_MIN_QUALITY, exact_hashes
from jointwatch.media.landmarks import MIN_SCORE

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))   # the encoders of tests/media/clips.py
from tests.media.clips import mix, video  # noqa: E402
from tests.media.clips import sound as encode_sound  # noqa: E402

FPS = 15
SIZE = (320, 240)
SCENE_SECONDS = 20        # three scenes: a 60-second video
BANKED_PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "cat", "immunohistochemistry", "hubble_deep_field",
                 "retina", "china", "flower", "coins", "camera")
UNRELATED_PHOTOS = ("moon", "brick", "grass", "gravel", "page", "text", "clock", "logo", "horse")


def photo(name: str) -> np.ndarray:
    """An RGB sample photograph of scikit-image (or scikit-learn's two)."""
    if name in ("china", "flower"):
        from sklearn.datasets import load_sample_image

        return load_sample_image(f"{name}.jpg")
    import skimage.data

    image = np.asarray(getattr(skimage.data, name)())
    if image.dtype == bool:
        image = image.astype(np.uint8) * 255
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    return np.ascontiguousarray(image[..., :3]).astype(np.uint8)


def scene(image: np.ndarray, seconds: float, seed: int) -> list[np.ndarray]:
    """A pan and zoom across the photograph, SIZE at FPS."""
    rng = np.random.default_rng(seed)
    height, width = image.shape[:2]
    start, end = rng.uniform(0, 1, 2), rng.uniform(0, 1, 2)
    zooms = rng.uniform(0.5, 0.95, 2)
    frames = []
    count = int(seconds * FPS)
    for i in range(count):
        t = i / max(1, count - 1)
        zoom = zooms[0] + (zooms[1] - zooms[0]) * t
        cw, ch = int(width * zoom), int(height * zoom)
        x = int((width - cw) * (start[0] + (end[0] - start[0]) * t))
        y = int((height - ch) * (start[1] + (end[1] - start[1]) * t))
        crop = np.ascontiguousarray(image[y:y + ch, x:x + cw])
        frames.append(cv2.resize(crop, SIZE, interpolation=cv2.INTER_AREA))
    return frames


def title(frames: list[np.ndarray], text: str) -> list[np.ndarray]:
    """A black title bar with white text at the top of every frame (part of the banked video)."""
    out = []
    for frame in frames:
        framed = frame.copy()
        framed[:28] = 0
        cv2.putText(framed, text, (8, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (255, 255, 255), 1, cv2.LINE_AA)
        out.append(framed)
    return out


def noise_scene(seconds: float, seed: int) -> list[np.ndarray]:
    """Drawn, unrelated footage: moving blobs of colour over smoothed noise."""
    rng = np.random.default_rng(seed)
    base = cv2.GaussianBlur(rng.integers(0, 256, (SIZE[1] * 2, SIZE[0] * 2, 3), dtype=np.uint8), (0, 0), 6)
    base = cv2.normalize(base, None, 0, 255, cv2.NORM_MINMAX)
    frames = []
    for i in range(int(seconds * FPS)):
        x, y = int(SIZE[0] / 2 * (1 + np.sin(i / 40 + seed))), int(SIZE[1] / 2 * (1 + np.cos(i / 55 + seed)))
        frame = np.ascontiguousarray(base[y:y + SIZE[1], x:x + SIZE[0]])
        cv2.circle(frame, (int(160 + 120 * np.sin(i / 20)), 120), 30, (int(seed * 40 % 255), 80, 200), -1)
        frames.append(frame)
    return frames


def encode_video(frames: list[np.ndarray], sound: np.ndarray | None = None, codec: str = "libx264",
                 container: str = "mp4", fps: int = FPS, bitrate: int | None = None) -> bytes:
    """Frames (and mono float sound at RATE) as a video file's bytes: the tests' encoder, faster."""
    return video(frames, sound, codec, container, fps=fps, bitrate=bitrate,
                 preset="ultrafast" if codec == "libx264" else None)


def decode_frames(data: bytes) -> list[np.ndarray]:
    import av

    with av.open(io.BytesIO(data)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


# ---- video ----

def banked_videos(count: int) -> list[tuple[str, list[np.ndarray]]]:
    """``count`` 60-second videos of three scenes each, from the banked photographs."""
    videos = []
    for v in range(count):
        names = [BANKED_PHOTOS[(v * 3 + k) % len(BANKED_PHOTOS)] for k in range(3)]
        frames: list[np.ndarray] = []
        for k, name in enumerate(names):
            frames += scene(photo(name), SCENE_SECONDS, seed=100 * v + k)
        videos.append((f"video-{v}", title(frames, f"Official release no. {v + 1}") if v % 2 else frames))
    return videos


def unrelated_videos(count: int) -> list[bytes]:
    """Videos that share nothing with the banked ones: other photographs, and drawn noise."""
    out = []
    for u in range(count):
        if u % 3 == 2:
            frames = noise_scene(30, seed=u)
        else:
            frames = scene(photo(UNRELATED_PHOTOS[u % len(UNRELATED_PHOTOS)]), 15, seed=900 + u)
            frames += scene(photo(UNRELATED_PHOTOS[(u + 4) % len(UNRELATED_PHOTOS)]), 15, seed=950 + u)
        out.append(encode_video(frames))
    return out


def _watermark(frame: np.ndarray) -> np.ndarray:
    marked = frame.copy()
    overlay = marked.copy()
    cv2.rectangle(overlay, (SIZE[0] - 110, 36), (SIZE[0] - 8, 70), (255, 255, 255), -1)
    marked = cv2.addWeighted(overlay, 0.5, marked, 0.5, 0)
    cv2.putText(marked, "@news_ch", (SIZE[0] - 104, 60), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (20, 20, 200), 2)
    cv2.putText(marked, "t.me/mirror_channel", (8, SIZE[1] - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 0), 1)
    return marked


VIDEO_EDITS: dict[str, Callable[[list[np.ndarray], int], bytes]] = {
    "re-encode (MPEG-4 Part 2, low bitrate)": lambda f, v: encode_video(f, codec="mpeg4", bitrate=200_000),
    "re-encode (VP9 in WebM)": lambda f, v: encode_video(f, codec="libvpx-vp9", container="webm",
                                                          bitrate=300_000),
    "resize to 160x120": lambda f, v: encode_video([cv2.resize(x, (160, 120), interpolation=cv2.INTER_AREA)
                                                    for x in f]),
    "resize to 640x480": lambda f, v: encode_video([cv2.resize(x, (640, 480), interpolation=cv2.INTER_CUBIC)
                                                    for x in f]),
    "10 s clip (from 13.4 s + 7 s a video)": lambda f, v: encode_video(
        f[int((13.4 + 7 * v) * FPS):int((23.4 + 7 * v) * FPS)]),
    "intro + outro (8 s each)": lambda f, v: encode_video(noise_scene(8, 500 + v) + f + noise_scene(8, 600 + v)),
    "watermark + channel text": lambda f, v: encode_video([_watermark(x) for x in f]),
    "horizontal flip": lambda f, v: encode_video([np.ascontiguousarray(x[:, ::-1]) for x in f]),
}


def _row(position: int, signature: bytes | None, md5: str, sha256: str, kind: str) -> MatchableRow:
    now = datetime.now(UTC)
    item = BankItem(position + 1, 1, "bench", md5, sha256, None, None, None, "propaganda", "amber", "active",
                    "bench", now, now, kind=kind)
    return MatchableRow(item, signature)


def _vpdq_alone(query: list, banked: list[list]) -> set[int]:  # type: ignore[type-arg]
    """HMA's vPDQ rule: the banked videos that >= 80% of the upload's (deduplicated, quality >= 50) frames match."""
    def good(features: list) -> list[bytes]:  # type: ignore[type-arg]
        seen: list[bytes] = []
        for f in features:
            code = bytes.fromhex(f.hex)
            if f.quality >= PDQ_MIN_QUALITY and code not in seen:
                seen.append(code)
        return seen

    q = good(query)
    if not q:
        return set()
    qa = np.frombuffer(b"".join(q), np.uint8).reshape(-1, 32)
    found = set()
    for position, features in enumerate(banked):
        b = good(features)
        if not b:
            continue
        ba = np.frombuffer(b"".join(b), np.uint8).reshape(-1, 32)
        distance = np.bitwise_count(qa[:, None, :] ^ ba[None, :, :]).sum(axis=2)
        if (distance.min(axis=1) <= 31).mean() >= 0.8:
            found.add(position)
    return found


def _vpdq_features(data: bytes) -> list:  # type: ignore[type-arg]
    import os
    import tempfile

    import vpdq

    handle, path = tempfile.mkstemp(suffix=".video")
    with os.fdopen(handle, "wb") as out:
        out.write(data)
    try:
        return list(vpdq.computeHash(path, seconds_per_hash=1.0))
    finally:
        os.unlink(path)


@dataclass
class Tally:
    found: int = 0
    anchor: int = 0
    md5: int = 0
    total: int = 0
    false: int = 0


def video_table(count: int = 6, unrelated: int = 9) -> None:
    """Recall per edit and false matches: ours beside vPDQ alone and exact MD5; seconds per minute of video."""
    started = time.perf_counter()
    videos = banked_videos(count)
    files = [encode_video(frames) for _, frames in videos]
    print(f"built {count} banked videos ({len(videos[0][1]) / FPS:.0f} s, {SIZE[0]}x{SIZE[1]}, {FPS} fps) "
          f"in {time.perf_counter() - started:.0f} s", flush=True)
    rows, bank_seconds, md5s = [], [], []
    for position, data in enumerate(files):
        t0 = time.perf_counter()
        hashed = hash_media(data, f"video-{position}", for_bank=True)
        bank_seconds.append(time.perf_counter() - t0)
        rows.append(_row(position, hashed.signature_bytes(), hashed.hashes.md5, hashed.hashes.sha256, "video"))
        md5s.append(hashed.hashes.md5)
    matcher = Matcher(rows)
    anchor_bank = [_vpdq_features(data) for data in files]
    tallies: dict[str, Tally] = {}
    query_seconds: list[tuple[float, float]] = []   # (processing s, video s)

    def check(label: str, data: bytes, expected: int | None, video_seconds: float) -> None:
        tally = tallies.setdefault(label, Tally())
        t0 = time.perf_counter()
        hashed = hash_media(data, label)
        found = {m.item.id - 1 for m in matcher.match(hashed.hashes, hashed.clip)}
        query_seconds.append((time.perf_counter() - t0, video_seconds))
        anchor = _vpdq_alone(_vpdq_features(data), anchor_bank)
        exact = {i for i, md5 in enumerate(md5s) if md5 == hashed.hashes.md5}
        if expected is not None:
            tally.total += 1
            tally.found += expected in found
            tally.anchor += expected in anchor
            tally.md5 += expected in exact
        tally.false += len(found - {expected})

    for v, (_, frames) in enumerate(videos):
        check("the banked file itself", files[v], v, len(frames) / FPS)
        for label, edit in VIDEO_EDITS.items():
            check(label, edit(frames, v), v, len(frames) / FPS)
    for data in unrelated_videos(unrelated):
        check("unrelated videos", data, None, 30)
    print("\n| video edit | uploads | ours | vPDQ alone | exact MD5 | false matches (ours) |")
    print("|---|---|---|---|---|---|")
    for label, t in tallies.items():
        if t.total:
            print(f"| {label} | {t.total} | {t.found / t.total:.2f} | {t.anchor / t.total:.2f} | "
                  f"{t.md5 / t.total:.2f} | {t.false} |")
        else:
            print(f"| {label} | {sum(1 for _ in range(unrelated))} | – | – | – | {t.false} |")
    minute = 60 / (len(videos[0][1]) / FPS)
    per_query = [s / (v / 60) for s, v in query_seconds]
    print(f"\nbank a video: median {statistics.median(bank_seconds) * minute:.1f} s per minute of video "
          f"(vPDQ at 4 frames/s, mirrored frames, soundtrack); match an upload: median "
          f"{statistics.median(per_query):.1f} s per minute (vPDQ at 1 frame/s, soundtrack, match), "
          f"{SIZE[0]}x{SIZE[1]} H.264; {len(rows)} banked videos")
    big = encode_video([cv2.resize(x, (1280, 720), interpolation=cv2.INTER_CUBIC) for x in videos[0][1]])
    t0 = time.perf_counter()
    hash_media(big, "720p", for_bank=True)
    banking = time.perf_counter() - t0
    t0 = time.perf_counter()
    hashed = hash_media(big, "720p")
    matcher.match(hashed.hashes, hashed.clip)
    print(f"the same at 1280x720: bank {banking * minute:.1f} s, match {(time.perf_counter() - t0) * minute:.1f} s "
          "per minute of video")


# ---- sound ----

def nasheed(seed: int, seconds: float) -> np.ndarray:
    """A synthesised melody: plucked notes (three harmonics) of a minor scale over a beat, at RATE."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    out = np.zeros_like(t)
    beat = 60 / rng.uniform(70, 140)
    scale = np.array([0, 2, 3, 5, 7, 8, 10, 12])
    base = rng.uniform(150, 330)
    for i in range(int(seconds / beat) + 1):
        s, e = int(i * beat * RATE), min(len(t), int((i + 1) * beat * RATE))
        if s >= len(t):
            break
        f = base * 2 ** (rng.choice(scale) / 12)
        tt = t[s:e] - t[s]
        envelope = np.exp(-tt * rng.uniform(1, 4))
        for harmonic, amplitude in ((1, 1.0), (2, 0.5), (3, 0.25)):
            out[s:e] += amplitude * envelope * np.sin(2 * np.pi * f * harmonic * tt)
        if i % 2 == 0:
            k = min(e - s, int(0.05 * RATE))
            out[s:s + k] += rng.normal(0, 0.5, k) * np.exp(-np.arange(k) / 200)
    return (out / np.abs(out).max() * 0.5).astype(np.float32)


SPEECHES = (
    "In the name of the group we call on all brothers to join the fight, for the hour has come. "
    "Those who stay behind will answer for it. Go out to the lands of battle and bring your families.",
    "This is a message from the leadership to the believers in every land. Strike them where they live, "
    "in their markets and their trains, and show them no mercy, for they have shown us none.",
    "Our soldiers have taken the town after three days and raised the banner over its walls. The enemy fled "
    "and left their weapons behind. More victories will follow, by the will of God.",
    "The weather tomorrow will be sunny with light winds from the west and a high of twenty four degrees. "
    "Showers are expected in the north by the evening, clearing overnight.",
    "Add two cups of flour and a pinch of salt, then stir for five minutes until the dough is smooth. "
    "Leave it to rest in a warm place for an hour before you bake it.",
    "The train to the city centre leaves from platform four at noon. Passengers for the airport should "
    "change at the central station and take the express line.",
)
VOICES = ("en", "en-us", "en+m3", "en+f2", "en-gb-x-rp", "en+m7")


def speech(index: int) -> np.ndarray | None:
    """A speech read by espeak-ng at RATE, or None when espeak-ng is not installed."""
    if shutil.which("espeak-ng") is None:
        return None
    from jointwatch.media.audio import decode_audio

    wav = subprocess.run(["espeak-ng", "-v", VOICES[index % len(VOICES)], "-s", "150", "--stdout",
                          SPEECHES[index % len(SPEECHES)] * 2], capture_output=True, check=True).stdout
    pcm = decode_audio(wav, f"speech {index}")
    assert pcm is not None
    return (pcm.astype(np.float32) / 32768).astype(np.float32)


def _cut(sound: np.ndarray, start: float, seconds: float) -> np.ndarray:
    """``seconds`` of the sound from ``start`` (earlier if the sound ends before)."""
    first = int(min(start, len(sound) / RATE - seconds - 0.5) * RATE)
    return sound[first:first + int(seconds * RATE)]


def sound_edits(voice: np.ndarray, bed: np.ndarray) -> dict[str, Callable[[np.ndarray, int], bytes]]:
    """The sound table's edits: each makes an upload's bytes of a banked sound (and its position)."""
    return {
        "re-encode MP3 64 kbit/s": lambda s, i: encode_sound(s, "libmp3lame", "mp3", 22_050),
        "re-encode AAC (M4A)": lambda s, i: encode_sound(s, "aac", "ipod"),
        "10 s cut (from 3.3 s + 1.7 s an item), MP3": lambda s, i: encode_sound(_cut(s, 3.3 + 1.7 * i, 10),
                                                                                 "libmp3lame", "mp3"),
        "volume +6 dB (clipped), MP3": lambda s, i: encode_sound(np.clip(s * 2.0, -1, 1), "libmp3lame", "mp3"),
        "volume -6 dB, MP3": lambda s, i: encode_sound(s * 0.5, "libmp3lame", "mp3"),
        "a voice mixed 6 dB under it (MP3)": lambda s, i: encode_sound(
            mix(voice, s, 6), "libmp3lame", "mp3"),
        "a music bed 10 dB under it (MP3)": lambda s, i: encode_sound(mix(bed, s, 10), "libmp3lame", "mp3"),
        "a voice over it at the same loudness (MP3)": lambda s, i: encode_sound(
            mix(voice, s, 0), "libmp3lame", "mp3"),
        "it as a bed 10 dB under a new voice (MP3)": lambda s, i: encode_sound(
            mix(s, voice, 10), "libmp3lame", "mp3"),
        "soundtrack of an unrelated video": lambda s, i: encode_video(noise_scene(len(s) / RATE, 300 + i), s),
    }


def sound_set(seed: int, nasheeds: int = 6, unrelated: int = 9) -> tuple[list[tuple[str, np.ndarray]], np.ndarray,
                                                                         np.ndarray, list[np.ndarray]]:
    """The sound table's set for ``seed``: the banked sounds (name, samples), the music bed, the voice (a melody
    without espeak-ng) and the unrelated sounds."""
    banked: list[tuple[str, np.ndarray]] = [(f"nasheed-{n}", nasheed(100 * seed + n, 45)) for n in range(nasheeds)]
    speeches = [s for s in (speech(i) for i in range(3)) if s is not None]
    banked += [(f"speech-{i}", s) for i, s in enumerate(speeches)]
    bed = nasheed(777 + seed, 60)
    voice = speech(3) if speeches else nasheed(778, 60)
    others = [nasheed(1000 + 100 * seed + u, 40) for u in range(unrelated)] + [s for s in (speech(i) for i in (3, 4, 5))
                                                                                if s is not None]
    return banked, bed, voice, others


def audio_table(nasheeds: int = 6, unrelated: int = 9, seed: int = 0) -> None:
    """Recall per edit and false matches for sound: ours (Chromaprint or landmarks) beside each alone and exact
    MD5; seconds of processing per minute of sound. ``seed`` draws other nasheeds, bed and unrelated nasheeds (the
    speeches stay): a set the thresholds were not chosen on."""
    banked, bed, voice, others = sound_set(seed, nasheeds, unrelated)
    speeches = [sound for name, sound in banked if name.startswith("speech")]
    rows, md5s, bank_costs = [], [], []
    stored_peaks = 0
    for position, (_, sound) in enumerate(banked):
        data = encode_sound(sound, "pcm_s16le", "wav")
        wall, cpu = time.perf_counter(), time.process_time()
        hashed = hash_media(data, f"banked {position}", for_bank=True)
        bank_costs.append(((time.perf_counter() - wall) / (len(sound) / RATE / 60),
                           (time.process_time() - cpu) / (len(sound) / RATE / 60)))
        assert hashed.clip is not None
        stored_peaks += 4 * len(hashed.clip.peaks)
        rows.append(_row(position, hashed.signature_bytes(), hashed.hashes.md5, hashed.hashes.sha256, "audio"))
        md5s.append(hashed.hashes.md5)
    matcher = Matcher(rows)
    banked_minutes = sum(len(sound) for _, sound in banked) / RATE / 60
    edits = sound_edits(voice, bed)
    tallies: dict[str, AudioTally] = {}
    worst_true: dict[str, float] = {}
    lowest_score: dict[str, float] = {}
    closest_false: list[tuple[float, str]] = [(1.0, "")]
    highest_false: list[tuple[float, str]] = [(-1.0, "")]
    match_costs: list[tuple[float, float]] = []
    aligned_with: list[int] = []     # banked sounds Chromaprint is aligned with per upload (the landmarks' candidates)

    def check(label: str, data: bytes, expected: int | None) -> None:
        tally = tallies.setdefault(label, AudioTally())
        wall, cpu = time.perf_counter(), time.process_time()
        hashed = hash_media(data, label)
        found = {m.item.id - 1 for m in matcher.match(hashed.hashes, hashed.clip)}
        assert hashed.clip is not None
        minutes = hashed.clip.seconds / 60
        match_costs.append(((time.perf_counter() - wall) / minutes, (time.process_time() - cpu) / minutes))
        by_chromaprint = {hit.position for hit in matcher.clips._by_sound(hashed.clip.fingerprint)}
        by_landmarks = {hit.position for hit in matcher.clips.landmarks.match(hashed.clip.peaks)}
        aligned_with.append(len(matcher.clips.landmarks.scores(hashed.clip.peaks, CANDIDATE_SCORE)))
        for position, banked_print in matcher.clips.sounds:
            aligned = align(hashed.clip.fingerprint, banked_print)
            if aligned is None:
                continue
            if position == expected:
                worst_true[label] = max(worst_true.get(label, 0.0), aligned.bit_error_rate)
            else:
                closest_false[0] = min(closest_false[0], (aligned.bit_error_rate, label))
        scores = {hit.position: hit.score for hit in matcher.clips.landmarks.scores(hashed.clip.peaks)}
        for position, score in scores.items():
            if position != expected:
                highest_false[0] = max(highest_false[0], (score, label))
        if expected is not None:
            lowest_score[label] = min(lowest_score.get(label, np.inf), scores.get(expected, 0.0))
            tally.total += 1
            tally.found += expected in found
            tally.chromaprint += expected in by_chromaprint
            tally.landmarks += expected in by_landmarks
            tally.md5 += expected in {i for i, md5 in enumerate(md5s) if md5 == exact_hashes(data)[0]}
        tally.false += len(found - {expected})

    for position, (_, sound) in enumerate(banked):
        for label, edit in edits.items():
            check(label, edit(sound, position), position)
    for sound in others:
        check("unrelated sound (nasheeds, speeches)", encode_sound(sound, "libmp3lame", "mp3"), None)
    print(f"\nbanked: {nasheeds} nasheeds (45 s, seed {seed}) and {len(speeches)} speeches (espeak-ng"
          f"{'' if speeches else ': not installed'})")
    print("\n| sound edit | uploads | ours (either) | Chromaprint alone | landmarks alone | exact MD5 | "
          "false matches (ours) | worst BER of the true item | lowest landmark score of the true item |")
    print("|---|---|---|---|---|---|---|---|---|")
    for label, t in tallies.items():
        if t.total:
            print(f"| {label} | {t.total} | {t.found / t.total:.2f} | {t.chromaprint / t.total:.2f} | "
                  f"{t.landmarks / t.total:.2f} | {t.md5 / t.total:.2f} | {t.false} | "
                  f"{worst_true.get(label, 1.0):.2f} | {lowest_score[label]:.1f} |")
        else:
            print(f"| {label} | {len(others)} | – | – | – | – | {t.false} | – | – |")
    print(f"\nlowest BER of any upload against an item it is not (matches at <= {MAX_BIT_ERROR_RATE}): "
          f"{closest_false[0][0]:.2f} ({closest_false[0][1]})")
    print(f"highest landmark score of any upload against an item it is not (matches at >= {MIN_SCORE:.0f}): "
          f"{highest_false[0][0]:.1f} ({highest_false[0][1]})")
    print(f"seconds per minute of sound, median wall / CPU: bank {statistics.median(c[0] for c in bank_costs):.2f} / "
          f"{statistics.median(c[1] for c in bank_costs):.2f} (WAV), match an upload "
          f"{statistics.median(c[0] for c in match_costs):.2f} / {statistics.median(c[1] for c in match_costs):.2f} "
          f"(decode, Chromaprint, peaks, match against {len(rows)} banked sounds); Chromaprint aligned with "
          f"{statistics.mean(aligned_with):.1f} banked sounds an upload on average (the landmarks' candidates)")
    print(f"kept per minute of banked sound: peaks {stored_peaks / banked_minutes / 1024:.1f} KB in the signature; "
          f"landmark index {matcher.clips.landmarks.nbytes / banked_minutes / 1024:.0f} KB in memory "
          f"({len(matcher.clips.landmarks) / banked_minutes / 60:.0f} hashes a second)")


@dataclass
class AudioTally(Tally):
    chromaprint: int = 0
    landmarks: int = 0
