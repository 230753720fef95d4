"""The edits of the media benchmark: what a re-uploader does to a known image to dodge a hash bank.

Each edit is a pure function on a Pillow image, deterministic (no randomness), so that the
table the benchmark prints is the same on every run.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw, ImageOps

Edit = Callable[[Image.Image], Image.Image]


def _resize(factor: float) -> Edit:
    def edit(image: Image.Image) -> Image.Image:
        w, h = image.size
        return image.resize((max(1, round(w * factor)), max(1, round(h * factor))), Image.Resampling.BICUBIC)
    return edit


def _jpeg(quality: int) -> Edit:
    def edit(image: Image.Image) -> Image.Image:
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, "JPEG", quality=quality)
        return Image.open(io.BytesIO(buffer.getvalue()))
    return edit


def _crop(left: float, top: float, right: float, bottom: float) -> Edit:
    """Cut these fractions of the width/height off each side."""
    def edit(image: Image.Image) -> Image.Image:
        w, h = image.size
        return image.crop((round(w * left), round(h * top), w - round(w * right), h - round(h * bottom)))
    return edit


def _rotate(degrees: float) -> Edit:
    def edit(image: Image.Image) -> Image.Image:
        return image.convert("RGB").rotate(degrees, Image.Resampling.BICUBIC, expand=False, fillcolor=(0, 0, 0))
    return edit


def _caption(image: Image.Image) -> Image.Image:
    """A black bar with white text under the image, 12% of its height (the canvas grows)."""
    w, h = image.size
    bar = max(8, round(h * 0.12))
    canvas = Image.new("RGB", (w, h + bar), (0, 0, 0))
    canvas.paste(image.convert("RGB"), (0, 0))
    ImageDraw.Draw(canvas).text((bar // 3, h + bar // 4), "SHARE BEFORE IT IS DELETED  t.me/channel",
                                fill=(255, 255, 255))
    return canvas


def _watermark(image: Image.Image) -> Image.Image:
    """A half-transparent white logo box with text in the top-right corner, a fifth of the width."""
    base = image.convert("RGBA")
    w, h = base.size
    layer = Image.new("RGBA", base.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    box = (round(w * 0.76), round(h * 0.04), round(w * 0.96), round(h * 0.16))
    draw.rectangle(box, fill=(255, 255, 255, 140))
    draw.text((box[0] + 4, box[1] + 4), "MEDIA", fill=(0, 0, 0, 255))
    return Image.alpha_composite(base, layer).convert("RGB")


EDITS: dict[str, Edit] = {
    "resize 50%": _resize(0.5),
    "resize 200%": _resize(2.0),
    "jpeg q30": _jpeg(30),
    "crop 5% (one corner)": _crop(0.05, 0.05, 0.0, 0.0),
    "crop 7% (centred)": _crop(0.035, 0.035, 0.035, 0.035),
    "crop 10% (left+bottom)": _crop(0.10, 0.0, 0.0, 0.10),
    "rotate 2°": _rotate(2),
    "rotate -4°": _rotate(-4),
    "caption bar": _caption,
    "watermark": _watermark,
    "grayscale": lambda image: ImageOps.grayscale(image).convert("RGB"),
    "horizontal flip": ImageOps.mirror,
}


def sample_images() -> dict[str, Image.Image]:
    """The sample images bundled with scikit-image and scikit-learn (no download), as RGB."""
    import skimage.data as data
    from sklearn.datasets import load_sample_images

    # `cat` is the same photograph as `chelsea`; eagle and others need a download
    names = ["astronaut", "brick", "camera", "cell", "chelsea", "clock", "coffee", "coins", "colorwheel", "grass",
             "gravel", "horse", "hubble_deep_field", "immunohistochemistry", "logo", "microaneurysms", "moon", "page",
             "retina", "rocket", "shepp_logan_phantom", "text", "checkerboard", "binary_blobs"]
    images: dict[str, Image.Image] = {}
    for name in names:
        # binary_blobs draws its blobs at random: seeded, so that every run banks and edits the same picture (unseeded,
        # recall moved by an edit or two between runs of the same code)
        array = np.asarray(data.binary_blobs(rng=0) if name == "binary_blobs" else getattr(data, name)())
        if array.dtype != np.uint8:
            array = (array.astype(float) / max(1e-9, float(array.max())) * 255).astype(np.uint8)
        images[name] = Image.fromarray(array).convert("RGB")
    sklearn = load_sample_images()
    for filename, array in zip(sklearn.filenames, sklearn.images, strict=True):
        images["sklearn " + filename.rsplit("/", 1)[-1].split(".")[0]] = Image.fromarray(array).convert("RGB")
    return images
