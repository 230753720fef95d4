"""Media fixtures: real photographs bundled with scikit-image, written as files, and a store with two members."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps
from sqlalchemy import Engine

from jointwatch.store.members import Member, add_member
from tests.postgres import PG_ENV, drop_schema, fresh_store, process_schema

# the PostgreSQL store of these tests lives in a schema of this process's own (as the API tests'
# does), emptied of every table of the store before each test, so no other test's tables interfere
PG_SCHEMA = process_schema("media_tests")

pytest.importorskip("pdqhash")  # the media extra; CI installs it through .[dev]


def image_bytes(image: Image.Image, fmt: str = "PNG", **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


@pytest.fixture(scope="session")
def photos() -> dict[str, Image.Image]:
    """Four unrelated real photographs (no download: they ship inside scikit-image)."""
    import skimage.data as data

    return {name: Image.fromarray(np.asarray(getattr(data, name)())).convert("RGB")
            for name in ("astronaut", "coffee", "chelsea", "rocket")}


@pytest.fixture
def photo_files(tmp_path: Path, photos: dict[str, Image.Image]) -> dict[str, Path]:
    out = {}
    for name, image in photos.items():
        out[name] = tmp_path / f"{name}.png"
        out[name].write_bytes(image_bytes(image))
    return out


def edited(image: Image.Image, how: str) -> Image.Image:
    """The edits propagandists make to dodge hash banks (a few of the benchmark's)."""
    w, h = image.size
    if how == "crop":
        return image.crop((round(w * 0.08), round(h * 0.05), w, h))
    if how == "rotate":
        return image.rotate(3, Image.Resampling.BICUBIC, fillcolor=(0, 0, 0))
    if how == "mirror":
        return ImageOps.mirror(image)
    if how == "jpeg":
        return Image.open(io.BytesIO(image_bytes(image, "JPEG", quality=30)))
    if how == "half":
        return image.resize((w // 2, h // 2), Image.Resampling.BICUBIC)
    raise ValueError(how)


def make_store(backend: str, tmp: Path) -> Engine:
    """A new, empty, migrated store on ``backend`` (PostgreSQL: skipped without a test server)."""
    return fresh_store(backend, tmp, PG_SCHEMA)


@pytest.fixture(scope="session", autouse=True)
def _drop_pg_schema() -> Iterator[None]:
    yield
    url = os.environ.get(PG_ENV)
    if url:
        drop_schema(url, PG_SCHEMA)


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def bank_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    engine = make_store(str(request.param), tmp_path)
    yield engine
    engine.dispose()


@pytest.fixture
def partners(bank_store: Engine) -> tuple[Member, Member]:
    return add_member(bank_store, "Platform A", "nl"), add_member(bank_store, "Agency B", "fr")
