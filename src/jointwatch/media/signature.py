"""Signatures beyond PDQ: what survives the crops, rotations, captions and mirrors PDQ does not.

PDQ is global: cut 7% off one side or turn the picture 2° and every coefficient moves, about
100 bits of 256. So a banked image also carries

* the PDQ hash of its mirror image, so a flipped copy meets a hash at distance ~0,
* a "canonical" PDQ hash of the picture squeezed to 128 x 128 first: PDQ's own downscaling
  depends on the input's size, which costs gradients and fine textures 50+ bits when they
  are halved; on a common size they stay within ~25,
* a "centred" PDQ hash: of the square window centred on the picture's centre of brightness,
  CENTRED_SPREAD times its spread (the brightness-weighted radius of gyration) to each side.
  The window moves with the picture's content, not its frame, so a crop of a few percent, a
  dark caption bar, a rotation's black corners or a corner logo move it little: it finds the
  smooth, low-texture pictures local features cannot (a colour wheel: 7 keypoints). An upload
  tries CENTRED_TRIES windows around its own (the spread and centre move a little when part of
  the picture is cut),
* a "trimmed" PDQ hash: of the picture without its borders and caption bars (rows, then
  columns, at an end whose outermost row is flat, as long as they are mostly that colour:
  TRIM_SHARE of their pixels), kept when trimming cut something. An
  upload's trimmed hash meets a banked image's plain or trimmed one, and an upload's plain
  hash a banked trimmed one: a caption bar added under a picture, or a picture's black
  margins cut off, leave the trimmed picture as it was, and
* ORB keypoints (OpenCV) of the image and of its mirror: up to 300 positions with 256-bit
  binary descriptors each. Local features survive crops, small rotations, captions and
  watermarks because most of the picture is still there, in the same arrangement.

A query's descriptors are looked up in the same exact Hamming index as PDQ hashes; a banked
image is a match only when enough of those descriptor pairs agree on one similarity
transform (RANSAC): random descriptor coincidences between unrelated pictures do not line
up geometrically. Signatures are hashes and point positions, never pixels: shareable
exactly as PDQ is.
"""

from __future__ import annotations

import struct
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from jointwatch.media.deps import require
from jointwatch.media.hashing import MIN_SIDE, PDQ_MIN_QUALITY, pdq_hash

# Both sides are scaled to this long side before ORB, so a 50% or 200% copy looks the same size.
SIDE = 512
BANK_FEATURES = 300
QUERY_FEATURES = 500
# ORB defaults (FAST threshold 20, 31-pixel patches) find no corners in soft or low-contrast
# pictures (gradients, microscopy); these find some without flooding textures.
_ORB = {"fastThreshold": 5, "edgeThreshold": 15, "patchSize": 15}
DESCRIPTOR_RADIUS = 31      # a descriptor pair closer than this is a candidate correspondence
MIN_CANDIDATES = 8          # correspondences a banked view needs before RANSAC is tried
MIN_INLIERS = 12            # geometric agreement that makes a match (unrelated images stay at <= 6)
REPROJECTION_PX = 3.0       # at SIDE: how far a point may land from where the transform puts it
# the transforms an edited copy plausibly went through; anything else is coincidence
MAX_ROTATION_DEG = 20.0
SCALE_RANGE = (0.6, 1.7)

_FORMAT = 1                   # mirror and canonical PDQ, views
_FORMAT_CENTRED = 3           # then the centred and trimmed PDQ before the views (2 is a clip's: media.clips)
_FORMAT_FRAMES = 4            # as 3, then an animation's later frames' PDQ (a count, 32 bytes each)
_HEAD = "<BB32sB32sB"
_HEAD_CENTRED = "<BB32sB32sB32sB32sB"
_PDQ_SIDE = 64                # the pixels PDQ's DCT reads, a side
CANONICAL_SIDE = 2 * _PDQ_SIDE  # hashed by ``square_pdq``
# the centred window: its half side in radii of gyration of the brightness, at CENTRED_SIDE px
CENTRED_SPREAD = 1.2
CENTRED_SIDE = 2 * _PDQ_SIDE   # hashed by ``square_pdq``
# an upload's windows: the spread x (0.95, 1, 1.05), the centre moved 0 or +-0.04 spreads each way (27 hashes);
# measured on the benchmark's crops and captions (benchmarks/bench_media.py)
CENTRED_SCALES = (0.95, 1.0, 1.05)
CENTRED_SHIFTS = (-0.04, 0.0, 0.04)
CENTRED_TRIES = len(CENTRED_SCALES) * len(CENTRED_SHIFTS) ** 2
# trimming: an end whose outermost row (then column) is flat (TRIM_FLAT of its pixels within TRIM_TOLERANCE, of
# 255 in any channel, of its median colour) is border or bar while TRIM_SHARE of a row's pixels are within
# TRIM_TOLERANCE of that colour (text on a bar leaves that much); at most TRIM_MAX of a side is cut; measured on a
# long side of TRIM_SIDE px
TRIM_FLAT, TRIM_SHARE, TRIM_TOLERANCE, TRIM_MAX, TRIM_SIDE = 0.9, 0.6, 24, 0.35, 512
TRIMMED_PDQ_SIDE = 1024
VIEW_ORIGINAL, VIEW_MIRROR = 0, 1


@dataclass(frozen=True)
class Keypoints:
    """Positions (n, 2) at SIDE scale and descriptors (n, 32) of one view of an image."""

    points: np.ndarray
    descriptors: np.ndarray

    def __len__(self) -> int:
        return len(self.descriptors)


@dataclass(frozen=True)
class Signature:
    """What the bank keeps beyond PDQ for one image."""

    pdq_mirror: str | None
    pdq_canonical: str | None      # None when its quality is under PDQ_MIN_QUALITY
    views: tuple[Keypoints, ...]   # VIEW_ORIGINAL, VIEW_MIRROR
    pdq_centred: str | None = None   # None when its quality is under PDQ_MIN_QUALITY (or format 1)
    pdq_trimmed: str | None = None   # None when nothing was trimmed or its quality is too low (or format 1)
    # an animation's later frames, PDQ (``hashing.animation_frames``): a banked animation is found by any of them
    pdq_frames: tuple[str, ...] = ()

    def to_bytes(self) -> bytes:
        """A compact, versioned binary form (no pickle): the exchange and the store keep this."""
        mirror = bytes.fromhex(self.pdq_mirror) if self.pdq_mirror else b"\0" * 32
        canonical = bytes.fromhex(self.pdq_canonical) if self.pdq_canonical else b"\0" * 32
        centred = bytes.fromhex(self.pdq_centred) if self.pdq_centred else b"\0" * 32
        trimmed = bytes.fromhex(self.pdq_trimmed) if self.pdq_trimmed else b"\0" * 32
        # a still image keeps format 3, byte for byte what it was before animations kept their frames
        version = _FORMAT_FRAMES if self.pdq_frames else _FORMAT_CENTRED
        out = [struct.pack(_HEAD_CENTRED, version, self.pdq_mirror is not None, mirror,
                           self.pdq_canonical is not None, canonical, self.pdq_centred is not None, centred,
                           self.pdq_trimmed is not None, trimmed, len(self.views))]
        for view in self.views:
            out.append(struct.pack("<H", len(view)))
            out.append(np.ascontiguousarray(view.points, dtype="<f4").tobytes())
            out.append(np.ascontiguousarray(view.descriptors, dtype=np.uint8).tobytes())
        if self.pdq_frames:
            out.append(struct.pack("<H", len(self.pdq_frames)))
            out.extend(bytes.fromhex(frame) for frame in self.pdq_frames)
        return b"".join(out)

    @classmethod
    def from_bytes(cls, data: bytes) -> Signature:
        """The signature in ``data``; ValueError naming the fault if it is not one."""
        try:
            version = data[0] if data else None
            if version == _FORMAT:
                has_mirror, mirror, has_canonical, canonical, count = struct.unpack_from(_HEAD, data, 0)[1:]
                has_centred = has_trimmed = False
                centred = trimmed = b""
                at = struct.calcsize(_HEAD)
            elif version in (_FORMAT_CENTRED, _FORMAT_FRAMES):
                (has_mirror, mirror, has_canonical, canonical, has_centred, centred, has_trimmed, trimmed,
                 count) = struct.unpack_from(_HEAD_CENTRED, data, 0)[1:]
                at = struct.calcsize(_HEAD_CENTRED)
            else:
                raise ValueError(f"signature format {version} is not {_FORMAT}, {_FORMAT_CENTRED} or {_FORMAT_FRAMES}")
            views = []
            for _ in range(count):
                (n,) = struct.unpack_from("<H", data, at)
                at += 2
                points = np.frombuffer(data, dtype="<f4", count=2 * n, offset=at).reshape(n, 2).astype(np.float32)
                at += 8 * n
                descriptors = np.frombuffer(data, dtype=np.uint8, count=32 * n, offset=at).reshape(n, 32).copy()
                at += 32 * n
                views.append(Keypoints(points, descriptors))
            frames: list[str] = []
            if version == _FORMAT_FRAMES:
                (n,) = struct.unpack_from("<H", data, at)
                at += 2
                if at + 32 * n > len(data):
                    raise ValueError(f"{n} frames' PDQ announced, {len(data) - at} bytes left")
                frames = [data[at + 32 * f:at + 32 * (f + 1)].hex() for f in range(n)]
                at += 32 * n
        except (struct.error, ValueError) as exc:
            raise ValueError(f"not a valid signature: {exc}") from None
        if at != len(data):
            raise ValueError(f"not a valid signature: {len(data) - at} bytes left over")
        return cls(mirror.hex() if has_mirror else None, canonical.hex() if has_canonical else None, tuple(views),
                   centred.hex() if has_centred else None, trimmed.hex() if has_trimmed else None, tuple(frames))


def _gray_at_side(pixels: np.ndarray) -> np.ndarray:
    cv2 = require("cv2", "opencv-python-headless")
    gray = cv2.cvtColor(np.ascontiguousarray(pixels), cv2.COLOR_RGB2GRAY)
    height, width = gray.shape
    scale = SIDE / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(gray, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)


# ORB runs on these threads while the caller computes the PDQ hashes: OpenCV releases the GIL and pdqhash
# does not, so the two overlap (an upload's end-to-end time; files._DECODING lets 4 files decode at once)
_ORB_THREADS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="jointwatch-orb")


def keypoints(pixels: np.ndarray, features: int) -> Keypoints:
    """ORB keypoints of an RGB image scaled to SIDE, strongest corner response first (empty for a featureless
    picture): a bank at scale keeps the first few of each banked image (``media.local``)."""
    cv2 = require("cv2", "opencv-python-headless")
    orb = cv2.ORB_create(nfeatures=features, **_ORB)
    found, descriptors = orb.detectAndCompute(_gray_at_side(pixels), None)
    if descriptors is None or not found:
        return Keypoints(np.zeros((0, 2), np.float32), np.zeros((0, 32), np.uint8))
    order = np.argsort([-k.response for k in found], kind="stable")
    return Keypoints(np.array([found[i].pt for i in order], dtype=np.float32),
                     np.ascontiguousarray(descriptors[order]))


def canonical_pdq(pixels: np.ndarray) -> str | None:
    """PDQ of the picture resized to 128 x 128 (area-averaged), or None if its quality is too low to match."""
    cv2 = require("cv2", "opencv-python-headless")
    height, width = pixels.shape[:2]
    shrinking = min(height, width) >= CANONICAL_SIDE
    square = cv2.resize(np.ascontiguousarray(pixels), (CANONICAL_SIDE, CANONICAL_SIDE),
                        interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC)
    value, quality = square_pdq(square)
    return value if quality >= PDQ_MIN_QUALITY else None


def square_pdq(square: np.ndarray) -> tuple[str, int]:
    """``pdq_hash`` of a 128 x 128 px picture (RGB, or gray), from its odd rows and columns alone.

    PDQ takes a 128 px side down to 64 with a Jarosz filter 1 px wide (no blur) and samples pixel
    2i + 1 of it, so it reads only those pixels: hashing them gives the same hash and quality at a
    third of the cost (0.14 ms against 0.36; identical on the benchmark's 8,424 centred windows). An
    upload hashes 27 such windows (``centred_pdq_tries``)."""
    if square.shape[:2] != (2 * _PDQ_SIDE, 2 * _PDQ_SIDE):
        raise ValueError(f"square_pdq hashes a {2 * _PDQ_SIDE} px square, not {square.shape[1]}x{square.shape[0]}")
    odd = square[1::2, 1::2]
    return pdq_hash(np.repeat(odd[:, :, None], 3, axis=2) if odd.ndim == 2 else odd)


@dataclass(frozen=True)
class _Brightness:
    """An image's brightness at twice CENTRED_SIDE px (long side), its centre (x, y) and spread in those pixels."""

    gray: np.ndarray
    x: float
    y: float
    spread: float


def _brightness(pixels: np.ndarray) -> _Brightness | None:
    cv2 = require("cv2", "opencv-python-headless")
    gray = cv2.cvtColor(np.ascontiguousarray(pixels), cv2.COLOR_RGB2GRAY)
    height, width = gray.shape
    scale = 2 * CENTRED_SIDE / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC).astype(np.float32)
    mass = float(gray.sum(dtype=np.float64))
    if mass <= 0:
        return None   # black: no centre of brightness
    ys, xs = np.indices(gray.shape, dtype=np.float32)
    x, y = float((gray * xs).sum(dtype=np.float64) / mass), float((gray * ys).sum(dtype=np.float64) / mass)
    spread = float(np.sqrt((gray * ((xs - x) ** 2 + (ys - y) ** 2)).sum(dtype=np.float64) / mass))
    return _Brightness(gray, x, y, spread) if spread >= 1 else None


def _window_pdq(bright: _Brightness, x: float, y: float, half: float) -> str | None:
    """PDQ of the square of ``half`` px to each side of (x, y), resampled to CENTRED_SIDE (black outside the
    picture); None if its quality is too low to match."""
    cv2 = require("cv2", "opencv-python-headless")
    step = 2 * half / CENTRED_SIDE
    window = cv2.warpAffine(bright.gray, np.array([[step, 0, x - half], [0, step, y - half]]),
                            (CENTRED_SIDE, CENTRED_SIDE), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    value, quality = square_pdq(np.clip(window, 0, 255).astype(np.uint8))
    return value if quality >= PDQ_MIN_QUALITY else None


def centred_pdq(pixels: np.ndarray) -> str | None:
    """PDQ of the window centred on the picture's centre of brightness, CENTRED_SPREAD spreads to each side
    (None if the picture is black or the window's quality is too low to match)."""
    bright = _brightness(pixels)
    return None if bright is None else _window_pdq(bright, bright.x, bright.y, CENTRED_SPREAD * bright.spread)


def centred_pdq_tries(pixels: np.ndarray) -> tuple[str, ...]:
    """An upload's centred windows: its own and those around it (CENTRED_SCALES x CENTRED_SHIFTS), distinct,
    of matchable quality."""
    bright = _brightness(pixels)
    if bright is None:
        return ()
    found = [_window_pdq(bright, bright.x + dx * bright.spread, bright.y + dy * bright.spread,
                         CENTRED_SPREAD * bright.spread * scale)
             for scale in CENTRED_SCALES for dx in CENTRED_SHIFTS for dy in CENTRED_SHIFTS]
    return tuple(dict.fromkeys(value for value in found if value is not None))


def _bands(pixels: np.ndarray) -> tuple[int, int]:
    """How many rows at the top and at the bottom are border or bar (0 for an end past TRIM_MAX)."""
    cut = []
    limit = int(TRIM_MAX * len(pixels))
    for rows in (pixels, pixels[::-1]):
        colour = np.median(rows[0], axis=0)
        if (np.abs(rows[0].astype(np.int16) - colour).max(axis=1) <= TRIM_TOLERANCE).mean() < TRIM_FLAT:
            cut.append(0)   # the outermost row is not flat: no border, no bar (most pictures: one row read)
            continue
        share = (np.abs(rows[:limit + 1].astype(np.int16) - colour).max(axis=2) <= TRIM_TOLERANCE).mean(axis=1)
        alike = share >= TRIM_SHARE
        cut.append(0 if alike.all() else int(np.argmin(alike)))   # past TRIM_MAX: not a border
    return cut[0], cut[1]


def trimmed_image(pixels: np.ndarray) -> np.ndarray | None:
    """The picture without the borders and bars at its ends (rows, then columns), or None if there are none."""
    cv2 = require("cv2", "opencv-python-headless")
    height, width = pixels.shape[:2]
    scale = min(1.0, TRIM_SIDE / max(height, width))
    small = cv2.resize(np.ascontiguousarray(pixels), (max(1, round(width * scale)), max(1, round(height * scale))),
                       interpolation=cv2.INTER_AREA) if scale < 1 else pixels
    top, bottom = _bands(small)
    left, right = _bands(small[top:len(small) - bottom].transpose(1, 0, 2))
    if not (top or bottom or left or right):
        return None
    rows = slice(round(top / scale), height - round(bottom / scale))
    columns = slice(round(left / scale), width - round(right / scale))
    kept = pixels[rows, columns]
    return np.ascontiguousarray(kept) if min(kept.shape[:2]) >= MIN_SIDE else None


def trimmed_pdq(pixels: np.ndarray) -> str | None:
    """PDQ of the picture without its borders and bars (``trimmed_image``); None if nothing was trimmed or its
    quality is too low to match."""
    kept = trimmed_image(pixels)
    if kept is None:
        return None
    # hashed from a copy of at most TRIMMED_PDQ_SIDE px a side: PDQ's cost grows with the pixels (a
    # 2,822 px square's trimmed PDQ was 0.56 of its 1.4 s upload), and it is our own hash, not the
    # interchange PDQ, so bank and upload only have to compute it alike (measured: 1,024 px changes
    # 5.5 bits on average against the full picture, 512 px 11.5; the threshold is 31)
    height, width = kept.shape[:2]
    scale = TRIMMED_PDQ_SIDE / max(height, width)
    if scale < 1:
        cv2 = require("cv2", "opencv-python-headless")
        kept = cv2.resize(kept, (max(1, round(width * scale)), max(1, round(height * scale))),
                          interpolation=cv2.INTER_AREA)
    value, quality = pdq_hash(kept)
    return value if quality >= PDQ_MIN_QUALITY else None


def bank_signature(pixels: np.ndarray) -> Signature:
    """The signature of an image to be banked: mirror, canonical, centred and trimmed PDQ, keypoints of the image
    and its mirror."""
    mirrored = np.ascontiguousarray(pixels[:, ::-1])
    views = [_ORB_THREADS.submit(keypoints, view, BANK_FEATURES) for view in (pixels, mirrored)]
    mirror_pdq, _quality = pdq_hash(mirrored)
    canonical, centred, trimmed = canonical_pdq(pixels), centred_pdq(pixels), trimmed_pdq(pixels)
    return Signature(mirror_pdq, canonical, (views[0].result(), views[1].result()), centred, trimmed)


@dataclass(frozen=True)
class QuerySignature:
    """What an upload is matched with beyond its PDQ hash."""

    pdq_canonical: str | None
    keypoints: Keypoints
    pdq_centred: tuple[str, ...] = ()   # its centred windows (``centred_pdq_tries``)
    pdq_trimmed: str | None = None      # ``trimmed_pdq``
    frames: tuple[str, ...] = ()        # an animation's later frames, PDQ (``hashing.animation_frames``)


def query_signature(pixels: np.ndarray, points: Future[Keypoints] | None = None) -> QuerySignature:
    """The canonical PDQ, the centred windows, the trimmed PDQ and the keypoints of an upload (more keypoints than
    a banked image keeps); ``points`` if the caller started them (``query_keypoints``) before its own hashing."""
    points = points or query_keypoints(pixels)
    canonical, centred, trimmed = canonical_pdq(pixels), centred_pdq_tries(pixels), trimmed_pdq(pixels)
    return QuerySignature(canonical, points.result(), centred, trimmed)


def query_keypoints(pixels: np.ndarray) -> Future[Keypoints]:
    """An upload's keypoints, started on a worker thread for the caller to hash meanwhile."""
    return _ORB_THREADS.submit(keypoints, pixels, QUERY_FEATURES)


def geometric_inliers(query_points: np.ndarray, bank_points: np.ndarray) -> int:
    """How many correspondences agree on one plausible similarity transform (0 if none does)."""
    cv2 = require("cv2", "opencv-python-headless")
    if len(query_points) < MIN_CANDIDATES:
        return 0
    cv2.setRNGSeed(0)  # RANSAC samples at random: the same query must give the same answer
    matrix, inliers = cv2.estimateAffinePartial2D(query_points, bank_points, method=cv2.RANSAC,
                                                  ransacReprojThreshold=REPROJECTION_PX, maxIters=2000,
                                                  confidence=0.995, refineIters=10)
    if matrix is None or inliers is None:
        return 0
    scale = float(np.hypot(matrix[0, 0], matrix[1, 0]))
    rotation = abs(float(np.degrees(np.arctan2(matrix[1, 0], matrix[0, 0]))))
    if not (SCALE_RANGE[0] <= scale <= SCALE_RANGE[1]) or rotation > MAX_ROTATION_DEG:
        return 0
    return int(inliers.sum())
