"""Matching: edited copies of a banked photo are found, unrelated photos are not."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from PIL import Image

from jointwatch.media.bank import BankItem, MatchableRow
from jointwatch.media.files import hash_media
from jointwatch.media.hashing import hex_to_bytes
from jointwatch.media.matcher import Matcher, MatchOptions
from jointwatch.media.signature import Signature
from tests.media.conftest import edited, image_bytes

NOW = datetime(2026, 11, 29, tzinfo=UTC)


def _row(number: int, image: Image.Image, with_signature: bool = True) -> MatchableRow:
    hashed = hash_media(image_bytes(image), f"bank-{number}", for_bank=True)
    h = hashed.hashes
    item = BankItem(number, 1, "Platform A", h.md5, h.sha256, h.pdq, h.pdq_quality, "ISIL", "logo", "amber", "active",
                    "file", NOW, NOW)
    return MatchableRow(item, hashed.signature.to_bytes() if with_signature and hashed.signature else None)


@pytest.fixture(scope="module")
def matcher(photos: dict[str, Image.Image]) -> Matcher:
    return Matcher([_row(n, image) for n, image in enumerate(photos.values())])


def _match(matcher: Matcher, image: Image.Image, **options: object) -> list[tuple[int, str]]:
    hashed = hash_media(image_bytes(image, "JPEG", quality=85), "query")
    return [(m.item.id, m.method) for m in matcher.match(hashed.hashes, hashed.query, MatchOptions(**options))]


@pytest.mark.parametrize("how", ["jpeg", "half", "mirror", "crop", "rotate"])
def test_edited_copies_match_the_banked_original_only(matcher: Matcher, photos: dict[str, Image.Image],
                                                      how: str) -> None:
    names = list(photos)
    for number, name in enumerate(names):
        found = _match(matcher, edited(photos[name], how))
        assert [item for item, _ in found] == [number], (name, how, found)


def test_pdq_alone_misses_the_crop_that_signatures_catch(matcher: Matcher, photos: dict[str, Image.Image]) -> None:
    cropped = edited(photos["astronaut"], "crop")
    assert _match(matcher, cropped, use_signatures=False) == []
    assert _match(matcher, cropped) == [(0, "orb")]


def test_a_mirrored_copy_meets_the_mirror_hash(matcher: Matcher, photos: dict[str, Image.Image]) -> None:
    hashed = hash_media(image_bytes(edited(photos["coffee"], "mirror")), "q", signatures=False)
    [match] = matcher.match(hashed.hashes)
    assert (match.item.id, match.method) == (1, "pdq-mirror") and match.distance is not None
    assert match.distance <= 8


def test_the_exact_file_matches_by_sha256(matcher: Matcher, photos: dict[str, Image.Image]) -> None:
    hashed = hash_media(image_bytes(photos["rocket"]), "q")
    assert matcher.match(hashed.hashes, hashed.query)[0].method == "sha256"


def test_the_threshold_is_honoured(matcher: Matcher, photos: dict[str, Image.Image]) -> None:
    pdq = matcher.items[0].pdq
    assert pdq is not None
    bits = np.unpackbits(np.frombuffer(hex_to_bytes(pdq), np.uint8))
    bits[:20] ^= 1  # 20 bits away
    near = np.packbits(bits).tobytes().hex()
    assert [m.distance for m in matcher.match_hashes(pdq=[near])] == [20]
    assert matcher.match_hashes(pdq=[near], options=MatchOptions(pdq_threshold=19)) == []


def test_low_quality_hashes_are_kept_but_not_matched(photos: dict[str, Image.Image]) -> None:
    flat = Image.new("RGB", (300, 300), (120, 120, 120))
    matcher = Matcher([_row(0, flat)])
    other_flat = Image.new("RGB", (300, 300), (121, 119, 120))
    hashed = hash_media(image_bytes(other_flat), "q")
    assert not hashed.hashes.pdq_matchable
    assert matcher.match(hashed.hashes, hashed.query) == []


def test_signature_round_trip_and_refusal_of_garbage(photos: dict[str, Image.Image]) -> None:
    signature = hash_media(image_bytes(photos["chelsea"]), "x", for_bank=True).signature
    assert signature is not None and len(signature.views) == 2 and len(signature.views[0]) > 100
    again = Signature.from_bytes(signature.to_bytes())
    assert again.pdq_mirror == signature.pdq_mirror
    assert np.array_equal(again.views[1].descriptors, signature.views[1].descriptors)
    with pytest.raises(ValueError, match="not a valid signature"):
        Signature.from_bytes(signature.to_bytes()[:-5])
    with pytest.raises(ValueError, match="not a valid signature"):
        Signature.from_bytes(b"\x07garbage")


def test_large_banks_find_edited_copies_through_the_chunk_hash_index(photos: dict[str, Image.Image]) -> None:
    # exact_descriptors=0 forces what banks of thousands of images use: each image's strongest
    # keypoints only, found through the chunk-hash index
    matcher = Matcher([_row(n, image) for n, image in enumerate(photos.values())], exact_descriptors=0)
    for number, name in enumerate(photos):
        for how in ("crop", "rotate"):
            found = _match(matcher, edited(photos[name], how))
            assert [item for item, _ in found] == [number], (name, how, found)


def test_a_halved_gradient_meets_the_canonical_hash() -> None:
    # scikit-image's colour wheel: halving it moves its plain PDQ ~50 bits, its canonical PDQ a few
    import skimage.data as data

    wheel = Image.fromarray(data.colorwheel()).convert("RGB")
    matcher = Matcher([_row(0, wheel)])
    half = wheel.resize((wheel.width // 2, wheel.height // 2), Image.Resampling.BICUBIC)
    hashed = hash_media(image_bytes(half), "half")
    assert matcher.match(hashed.hashes, hashed.query, MatchOptions(use_signatures=False)) == []
    [match] = matcher.match(hashed.hashes, hashed.query)
    assert match.method == "pdq-canonical" and match.distance is not None and match.distance <= 31
