"""Media uploads cannot exhaust the service: a pixel limit, reduced-size JPEG decoding, bounded decoders.

Issue 13: 8 concurrent 143 KB uploads decoding to 7000 x 7000 took a service to 7.7 GB, and
48 uploads of 5000 x 5000 from one key held a /match for 25.6 s.
"""

from __future__ import annotations

import io
import struct
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path

import anyio
import anyio.to_thread
import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import Engine
from typer.testing import CliRunner

from jointwatch.api import create_app
from jointwatch.cli import app
from jointwatch.errors import MediaBusyError, MessageFormatError
from jointwatch.media.files import DecodeGate
from jointwatch.media.hashing import DRAFT_SIDE, MAX_PIXELS, animation_frames, decode_image, pdq_hash
from tests.api.conftest import make_member
from tests.media.conftest import image_bytes, make_store


def png_bomb(width: int, height: int) -> bytes:
    """A valid 1-bit PNG of ``width`` x ``height`` black pixels: a few KB that decode to width x height x 3 bytes."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte, then the packed bits
    pixels = zlib.compress(row * height, 9)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", pixels) + chunk(b"IEND", b""))


# 6000 x 6000 = 36 Mpx: under the old 50 Mpx limit (accepted, ~0.4 GB while hashed), over ours
BOMB = png_bomb(6000, 6000)


def test_a_decompression_bomb_is_refused_from_its_header() -> None:
    assert len(BOMB) < 100_000 and 6000 * 6000 > MAX_PIXELS
    # said once, as itself: not wrapped as a "corrupt or truncated image" naming the file twice
    with pytest.raises(MessageFormatError, match=r"^bomb\.png: 6000x6000 pixels is over the limit of 20,000,000"):
        decode_image(BOMB, "bomb.png")
    with pytest.raises(MessageFormatError, match=r"huge\.png: too many pixels \(decompression bomb\?\)"):
        decode_image(png_bomb(10_000, 10_000), "huge.png")  # past twice the limit, Pillow's own refusal


def test_the_cli_exits_7_naming_the_bomb(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(BOMB)
    result = CliRunner().invoke(app, ["media", "hash", str(bomb), "--json"])
    assert result.exit_code == 7
    assert "bomb.png: 6000x6000 pixels is over the limit" in result.stdout


@pytest.fixture
def client(tmp_path: Path) -> Iterator[tuple[Engine, TestClient]]:
    engine = make_store("sqlite", tmp_path)
    with TestClient(create_app(engine)) as test_client:
        yield engine, test_client
    engine.dispose()


def test_the_service_refuses_the_bomb_as_a_problem(client: tuple[Engine, TestClient]) -> None:
    engine, test_client = client
    member = make_member(engine)
    refused = test_client.post("/media/match/upload", content=BOMB,
                               headers={**member.auth("screener"), "Content-Type": "application/octet-stream"})
    assert refused.status_code in (413, 422)
    assert "upload: 6000x6000 pixels is over the limit" in refused.json()["detail"]


def test_a_large_jpeg_is_decoded_at_reduced_size_with_the_same_pdq(photos: dict[str, Image.Image]) -> None:
    for image in photos.values():
        big = image.resize((image.width * 6, image.height * 6), Image.Resampling.BICUBIC)
        data = image_bytes(big, "JPEG", quality=90)
        reduced = decode_image(data, "big.jpg")
        full = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
        # decoded at 1/2 or 1/4: at least DRAFT_SIDE a side, a quarter of the pixels or fewer
        assert DRAFT_SIDE <= min(reduced.shape[:2]) and reduced.size * 4 <= full.size
        ours, _ = pdq_hash(reduced)
        reference, _ = pdq_hash(full)
        assert bin(int(ours, 16) ^ int(reference, 16)).count("1") <= 8  # PDQ matches within 31


def test_a_large_png_and_a_large_animation_frame_are_hashed_reduced_with_the_same_pdq(
        photos: dict[str, Image.Image]) -> None:
    for image in photos.values():
        big = image.resize((image.width * 5, image.height * 5), Image.Resampling.BICUBIC)
        data = image_bytes(big, "PNG")
        reduced = decode_image(data, "big.png")
        full = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
        # reduced by the largest whole factor that leaves at least DRAFT_SIDE a side
        factor = min(full.shape[:2]) // DRAFT_SIDE
        assert factor >= 2 and reduced.shape[:2] == tuple(-(-side // factor) for side in full.shape[:2])
        ours, _ = pdq_hash(reduced)
        reference, _ = pdq_hash(full)
        assert bin(int(ours, 16) ^ int(reference, 16)).count("1") <= 8  # PDQ matches within 31
    # an animation's later frames are reduced alike: the still of a frame and the frame give the same PDQ
    # (rocket's PDQ at full size is 2 bits from its reduced one: unreduced frames would fail this)
    rocket = photos["rocket"]
    big = rocket.resize((rocket.width * 5, rocket.height * 5), Image.Resampling.BICUBIC)
    frames = [Image.new("RGB", big.size, "white"), big]
    gif = image_bytes(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)
    count, hashes = animation_frames(gif, "big.gif")
    still, _ = pdq_hash(decode_image(image_bytes(_second_frame(gif), "PNG"), "still.png"))
    assert count == 2 and hashes == (still,)


def _second_frame(gif: bytes) -> Image.Image:
    with Image.open(io.BytesIO(gif)) as image:
        image.seek(1)
        return image.convert("RGB")


def test_the_gate_bounds_media_work_and_refuses_past_its_queue() -> None:
    gate = DecodeGate(workers=2, queue_per_worker=1)
    release = threading.Event()
    lock = threading.Lock()
    running = [0, 0]  # now, most at once

    def work() -> str:
        with lock:
            running[0] += 1
            running[1] = max(running[1], running[0])
        release.wait(30)
        with lock:
            running[0] -= 1
        return "hashed"

    async def main() -> tuple[list[str], bool, int]:
        results: list[str] = []

        async def one() -> None:
            results.append(await gate.run(work))

        async with anyio.create_task_group() as group:
            for _ in range(4):  # 2 run, 2 wait (the queue of 2 x 1)
                group.start_soon(one)
            # both threads inside the work and both others queued (on a busy machine a thread may
            # start its work well after its task took the slot)
            while (gate._limiter is None or gate._limiter.statistics().tasks_waiting < 2  # type: ignore[attr-defined]
                   or running[0] < 2):
                await anyio.sleep(0.01)
            refused = False
            try:
                await gate.run(work)
            except MediaBusyError:
                refused = True
            # the waiting uploads hold none of the threads that /match and other routes run in
            borrowed = anyio.to_thread.current_default_thread_limiter().borrowed_tokens
            release.set()
        return results, refused, borrowed

    results, refused, borrowed = anyio.run(main)
    assert refused and results == ["hashed"] * 4
    assert running[1] == 2 and borrowed == 0
    assert MediaBusyError.http_status == 503 and MediaBusyError.retry_after
