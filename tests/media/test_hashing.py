"""Hashes of real images, and bad input refused per file with the file named."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from jointwatch.errors import MessageFormatError, NotAnImageError
from jointwatch.media.files import NOT_AN_IMAGE, hash_media
from jointwatch.media.hashing import MAX_PIXELS, hash_file, hex_to_bytes
from tests.media.conftest import edited, image_bytes


def _distance(a: str, b: str) -> int:
    return int(np.unpackbits(np.frombuffer(hex_to_bytes(a), np.uint8) ^ np.frombuffer(hex_to_bytes(b), np.uint8))
               .sum())


def test_exact_and_perceptual_hashes_of_a_photo(photo_files: dict[str, Path]) -> None:
    path = photo_files["astronaut"]
    hashes = hash_file(path)
    assert hashes.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert hashes.md5 == hashlib.md5(path.read_bytes()).hexdigest()
    assert hashes.pdq is not None and len(hashes.pdq) == 64 and hashes.pdq_quality == 100
    assert hashes.pdq_matchable


def test_pdq_survives_reencoding_and_resizing_but_tells_photos_apart(photos: dict[str, Image.Image]) -> None:
    original = hash_media(image_bytes(photos["astronaut"]), "a", signatures=False).hashes.pdq
    for how in ("jpeg", "half"):
        copy = hash_media(image_bytes(edited(photos["astronaut"], how)), how, signatures=False).hashes.pdq
        assert _distance(original, copy) <= 31, how  # type: ignore[arg-type]
    other = hash_media(image_bytes(photos["coffee"]), "c", signatures=False).hashes.pdq
    assert _distance(original, other) > 90  # type: ignore[arg-type]


def test_pdq_hex_is_the_reference_order() -> None:
    # a left-dark / right-bright image: PDQ's bits follow DCT coefficients, so the hash is not
    # symmetric; what we check is that our hex and pdqhash's bit vector agree bit for bit
    import pdqhash

    pixels = np.zeros((64, 64, 3), np.uint8)
    pixels[:, 32:] = 255
    pixels[10:20, 5:15] = 128
    bits, _ = pdqhash.compute(pixels)
    ours = hash_media(image_bytes(Image.fromarray(pixels)), "x", signatures=False).hashes.pdq
    assert ours == "".join(f"{int(''.join(map(str, bits[i:i + 4])), 2):x}" for i in range(0, 256, 4))


def test_a_flat_image_is_hashed_but_flagged_low_quality() -> None:
    flat = Image.new("RGB", (200, 200), (90, 90, 90))
    hashed = hash_media(image_bytes(flat), "flat.png")
    assert hashed.hashes.pdq_quality is not None and hashed.hashes.pdq_quality < 50
    assert not hashed.hashes.pdq_matchable and "under 50" in (hashed.note or "")


def test_zero_byte_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    with pytest.raises(MessageFormatError, match=r"empty\.jpg: the file is empty"):
        hash_file(empty)


def test_truncated_image(tmp_path: Path, photos: dict[str, Image.Image]) -> None:
    data = image_bytes(photos["coffee"], "JPEG", quality=90)
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(data[: len(data) // 3])
    with pytest.raises(MessageFormatError, match=r"cut\.jpg: corrupt or truncated"):
        hash_file(cut)


def test_corrupt_png(tmp_path: Path, photos: dict[str, Image.Image]) -> None:
    data = bytearray(image_bytes(photos["coffee"]))
    data[200:400] = b"\xff" * 200  # inside the compressed pixel data
    bad = tmp_path / "bad.png"
    bad.write_bytes(bytes(data))
    with pytest.raises(MessageFormatError, match=r"bad\.png: corrupt or truncated"):
        hash_file(bad)


def test_decompression_bomb_is_refused_before_decoding(tmp_path: Path) -> None:
    side = int(MAX_PIXELS ** 0.5) + 100
    bomb = tmp_path / "bomb.png"
    Image.new("1", (side, side)).save(bomb)  # a few KB on disk, 50+ Mpx once decoded
    assert bomb.stat().st_size < 100_000
    with pytest.raises(MessageFormatError, match=r"bomb\.png: .*(decompression bomb|pixels)"):
        hash_file(bomb)


def test_a_non_image_is_refused_for_pdq_and_still_hashed_exactly(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a picture")
    with pytest.raises(NotAnImageError, match=r"notes\.txt: not an image"):
        hash_file(notes)
    hashed = hash_media(notes.read_bytes(), str(notes))
    assert hashed.hashes.pdq is None and hashed.note == NOT_AN_IMAGE
    assert hashed.hashes.sha256 == hashlib.sha256(b"not a picture").hexdigest()


def test_too_small_to_hash() -> None:
    with pytest.raises(MessageFormatError, match="too small"):
        hash_media(image_bytes(Image.new("RGB", (8, 8))), "tiny.png")
