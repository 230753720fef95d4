"""Evidence files attached to partner entries: documents, photographs, satellite and aerial imagery.

Each file is kept once by its SHA-256, with its chain of custody (who added it, when, from
where) and, for images, where and when it was taken (EXIF DateTimeOriginal and GPS, GeoTIFF
tags, or a world file sent beside it). Only the entry's originator attaches files; a file's
TLP is the entry's or stricter, and ``releasability.may_see_evidence`` decides who sees it.

Files are untrusted: the type is read from the content (magic bytes), never the name; only
JPEG, PNG, TIFF, WebP, PDF and UTF-8 plain text are taken, images are decoded whole under a
pixel limit (decompression bombs), and a PDF with active content (JavaScript, actions on open,
launch, embedded files, rich media) is refused. Nothing is fetched from outside.
"""

from __future__ import annotations

import io
import math
import re
import secrets
import warnings
import zlib
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from jointwatch import settings as declared
from jointwatch.errors import ConflictError, ForbiddenError, InvalidInputError, NotFoundError
from jointwatch.media import check_upload
from jointwatch.releasability import TLP_LEVELS, may_see, may_see_evidence, tlp_level
from jointwatch.sharing.entries import _own
from jointwatch.store import (
    Engine,
    NewEvent,
    NewEvidence,
    StoredEntry,
    StoredEvidence,
    evidence_content,
    evidence_of,
    get_entry,
    get_evidence_row,
    insert_evidence,
    load_entries,
    recipient_of,
    record_sharing_events,
    set_evidence_status,
)

REF_PREFIX = "ev-"
MAX_BYTES = declared.MAX_EVIDENCE_BYTES.default
# Satellite and aerial frames are larger than a camera's: 40 Mpx (~6300 x 6300) decodes to
# 120 MB as RGB, and more for 16-bit or many bands. A crafted PNG of a few KB can claim far more:
# refused from its header, before a pixel is decoded. (Twice the media bank's limit, which it sets
# as Pillow's: Pillow's own refusal then starts where ours does.)
MAX_PIXELS = 40_000_000
MAX_DESCRIPTION = 4000
MAX_WORLD_FILE = 4096
# a PDF's compressed streams are inflated to look for active content inside them; past this
# many bytes inflated (a zip bomb in a PDF) the file is refused as not checkable
MAX_INFLATED = 200_000_000

MEDIA_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "TIFF": "image/tiff", "WEBP": "image/webp"}
PDF = "application/pdf"
TEXT = "text/plain; charset=utf-8"
ALLOWED = "JPEG, PNG, TIFF (GeoTIFF), WebP, PDF or UTF-8 plain text"
# what a refused file most likely is, to say so (the list is for the message, not the decision)
_KNOWN = ((b"GIF8", "a GIF image"), (b"BM", "a BMP image"), (b"PK\x03\x04", "a ZIP archive (or an Office file)"),
          (b"\xd0\xcf\x11\xe0", "an Office (OLE) file"), (b"MZ", "a Windows executable"),
          (b"\x7fELF", "an ELF executable"), (b"\x1f\x8b", "a gzip archive"), (b"Rar!", "a RAR archive"),
          (b"7z\xbc\xaf", "a 7-Zip archive"), (b"\xca\xfe\xba\xbe", "a Java class or Mach-O file"),
          (b"{\\rtf", "an RTF document"))
# markup a browser would run, and script headers: refused as "text"
_ACTIVE_TEXT = re.compile(rb"<\s*(script|svg|html|!doctype|\?xml|iframe|object|embed|body|head|meta|xml)\b|^\s*#!",
                          re.IGNORECASE)
# names that make a PDF act on its own: run JavaScript, act on open or on events, launch a program,
# carry other files, play rich media. A name ends at whitespace or a delimiter.
_PDF_ACTIVE = re.compile(rb"/(JavaScript|JS|OpenAction|Launch|EmbeddedFiles?|AA|RichMedia|XFA)(?=[\s/<>\[\]()%{}]|$)")
# filters whose bytes this check does not decode (only Flate is inflated; image filters hold pixels,
# scanned as they are): a stream under one of them, an object stream above all, could hide anything.
# Inline images (abbreviated names) sit inside content streams, which are inflated and scanned.
_PDF_OPAQUE_FILTER = re.compile(rb"/(ASCIIHexDecode|ASCII85Decode|LZWDecode|RunLengthDecode|Crypt)"
                                rb"(?=[\s/<>\[\]()%{}]|$)")
_PDF_HEX_NAME = re.compile(rb"/[^\s/<>\[\]()%{}]*#[0-9A-Fa-f]{2}[^\s/<>\[\]()%{}]*")
_PDF_STREAM = re.compile(rb"stream\r?\n(.*?)endstream", re.DOTALL)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Place:
    """Where and when an image was taken, as far as the file says."""

    captured_at: datetime | None = None
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class EvidenceView:
    """An evidence file as one member may see it; ``entry_ref`` names its entry."""

    evidence: StoredEvidence
    entry_ref: str
    mine: bool


def new_ref() -> str:
    return REF_PREFIX + secrets.token_hex(10)


# -- what a file is ------------------------------------------------------------------------------

def sniff(content: bytes, filename: str) -> str:
    """The media type of ``content`` from its bytes; InvalidInputError naming ``filename`` for anything
    not allowed (whatever its name says)."""
    if content.startswith(b"\xff\xd8\xff"):
        return MEDIA_TYPES["JPEG"]
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return MEDIA_TYPES["PNG"]
    if content.startswith((b"II*\x00", b"MM\x00*")):
        return MEDIA_TYPES["TIFF"]
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return MEDIA_TYPES["WEBP"]
    if content.startswith(b"%PDF-"):
        return PDF
    known = next((what for magic, what in _KNOWN if content.startswith(magic)), None)
    if known is not None:
        raise InvalidInputError(f"evidence file {filename!r} is {known}: only {ALLOWED} are taken")
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInputError(f"evidence file {filename!r} is not {ALLOWED}") from None
    if _CONTROL.search(text):
        raise InvalidInputError(f"evidence file {filename!r} is binary, not {ALLOWED}")
    if _ACTIVE_TEXT.search(content.removeprefix(b"\xef\xbb\xbf")):
        raise InvalidInputError(f"evidence file {filename!r} is markup or a script (HTML, SVG, XML, #!), "
                                f"not plain text: only {ALLOWED} are taken")
    return TEXT


def _pdf_names(part: bytes) -> bytes:
    """``part`` with the #xx escapes of its names read: "/J#61vaScript" is "/JavaScript"."""
    return _PDF_HEX_NAME.sub(lambda m: re.sub(rb"#([0-9A-Fa-f]{2})", lambda h: bytes([int(h.group(1), 16)]),
                                              m.group(0)), part)


def check_pdf(content: bytes, filename: str) -> None:
    """InvalidInputError naming ``filename`` if the PDF has active content, or hides its content
    where it cannot be checked (encryption, a stream under a filter other than Flate and the image
    ones, a stream that inflates past ``MAX_INFLATED``)."""
    names = _pdf_names(content)
    if re.search(rb"/Encrypt(?=[\s/<>\[\]()%{}]|$)", names):
        raise InvalidInputError(f"evidence file {filename!r} is an encrypted PDF: its content cannot be checked")
    inflated = 0
    parts = [content]
    for match in _PDF_STREAM.finditer(content):
        try:
            decoder = zlib.decompressobj()
            data = decoder.decompress(match.group(1), MAX_INFLATED - inflated + 1)
        except zlib.error:
            # not Flate (an image's DCT, say): scanned as it is, with the file; but objects
            # packed in a stream we cannot read could hide anything
            dictionary = content[max(0, match.start() - 1000):match.start()].rsplit(b"obj", 1)[-1]
            if b"/ObjStm" in dictionary:
                raise InvalidInputError(f"evidence file {filename!r}: a PDF object stream that cannot be read "
                                        "(only Flate is), so its content cannot be checked") from None
            continue
        inflated += len(data)
        if inflated > MAX_INFLATED:
            raise InvalidInputError(f"evidence file {filename!r}: its PDF streams inflate past "
                                    f"{MAX_INFLATED:,} bytes (a compression bomb?)")
        parts.append(data)
    for part in (names, *(_pdf_names(p) for p in parts[1:])):
        # a filter named in an object stream counts as much as one in the file
        opaque = _PDF_OPAQUE_FILTER.search(part)
        if opaque:
            raise InvalidInputError(f"evidence file {filename!r}: a PDF stream encoded with "
                                    f"{opaque.group(0).decode('latin-1')}, which hides it from the check for "
                                    "active content (only Flate is read): refused")
        found = _PDF_ACTIVE.search(part)
        if found:
            raise InvalidInputError(f"evidence file {filename!r} is a PDF with active content "
                                    f"({found.group(0).decode('latin-1')}): refused")


def decode_image(content: bytes, filename: str) -> Any:
    """The image, opened and decoded whole (a truncated or corrupt file fails here, naming
    ``filename``), refused from its header when over ``MAX_PIXELS``."""
    from PIL import Image  # noqa: PLC0415 - only images need Pillow

    errors = (Image.DecompressionBombError, Image.UnidentifiedImageError, OSError, ValueError, SyntaxError,
              EOFError)
    try:
        with warnings.catch_warnings():
            # Pillow only warns below twice its limit: our own check below refuses, naming the size
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(content))
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise InvalidInputError(f"evidence file {filename!r}: {width}x{height} pixels is over the limit of "
                                        f"{MAX_PIXELS:,} (decompression bomb?)")
            image.load()
    except Image.DecompressionBombError as exc:
        raise InvalidInputError(f"evidence file {filename!r}: too many pixels (decompression bomb?): {exc}") from None
    except errors as exc:
        raise InvalidInputError(f"evidence file {filename!r}: corrupt or truncated image: {exc}") from None
    return image


# -- where and when ------------------------------------------------------------------------------

def _checked(latitude: float, longitude: float, filename: str, where: str) -> tuple[float, float]:
    if not (math.isfinite(latitude) and math.isfinite(longitude) and -90 <= latitude <= 90
            and -180 <= longitude <= 180):
        raise InvalidInputError(f"evidence file {filename!r}: {where} gives latitude {latitude}, longitude "
                                f"{longitude}, not a place on Earth (only a geographic CRS, degrees, is read)")
    return round(latitude, 7), round(longitude, 7)


def _degrees(value: Any, ref: Any) -> float:
    d, m, s = (float(v) for v in value)
    sign = -1 if str(ref).strip().upper() in ("S", "W") else 1
    return sign * (d + m / 60 + s / 3600)


def _exif_time(text: Any, offset: Any) -> datetime | None:
    """DateTimeOriginal ("2024:05:01 13:45:00"), at OffsetTimeOriginal ("+02:00") when the camera
    recorded it, else taken as UTC."""
    try:
        when = datetime.strptime(str(text).strip("\x00 "), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    zone = UTC
    match = re.fullmatch(r"([+-])(\d\d):(\d\d)", str(offset or "").strip("\x00 "))
    if match:
        delta = timedelta(hours=int(match.group(2)), minutes=int(match.group(3)))
        zone = timezone(delta if match.group(1) == "+" else -delta)
    return when.replace(tzinfo=zone).astimezone(UTC)


def exif_place(image: Any, filename: str) -> Place:
    """Capture time and place from EXIF: DateTimeOriginal (Exif IFD) and GPS latitude and longitude."""
    from PIL.ExifTags import IFD  # noqa: PLC0415

    exif = image.getexif()
    if not exif:
        return Place()
    details = exif.get_ifd(IFD.Exif)
    captured = _exif_time(details.get(36867), details.get(36881)) if details.get(36867) else None
    gps = exif.get_ifd(IFD.GPSInfo)
    if gps and gps.get(2) and gps.get(4):
        try:
            latitude, longitude = _degrees(gps[2], gps.get(1, "N")), _degrees(gps[4], gps.get(3, "E"))
        except (TypeError, ValueError, ZeroDivisionError):
            raise InvalidInputError(f"evidence file {filename!r}: its EXIF GPS position cannot be read") from None
        latitude, longitude = _checked(latitude, longitude, filename, "EXIF GPS")
        return Place(captured, latitude, longitude)
    return Place(captured)


def geotiff_place(image: Any, filename: str) -> Place:
    """The image centre's latitude and longitude from GeoTIFF tags (ModelTiepointTag 33922 and
    ModelPixelScaleTag 33550) when the GeoKey directory (34735) says the model is geographic."""
    tags = getattr(image, "tag_v2", None)
    if tags is None or 33922 not in tags or 33550 not in tags:
        return Place()
    keys = tags.get(34735)
    geographic = False
    if keys and len(keys) >= 4:
        for at in range(4, 4 + 4 * int(keys[3]), 4):
            if at + 3 < len(keys) and keys[at] == 1024:  # GTModelTypeGeoKey: 2 is geographic (lat/lon)
                geographic = keys[at + 3] == 2
    if not geographic:
        return Place()  # projected (metres): turning it into degrees needs the CRS's definition
    try:
        i, j, _, x, y, _ = (float(v) for v in tags[33922][:6])
        scale_x, scale_y = float(tags[33550][0]), float(tags[33550][1])
    except (TypeError, ValueError, IndexError):
        raise InvalidInputError(f"evidence file {filename!r}: its GeoTIFF tags cannot be read") from None
    width, height = image.size
    longitude = x + (width / 2 - i) * scale_x
    latitude = y - (height / 2 - j) * scale_y
    latitude, longitude = _checked(latitude, longitude, filename, "its GeoTIFF tags")
    return Place(None, latitude, longitude)


def world_file_place(world_file: bytes, size: tuple[int, int], filename: str) -> Place:
    """The image centre from a world file (.tfw, .jgw, .pgw: six numbers, A D B E C F), read as a
    geographic CRS (degrees); coordinates outside latitude and longitude are refused."""
    if len(world_file) > MAX_WORLD_FILE:
        raise InvalidInputError(f"the world file of {filename!r} is over {MAX_WORLD_FILE:,} bytes")
    try:
        numbers = [float(v) for v in world_file.decode("ascii").split()]
    except (UnicodeDecodeError, ValueError):
        raise InvalidInputError(f"the world file of {filename!r} is not six numbers") from None
    if len(numbers) != 6 or not all(math.isfinite(n) for n in numbers):
        raise InvalidInputError(f"the world file of {filename!r} is not six numbers")
    a, d, b, e, c, f = numbers
    col, row = (size[0] - 1) / 2, (size[1] - 1) / 2
    longitude, latitude = a * col + b * row + c, d * col + e * row + f
    latitude, longitude = _checked(latitude, longitude, filename, "its world file")
    return Place(None, latitude, longitude)


def read_file(content: bytes, filename: str, world_file: bytes | None = None,
              max_bytes: int = MAX_BYTES) -> tuple[str, Place]:
    """The checked media type of a file and where and when it was taken; InvalidInputError (naming
    the file) for anything refused."""
    try:
        check_upload(content, max_bytes)
    except InvalidInputError as exc:
        raise InvalidInputError(f"evidence file {filename!r}: {str(exc).removeprefix('upload: ')}") from None
    media_type = sniff(content, filename)
    if media_type == PDF:
        check_pdf(content, filename)
    if not media_type.startswith("image/"):
        if world_file is not None:
            raise InvalidInputError(f"evidence file {filename!r} is not an image: a world file places images only")
        return media_type, Place()
    image = decode_image(content, filename)
    place = exif_place(image, filename) if media_type != MEDIA_TYPES["PNG"] else Place()
    if media_type == MEDIA_TYPES["TIFF"] and place.latitude is None:
        geo = geotiff_place(image, filename)
        place = Place(place.captured_at, geo.latitude, geo.longitude)
    if world_file is not None:
        geo = world_file_place(world_file, image.size, filename)
        place = Place(place.captured_at, geo.latitude, geo.longitude)
    return media_type, place


def clean_filename(filename: str) -> str:
    """The file's name without folders or control characters (it is shown and sent back, never used as a path)."""
    name = re.split(r"[\\/]", filename)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    if not name or name in (".", ".."):
        raise InvalidInputError("an evidence file needs a file name")
    return name[:255]


# -- add, list, read, withdraw --------------------------------------------------------------------

def add_evidence(engine: Engine, ref: str, member_id: int, user: str, filename: str, content: bytes,
                 tlp: str | None = None, description: str = "", origin: str = "", world_file: bytes | None = None,
                 max_bytes: int = MAX_BYTES) -> StoredEvidence:
    """Attach a file to entry ``ref``; only its originator may (NotFoundError if it may not see the
    entry, ForbiddenError if it is not the originator). ``tlp`` defaults to the entry's and may
    only be stricter."""
    entry = _own(engine, ref, member_id)
    if entry.status != "active":
        raise ConflictError(f"partner entry {ref!r} is withdrawn: it takes no more evidence")
    level = entry.labels.tlp if tlp is None or not tlp.strip() else tlp_level(tlp)
    if TLP_LEVELS.index(level) < TLP_LEVELS.index(entry.labels.tlp):
        raise InvalidInputError(f"evidence TLP {level!r} is less strict than its entry's ({entry.labels.tlp!r}): "
                                "evidence is shared as its entry is, or more strictly")
    if len(description) > MAX_DESCRIPTION:
        raise InvalidInputError(f"a description is at most {MAX_DESCRIPTION:,} characters")
    name = clean_filename(filename)
    media_type, place = read_file(content, name, world_file, max_bytes)
    evidence_ref = new_ref()
    return insert_evidence(
        engine, NewEvidence(evidence_ref, entry.id, name, media_type, level, description.strip(), member_id, user,
                            origin or "unknown", place.captured_at, place.latitude, place.longitude),
        content, events=[NewEvent(entry.id, member_id, user, "evidence added", "",
                                  f"{evidence_ref} {name} ({media_type}, TLP:{level.upper()})")])


def _entry_for(engine: Engine, ref: str, member_id: int) -> StoredEntry:
    entry = get_entry(engine, ref)
    if entry is None or not may_see(entry.member_id, entry.labels, recipient_of(engine, member_id)):
        raise NotFoundError(f"no partner entry {ref!r}")
    return entry


def list_evidence(engine: Engine, ref: str, member_id: int, user: str = "") -> list[EvidenceView]:
    """The evidence of entry ``ref`` that ``member_id`` may see (NotFoundError if it may not see the
    entry); a withdrawn entry's evidence stays listed, as the entry does. A recipient's read is
    put on the sharing trail."""
    entry = _entry_for(engine, ref, member_id)
    recipient = recipient_of(engine, member_id)
    seen = [e for e in evidence_of(engine, entry.id)
            if may_see_evidence(entry.member_id, entry.labels, e.tlp, recipient)]
    mine = entry.member_id == member_id
    if not mine and seen:
        record_sharing_events(engine, [NewEvent(entry.id, member_id, user, "evidence viewed", "",
                                                "listed " + ", ".join(e.ref for e in seen))])
    return [EvidenceView(_as_seen(e, mine), entry.ref, mine) for e in seen]


def _as_seen(evidence: StoredEvidence, mine: bool) -> StoredEvidence:
    """The record as its reader may see it: who at the originator added it, and from which
    address, are the originator's own business (as an entry's history is); a recipient learns the
    originator (its entry says it), when, and what the file is."""
    return evidence if mine else replace(evidence, member_id=None, user="", origin="")


def _visible(engine: Engine, evidence_ref: str, member_id: int) -> tuple[StoredEvidence, StoredEntry]:
    """The evidence and its entry if ``member_id`` may see it; NotFoundError, the same as for a
    ref that does not exist, otherwise."""
    missing = NotFoundError(f"no evidence {evidence_ref!r}")
    evidence = get_evidence_row(engine, evidence_ref)
    if evidence is None:
        raise missing
    entries = load_entries(engine, [evidence.entry_id])
    if not entries or not may_see_evidence(entries[0].member_id, entries[0].labels, evidence.tlp,
                                           recipient_of(engine, member_id)):
        raise missing
    return evidence, entries[0]


def get_evidence(engine: Engine, evidence_ref: str, member_id: int, user: str = "",
                 with_content: bool = True) -> tuple[EvidenceView, bytes | None]:
    """One evidence file and (``with_content``) its bytes, as ``member_id`` may see it. A withdrawn
    file's bytes go to its originator only (ConflictError for others; its record stays readable).
    A recipient's read is put on the sharing trail."""
    evidence, entry = _visible(engine, evidence_ref, member_id)
    mine = entry.member_id == member_id
    content = None
    if with_content:
        if evidence.status != "active" and not mine:
            raise ConflictError(f"evidence {evidence_ref!r} was withdrawn by its originator: its content is no "
                                "longer shared")
        content = evidence_content(engine, evidence.sha256)
    if not mine:
        record_sharing_events(engine, [NewEvent(entry.id, member_id, user, "evidence viewed", "",
                                                f"{evidence.ref}{' content' if with_content else ''}")])
    return EvidenceView(_as_seen(evidence, mine), entry.ref, mine), content


def withdraw_evidence(engine: Engine, evidence_ref: str, member_id: int, user: str, reason: str) -> StoredEvidence:
    """Withdrawn by the entry's originator: listed as withdrawn, its bytes kept, no longer sent to recipients."""
    evidence, entry = _visible(engine, evidence_ref, member_id)
    if entry.member_id != member_id:
        raise ForbiddenError(f"evidence {evidence_ref!r} is {entry.originator}'s: only its originator withdraws it")
    if evidence.status == "withdrawn":
        raise ConflictError(f"evidence {evidence_ref!r} is already withdrawn")
    if not reason.strip():
        raise InvalidInputError("a withdrawal needs a reason")
    return set_evidence_status(engine, evidence_ref, "withdrawn",
                               events=[NewEvent(entry.id, member_id, user, "evidence withdrawn", "",
                                                f"{evidence_ref}: {reason}")])
