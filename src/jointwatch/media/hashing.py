"""Hashes of one media file: exact (MD5, SHA-256) and perceptual (PDQ with its quality score).

Uploads are untrusted: the image is opened with Pillow's decompression-bomb limit in force,
fully decoded before hashing (so a truncated file fails here, naming the file, rather than
hashing half an image), and every failure is a ``MessageFormatError`` that says which file and why.
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from jointwatch.errors import MessageFormatError, NotAnImageError
from jointwatch.media.deps import require

# PDQ's own advice (and HMA's default): hashes with quality under 50 come from flat or
# featureless images and match unrelated pictures; they are kept, flagged, and not matched.
PDQ_MIN_QUALITY = 50
# 20 megapixels (5472 x 3648, a 20 Mpx camera's full frame): above any picture a platform
# serves, far below what a crafted PNG can claim. Decoding one costs up to ~0.25 GB while PDQ
# runs (RGB, then two float planes): at 50 Mpx, 8 uploads of 143 KB took a service to 7.7 GB.
# Pillow's own default (89 Mpx) only warns; over ours we refuse, from the header.
MAX_PIXELS = 20_000_000
# an animated image (GIF, WebP, APNG): frames after the first hashed with PDQ, evenly spaced, so a banked picture
# hidden in later frames is found (the first frame alone was an evasion: one clean frame, then the picture)
ANIMATION_FRAMES = 32
# Pictures are hashed at a reduced scale that still leaves at least this many pixels a side: JPEGs
# decoded at 1/2, 1/4 or 1/8, other formats reduced by a whole factor (area-averaged) once decoded.
# Meta's reference PDQ tools downsample to 512 px before hashing too, and our signatures work at
# 512 px: a 12 Mpx photo is hashed as 0.75 Mpx. Before other formats were reduced, a 2,822 px PNG's
# upload spent 0.44 s of its 0.79 s in PDQ at full size, and such uploads made the p99 latency
# (benchmarks/bench_media.py --bank-size, README).
DRAFT_SIDE = 512
MAX_FILE_BYTES = 100_000_000
# Smallest side we hash: below this PDQ's 64x64 resampling invents the picture.
MIN_SIDE = 16


_IMAGE_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM", b"II*\x00", b"MM\x00*",
                     b"RIFF")


def _kind(data: bytes) -> str:
    names = {b"\x89PNG": "PNG", b"\xff\xd8": "JPEG", b"GIF8": "GIF", b"BM": "BMP", b"II*": "TIFF", b"MM\x00": "TIFF",
             b"RIFF": "RIFF/WebP"}
    return next((kind for magic, kind in names.items() if data.startswith(magic)), "image")


@dataclass(frozen=True)
class MediaHashes:
    """What the bank keeps of a file: never the file itself."""

    md5: str
    sha256: str
    pdq: str | None            # 64 hex digits; None when the file is not an image
    pdq_quality: int | None    # 0..100
    kind: str = "image"        # image, video, audio (told from the bytes: media.sniff) or other (exact only)

    @property
    def pdq_matchable(self) -> bool:
        return self.pdq is not None and (self.pdq_quality or 0) >= PDQ_MIN_QUALITY


def exact_hashes(data: bytes) -> tuple[str, str]:
    """The MD5 and SHA-256 (hex) of the bytes."""
    return hashlib.md5(data, usedforsecurity=False).hexdigest(), hashlib.sha256(data).hexdigest()


def read_bytes(path: Path) -> bytes:
    """The file's bytes; MessageFormatError (naming the file) if it is missing, empty or too large."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise MessageFormatError(path, None, f"{size:,} bytes is over the limit of {MAX_FILE_BYTES:,}")
        data = path.read_bytes()
    except OSError as exc:
        raise MessageFormatError(path, None, f"cannot read: {exc.strerror or exc}") from None
    if not data:
        raise MessageFormatError(path, None, "the file is empty (0 bytes)")
    return data


def decode_image(data: bytes, name: str) -> np.ndarray:
    """The image in ``data`` as an RGB uint8 array; MessageFormatError naming ``name`` and the fault.

    Raises for non-images, truncated or corrupt files, and decompression bombs (over
    ``MAX_PIXELS``), checked from the header before any pixel is decoded. A large picture comes
    back reduced to at least ``DRAFT_SIDE`` a side: a JPEG decoded at that size, other formats
    reduced by a whole factor once decoded.
    """
    import io

    image_module = require("PIL.Image", "Pillow")
    errors = (image_module.DecompressionBombError, image_module.UnidentifiedImageError, OSError, ValueError,
              SyntaxError, EOFError)
    if not data:
        raise MessageFormatError(name, None, "the file is empty (0 bytes)")
    try:
        with warnings.catch_warnings():
            # between MAX_PIXELS and twice it Pillow only warns: our own check below refuses, naming the size
            warnings.simplefilter("ignore", image_module.DecompressionBombWarning)
            # Pillow's own limit (warn over it, refuse over twice it), set to ours for every decode
            setattr(image_module, "MAX_IMAGE_PIXELS", MAX_PIXELS)  # noqa: B010
            with image_module.open(io.BytesIO(data)) as image:
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise MessageFormatError(name, None, f"{width}x{height} pixels is over the limit of {MAX_PIXELS:,} "
                                             "(decompression bomb?)")
                image.seek(0)  # the first frame of an animation
                if image.format == "JPEG":
                    image.draft("RGB", (DRAFT_SIDE, DRAFT_SIDE))  # the decoder scales down as it decodes
                rgb = _reduced(image.convert("RGB"))
    except MessageFormatError:
        raise   # our own refusal (too many pixels), already naming the file and the fault
    except image_module.DecompressionBombError as exc:  # over twice MAX_PIXELS, refused by Pillow itself
        raise MessageFormatError(name, None, f"too many pixels (decompression bomb?): {exc}") from None
    except image_module.UnidentifiedImageError:
        if data.startswith(_IMAGE_SIGNATURES):
            # it says it is an image and is not one: corrupt (or crafted), not "some other file"
            raise MessageFormatError(name, None,
                                     f"corrupt image: the header of a {_kind(data)} file cannot be read") from None
        raise NotAnImageError(name, None, "not an image Pillow can read") from None
    except errors as exc:
        raise MessageFormatError(name, None, f"corrupt or truncated image: {exc}") from None
    if min(rgb.size) < MIN_SIDE:
        raise MessageFormatError(name, None,
                                 f"{rgb.size[0]}x{rgb.size[1]} pixels is too small to hash (under {MIN_SIDE})")
    return np.asarray(rgb, dtype=np.uint8)


def _reduced(image: Any) -> Any:
    """A decoded Pillow image reduced by the largest whole factor that leaves at least DRAFT_SIDE px a side
    (itself when there is none, e.g. a JPEG already decoded at reduced scale)."""
    image.load()
    factor = min(image.size) // DRAFT_SIDE
    return image.reduce(factor) if factor >= 2 else image


def animation_frames(data: bytes, name: str, most: int = ANIMATION_FRAMES) -> tuple[int, tuple[str, ...]]:
    """An animated image's frame count and the PDQ hashes (of matchable quality, distinct) of up to ``most`` of
    its frames after the first, evenly spaced; (1, ()) for a still image. Call after ``decode_image`` accepted
    the file (its size was checked there)."""
    import io

    image_module = require("PIL.Image", "Pillow")
    with image_module.open(io.BytesIO(data)) as image:
        count = int(getattr(image, "n_frames", 1))
        if count <= 1:
            return 1, ()
        picked = sorted({1 + round(i * (count - 2) / max(1, most - 1)) for i in range(min(most, count - 1))})
        found: list[str] = []
        try:
            for frame in picked:
                image.seek(frame)
                value, quality = pdq_hash(np.asarray(_reduced(image.convert("RGB")), dtype=np.uint8))
                if quality >= PDQ_MIN_QUALITY and value not in found:
                    found.append(value)
        except (OSError, ValueError, EOFError) as exc:
            raise MessageFormatError(name, None, f"frame {frame + 1} of {count} cannot be read: {exc}") from None
    return count, tuple(found)


def pdq_hash(pixels: np.ndarray) -> tuple[str, int]:
    """The PDQ hash (64 hex digits) and quality (0..100) of an RGB array, by the reference implementation."""
    pdqhash = require("pdqhash", "pdqhash")
    bits, quality = pdqhash.compute(np.ascontiguousarray(pixels))
    return bits_to_hex(np.asarray(bits, dtype=np.uint8)), int(quality)


def bits_to_hex(bits: np.ndarray) -> str:
    """256 bits as pdqhash returns them (most significant first) as the reference's 64 hex digits."""
    return np.packbits(bits.astype(np.uint8)).tobytes().hex()


def hex_to_bytes(value: str) -> bytes:
    """32 bytes of a 64-hex-digit PDQ hash; ValueError if it is not one."""
    text = value.strip().lower()
    if len(text) != 64:
        raise ValueError(f"a PDQ hash has 64 hex digits, not {len(text)}")
    return bytes.fromhex(text)


def image_hashes(data: bytes, pixels: np.ndarray) -> MediaHashes:
    """The exact hashes of an image file's bytes and the PDQ hash of its decoded pixels (``decode_image``)."""
    md5, sha256 = exact_hashes(data)
    pdq, quality = pdq_hash(pixels)
    return MediaHashes(md5, sha256, pdq, quality)


def hash_file(path: Path) -> MediaHashes:
    """The hashes of one image file; MessageFormatError naming it if it is empty, unreadable or not an image."""
    data = read_bytes(path)
    return image_hashes(data, decode_image(data, str(path)))
