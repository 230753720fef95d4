"""Signatures beyond PDQ: what survives the crops, rotations, captions and mirrors PDQ does not.

PDQ is global: cut 7% off one side or turn the picture 2° and every coefficient moves, about
100 bits of 256. So a banked image also carries

* the PDQ hash of its mirror image, so a flipped copy meets a hash at distance ~0,
* a "canonical" PDQ hash of the picture squeezed to 128 x 128 first: PDQ's own downscaling
  depends on the input's size, which costs gradients and fine textures 50+ bits when they
  are halved; on a common size they stay within ~25, and
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
from dataclasses import dataclass

import numpy as np

from jointwatch.media.deps import require
from jointwatch.media.hashing import PDQ_MIN_QUALITY, pdq_hash

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

_FORMAT = 1
_HEAD = "<BB32sB32sB"
CANONICAL_SIDE = 128
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

    def to_bytes(self) -> bytes:
        """A compact, versioned binary form (no pickle): the exchange and the store keep this."""
        mirror = bytes.fromhex(self.pdq_mirror) if self.pdq_mirror else b"\0" * 32
        canonical = bytes.fromhex(self.pdq_canonical) if self.pdq_canonical else b"\0" * 32
        out = [struct.pack(_HEAD, _FORMAT, self.pdq_mirror is not None, mirror, self.pdq_canonical is not None,
                           canonical, len(self.views))]
        for view in self.views:
            out.append(struct.pack("<H", len(view)))
            out.append(np.ascontiguousarray(view.points, dtype="<f4").tobytes())
            out.append(np.ascontiguousarray(view.descriptors, dtype=np.uint8).tobytes())
        return b"".join(out)

    @classmethod
    def from_bytes(cls, data: bytes) -> Signature:
        """The signature in ``data``; ValueError naming the fault if it is not one."""
        try:
            version, has_mirror, mirror, has_canonical, canonical, count = struct.unpack_from(_HEAD, data, 0)
            if version != _FORMAT:
                raise ValueError(f"signature format {version} is not {_FORMAT}")
            at = struct.calcsize(_HEAD)
            views = []
            for _ in range(count):
                (n,) = struct.unpack_from("<H", data, at)
                at += 2
                points = np.frombuffer(data, dtype="<f4", count=2 * n, offset=at).reshape(n, 2).astype(np.float32)
                at += 8 * n
                descriptors = np.frombuffer(data, dtype=np.uint8, count=32 * n, offset=at).reshape(n, 32).copy()
                at += 32 * n
                views.append(Keypoints(points, descriptors))
        except (struct.error, ValueError) as exc:
            raise ValueError(f"not a valid signature: {exc}") from None
        if at != len(data):
            raise ValueError(f"not a valid signature: {len(data) - at} bytes left over")
        return cls(mirror.hex() if has_mirror else None, canonical.hex() if has_canonical else None, tuple(views))


def _gray_at_side(pixels: np.ndarray) -> np.ndarray:
    cv2 = require("cv2", "opencv-python-headless")
    gray = cv2.cvtColor(np.ascontiguousarray(pixels), cv2.COLOR_RGB2GRAY)
    height, width = gray.shape
    scale = SIDE / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(gray, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)


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
    value, quality = pdq_hash(square)
    return value if quality >= PDQ_MIN_QUALITY else None


def bank_signature(pixels: np.ndarray) -> Signature:
    """The signature of an image to be banked: mirror and canonical PDQ, keypoints of the image and its mirror."""
    mirrored = np.ascontiguousarray(pixels[:, ::-1])
    mirror_pdq, _quality = pdq_hash(mirrored)
    return Signature(mirror_pdq, canonical_pdq(pixels),
                     (keypoints(pixels, BANK_FEATURES), keypoints(mirrored, BANK_FEATURES)))


@dataclass(frozen=True)
class QuerySignature:
    """What an upload is matched with beyond its PDQ hash."""

    pdq_canonical: str | None
    keypoints: Keypoints


def query_signature(pixels: np.ndarray) -> QuerySignature:
    """The canonical PDQ and the keypoints of an upload (more keypoints than a banked image keeps)."""
    return QuerySignature(canonical_pdq(pixels), keypoints(pixels, QUERY_FEATURES))


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
