"""Thumbnails of images the console shows: evidence on entity pages, uploads on the media page.

Only images already decoded whole under a pixel limit get here (``sharing.add_evidence`` when
evidence was added, ``media.hash_media`` for an upload), so this decode is of a checked image.

An upload on the media page is what a reviewer is asked to judge, and may be an execution or
an attack: its thumbnail is shown **greyscale and blurred** (``safe_thumbnail_uri``), as
trust-and-safety tools do for their reviewers' wellbeing. The picture in full goes to the page
only sealed (``seal_preview``: AES-GCM under a key derived from the reviewer's session cookie,
which the page's scripts cannot read), with the upload's SHA-256 and the matched items bound to
it; the server opens it (``open_preview``) only when the reviewer asks to see it, and audits
that request (who, when, which upload, which items). Nothing of the upload is kept on the server.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import os

from jointwatch.errors import InvalidInputError

THUMBNAIL = (240, 240)
# Gaussian radius at 240 px: faces, wounds and text become shapes, the scene's layout stays
BLUR_RADIUS = 8
_PREVIEW_KEY_INFO = b"jointwatch console: sealed media preview"


def thumbnail_png(content: bytes) -> bytes:
    """A PNG at most ``THUMBNAIL`` in size; transparency kept. Raises OSError or ValueError if
    Pillow cannot read ``content``."""
    from PIL import Image  # noqa: PLC0415 - Pillow comes with the media extra; only thumbnails need it here

    with Image.open(io.BytesIO(content)) as image:
        image.thumbnail(THUMBNAIL)
        out = io.BytesIO()
        image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB").save(out, "PNG")
    return out.getvalue()


def safe_thumbnail_png(content: bytes) -> bytes:
    """The thumbnail greyscale and blurred (BLUR_RADIUS): what a reviewer sees of an upload by default.
    Raises OSError or ValueError if Pillow cannot read ``content``."""
    from PIL import Image, ImageFilter  # noqa: PLC0415 - as above

    with Image.open(io.BytesIO(content)) as image:
        image.thumbnail(THUMBNAIL)
        grey = image.convert("L").filter(ImageFilter.GaussianBlur(BLUR_RADIUS))
        out = io.BytesIO()
        grey.save(out, "PNG")
    return out.getvalue()


def _uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def safe_thumbnail_uri(content: bytes) -> str | None:
    """The greyscale, blurred thumbnail as a PNG ``data:`` URI, or None if Pillow cannot read it."""
    try:
        return _uri(safe_thumbnail_png(content))
    except (OSError, ValueError):
        return None


def preview_jpeg(content: bytes) -> bytes:
    """The thumbnail in full colour as a JPEG (a sealed one must fit in a console form, under 64 KB). Raises
    OSError or ValueError if Pillow cannot read ``content``."""
    from PIL import Image  # noqa: PLC0415 - as above

    with Image.open(io.BytesIO(content)) as image:
        image.thumbnail(THUMBNAIL)
        out = io.BytesIO()
        image.convert("RGB").save(out, "JPEG", quality=85)
    return out.getvalue()


def preview_uri(jpeg: bytes) -> str:
    """An opened preview (a JPEG) as a ``data:`` URI."""
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")


def _preview_key(session_secret: str) -> bytes:
    return hmac.new(session_secret.encode("utf-8"), _PREVIEW_KEY_INFO, hashlib.sha256).digest()


def _bound(sha256: str, items: list[int]) -> bytes:
    return f"{sha256}|{','.join(map(str, items))}".encode("ascii")


def seal_preview(content: bytes, session_secret: str, sha256: str, items: list[int]) -> str | None:
    """The full thumbnail of ``content`` sealed for the session (base64url), bound to the upload's SHA-256 and the
    matched ``items``; None if Pillow cannot read it."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: PLC0415

    try:
        jpeg = preview_jpeg(content)
    except (OSError, ValueError):
        return None
    nonce = os.urandom(12)
    sealed = AESGCM(_preview_key(session_secret)).encrypt(nonce, jpeg, _bound(sha256, items))
    return base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def open_preview(token: str, session_secret: str, sha256: str, items: list[int]) -> bytes:
    """The JPEG sealed in ``token``; InvalidInputError if it was sealed for another session, upload or items, or
    altered."""
    from cryptography.exceptions import InvalidTag  # noqa: PLC0415
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: PLC0415

    try:
        raw = base64.urlsafe_b64decode(token.encode("ascii"))
        if len(raw) < 12 + 16:
            raise ValueError("too short")
        return AESGCM(_preview_key(session_secret)).decrypt(raw[:12], raw[12:], _bound(sha256, items))
    except (ValueError, UnicodeEncodeError, InvalidTag):
        raise InvalidInputError("preview: it cannot be opened (another session's, another upload's, or altered); "
                                "match the file again") from None
