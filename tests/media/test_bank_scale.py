"""What finds the edited copies keypoints alone miss, and the bank at scale (issue 21): the centred and trimmed
PDQ hashes, keypoints spread over the picture, mirror keypoints of an image whose PDQ cannot be matched."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageOps

from jointwatch.media.files import hash_media
from jointwatch.media.hashing import pdq_hash
from jointwatch.media.local import spread_of
from jointwatch.media.matcher import Matcher, MatchOptions
from jointwatch.media.signature import (
    Keypoints,
    Signature,
    centred_pdq,
    centred_pdq_tries,
    square_pdq,
    trimmed_image,
)
from tests.media.conftest import edited, image_bytes
from tests.media.test_matcher import _row


def _caption(image: Image.Image) -> Image.Image:
    """A black bar with white text under the picture (the canvas grows), as re-uploaders add."""
    w, h = image.size
    bar = round(h * 0.12)
    canvas = Image.new("RGB", (w, h + bar), (0, 0, 0))
    canvas.paste(image, (0, 0))
    ImageDraw.Draw(canvas).text((bar // 3, h + bar // 4), "SHARE BEFORE IT IS DELETED", fill=(255, 255, 255))
    return canvas


def _bits(a: str, b: str) -> int:
    return int(np.unpackbits(np.frombuffer(bytes.fromhex(a), np.uint8) ^ np.frombuffer(bytes.fromhex(b),
                                                                                       np.uint8)).sum())


def _found(matcher: Matcher, image: Image.Image, **options: object) -> list[tuple[int, str]]:
    hashed = hash_media(image_bytes(image), "upload")
    return [(m.item.id, m.method) for m in matcher.match(hashed.hashes, hashed.query, MatchOptions(**options))]


@pytest.fixture(scope="module")
def wheel() -> Image.Image:
    import skimage.data as data

    return Image.fromarray(data.colorwheel()).convert("RGB")


def test_a_cropped_colour_wheel_meets_its_centred_hash(wheel: Image.Image, photos: dict[str, Image.Image]) -> None:
    # seven ORB keypoints and a PDQ that cutting 5% off two sides moves ~90 bits: the window around its
    # centre of brightness moves with the picture
    matcher = Matcher([_row(0, wheel)] + [_row(n, photos[name]) for n, name in enumerate(photos, start=1)])
    w, h = wheel.size
    cropped = wheel.crop((round(w * 0.05), round(h * 0.05), w, h))
    assert _found(matcher, cropped, use_signatures=False) == []
    [(item, method)] = _found(matcher, cropped)
    assert item == 0 and method in ("pdq-centred", "pdq-trimmed")   # its black corners are trimmed off too
    banked = centred_pdq(np.asarray(wheel))
    assert banked is not None
    assert min(_bits(banked, value) for value in centred_pdq_tries(np.asarray(cropped))) <= 31
    assert _bits(banked, centred_pdq(np.asarray(ImageOps.mirror(wheel))) or "0" * 64) > 31
    for name in photos:   # unrelated pictures' windows stay far apart
        assert all(method != "pdq-centred" for _, method in _found(matcher, ImageOps.mirror(photos[name])))


def test_a_caption_bar_is_trimmed_off_and_black_margins_too(photos: dict[str, Image.Image]) -> None:
    names = list(photos)
    framed = ImageOps.expand(photos["coffee"], border=60, fill=(0, 0, 0))   # banked with black margins
    matcher = Matcher([_row(0, photos["astronaut"]), _row(1, framed), _row(2, photos["chelsea"])])
    captioned = _caption(photos["astronaut"])
    assert _found(matcher, captioned, use_signatures=False) == []
    [match] = matcher.match(*(lambda h: (h.hashes, h.query))(hash_media(image_bytes(captioned), "u")))
    assert (match.item.id, match.method) == (0, "pdq-trimmed") and match.distance is not None
    assert match.distance <= 12
    # the margins cut off by the uploader: its PDQ meets the banked picture's trimmed one
    assert _found(matcher, photos["coffee"]) == [(1, "pdq-trimmed")]
    assert _found(matcher, photos[names[3]]) == []


def test_trimming_keeps_a_picture_without_borders_whole(photos: dict[str, Image.Image]) -> None:
    assert trimmed_image(np.asarray(photos["chelsea"])) is None
    kept = trimmed_image(np.asarray(_caption(photos["chelsea"])))
    assert kept is not None and abs(kept.shape[0] - photos["chelsea"].height) <= 2
    assert kept.shape[1] == photos["chelsea"].width


def test_spread_keypoints_cover_the_picture() -> None:
    # 200 strong points in the top-left corner, then 100 weaker ones over the rest: the 128 strongest alone
    # would all sit in the corner (a crop of it would leave none)
    rng = np.random.default_rng(0)
    points = np.concatenate([rng.uniform(0, 60, (200, 2)), rng.uniform(60, 512, (100, 2))]).astype(np.float32)
    view = Keypoints(points, rng.integers(0, 256, (300, 32), dtype=np.uint8))
    kept = spread_of(view, 128)
    assert len(kept) == 128
    outside = (kept.points > 60).any(axis=1).sum()
    assert outside >= 50
    # kept strongest first: in the view's order
    assert np.array_equal(kept.points, points[np.isin(points, kept.points).all(axis=1)])
    assert spread_of(view, 400) is view


def test_at_scale_a_far_crop_and_a_flipped_low_quality_picture_are_found(photos: dict[str, Image.Image]) -> None:
    import skimage.data as data

    clock = Image.fromarray(data.clock()).convert("RGB")      # PDQ quality 34: no mirror PDQ is matched
    banked = [photos["rocket"], clock, photos["astronaut"], photos["coffee"]]
    # exact_descriptors=0: what a bank of thousands of images does (media.local's inverted file)
    matcher = Matcher([_row(n, image) for n, image in enumerate(banked)], exact_descriptors=0)
    w, h = photos["rocket"].size
    far_crop = photos["rocket"].crop((round(w * 0.10), 0, w, h - round(h * 0.10)))
    assert [item for item, _ in _found(matcher, far_crop)] == [0]
    assert _found(matcher, ImageOps.mirror(clock)) == [(1, "orb-mirror")]
    assert _found(matcher, photos["chelsea"]) == []


def test_signatures_of_format_1_are_still_read(photos: dict[str, Image.Image]) -> None:
    signature = hash_media(image_bytes(photos["chelsea"]), "x", for_bank=True).signature
    assert signature is not None and signature.pdq_centred is not None
    data = signature.to_bytes()
    assert data[0] == 3
    head = struct.calcsize("<BB32sB32sB32sB32sB")
    old = b"\x01" + data[1:67] + data[head - 1:]    # format 1: no centred or trimmed hash
    again = Signature.from_bytes(old)
    assert (again.pdq_mirror, again.pdq_canonical) == (signature.pdq_mirror, signature.pdq_canonical)
    assert again.pdq_centred is None and again.pdq_trimmed is None
    assert np.array_equal(again.views[0].descriptors, signature.views[0].descriptors)
    with pytest.raises(ValueError, match="format 9"):
        Signature.from_bytes(b"\x09" + data[1:])


def test_an_animations_frames_are_kept_in_format_4_and_a_short_one_is_refused(
        photos: dict[str, Image.Image]) -> None:
    from dataclasses import replace

    still = hash_media(image_bytes(photos["chelsea"]), "x", for_bank=True).signature
    assert still is not None and still.pdq_frames == ()
    frames = ("ab" * 32, "cd" * 32)
    data = replace(still, pdq_frames=frames).to_bytes()
    assert data[0] == 4 and len(data) == len(still.to_bytes()) + 2 + 64
    again = Signature.from_bytes(data)
    assert again.pdq_frames == frames and again.pdq_trimmed == still.pdq_trimmed
    assert np.array_equal(again.views[1].descriptors, still.views[1].descriptors)
    # a frame cut short, or bytes after the last frame: refused, naming the fault
    with pytest.raises(ValueError, match="2 frames' PDQ announced, 63 bytes left"):
        Signature.from_bytes(data[:-1])
    with pytest.raises(ValueError, match="1 bytes left over"):
        Signature.from_bytes(data + b"\x00")


def test_a_128_px_square_hashed_from_its_odd_pixels_has_the_pdq_of_every_pixel(photos: dict[str, Image.Image]) -> None:
    # the canonical squares and centred windows are hashed from their odd rows and columns (what PDQ's 128 -> 64
    # downscaling reads): the hash and quality must be pdqhash's over the whole square, in colour and in gray,
    # for photographs, edited copies, noise and a flat square (quality 0)
    rng = np.random.default_rng(5)
    squares = [np.asarray(edited(photo, how).resize((128, 128), Image.Resampling.BOX))
               for photo in photos.values() for how in ("crop", "rotate", "jpeg", "half")]
    squares += [rng.integers(0, 256, (128, 128, 3), dtype=np.uint8), np.full((128, 128, 3), 90, np.uint8)]
    squares += [np.asarray(Image.fromarray(square).convert("L")) for square in squares]
    for square in squares:
        whole = square if square.ndim == 3 else np.repeat(square[:, :, None], 3, axis=2)
        assert square_pdq(square) == pdq_hash(whole)
    with pytest.raises(ValueError, match="not 128x100"):
        square_pdq(squares[0][:100])
