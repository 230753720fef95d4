"""Thumbnails of images the console shows: evidence on entity pages, uploads on the media page.

Only images already decoded whole under a pixel limit get here (``sharing.add_evidence`` when
evidence was added, ``media.hash_media`` for an upload), so this decode is of a checked image.
"""

from __future__ import annotations

import base64
import io

THUMBNAIL = (240, 240)


def thumbnail_png(content: bytes) -> bytes:
    """A PNG at most ``THUMBNAIL`` in size; transparency kept. Raises OSError or ValueError if
    Pillow cannot read ``content``."""
    from PIL import Image  # noqa: PLC0415 - Pillow comes with the media extra; only thumbnails need it here

    with Image.open(io.BytesIO(content)) as image:
        image.thumbnail(THUMBNAIL)
        out = io.BytesIO()
        image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB").save(out, "PNG")
    return out.getvalue()


def thumbnail_uri(content: bytes) -> str | None:
    """The image as a small PNG ``data:`` URI (the console's CSP allows data: images), or None if
    Pillow cannot read it."""
    try:
        png = thumbnail_png(content)
    except (OSError, ValueError):
        return None
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
