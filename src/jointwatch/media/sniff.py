"""What kind of media a file is, told from its bytes, never from its name.

Two containers hold more than one kind: RIFF holds WebP images, WAVE audio and AVI video;
ISO base media (MP4, MOV, M4A, 3GP, HEIF) holds video, audio or images. The bytes after the
container's header tell which: RIFF's form type, the ``ftyp`` box's brand. A container that
can hold either video or audio (MP4 with a generic brand, Matroska/WebM, Ogg, MPEG transport
streams) is opened with FFmpeg (``av``) and is a video when it has a video stream, else audio.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

MediaKind = Literal["image", "video", "audio"]
KINDS: tuple[MediaKind, ...] = ("image", "video", "audio")


@dataclass(frozen=True)
class Sniffed:
    """What the first bytes say: the kind (None: a container FFmpeg must look into) and the format's name."""

    kind: MediaKind | None
    format: str


# (offset, magic, kind, format); the first that matches wins
_MAGIC: tuple[tuple[int, bytes, MediaKind | None, str], ...] = (
    (0, b"\x89PNG\r\n\x1a\n", "image", "PNG"),
    (0, b"\xff\xd8\xff", "image", "JPEG"),
    (0, b"GIF87a", "image", "GIF"),
    (0, b"GIF89a", "image", "GIF"),
    (0, b"II*\x00", "image", "TIFF"),
    (0, b"MM\x00*", "image", "TIFF"),
    (0, b"BM", "image", "BMP"),
    (0, b"ID3", "audio", "MP3"),
    (0, b"fLaC", "audio", "FLAC"),
    (0, b"#!AMR", "audio", "AMR"),
    (0, b"OggS", None, "Ogg"),
    (0, b"\x1a\x45\xdf\xa3", None, "Matroska/WebM"),
    (0, b"FLV\x01", "video", "FLV"),
    (0, b"\x00\x00\x01\xba", "video", "MPEG-PS"),
    (0, b"\x30\x26\xb2\x75\x8e\x66\xcf\x11", None, "ASF/WMV"),
)
# RIFF form types (bytes 8..12)
_RIFF: dict[bytes, tuple[MediaKind, str]] = {b"WEBP": ("image", "WebP"), b"WAVE": ("audio", "WAV"),
                                             b"AVI ": ("video", "AVI")}
# ISO base media brands (bytes 8..12 of the ftyp box) that say the kind; others are looked into
_AUDIO_BRANDS = (b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B ")
_IMAGE_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis")


def sniff(data: bytes) -> Sniffed | None:
    """The kind and format the leading bytes say, or None when they are no media format we know."""
    for offset, magic, kind, name in _MAGIC:
        if data[offset:offset + len(magic)] == magic:
            return Sniffed(kind, name)
    if data[:4] == b"RIFF" and len(data) >= 12:
        known = _RIFF.get(data[8:12])
        return Sniffed(*known) if known else Sniffed(None, f"RIFF {data[8:12]!r}")
    if data[:4] == b"FORM" and data[8:12] in (b"AIFF", b"AIFC"):
        return Sniffed("audio", "AIFF")
    if data[4:8] == b"ftyp":
        brand = data[8:12]
        if brand in _AUDIO_BRANDS:
            return Sniffed("audio", "MP4 audio")
        if brand in _IMAGE_BRANDS:
            return Sniffed("image", "HEIF/AVIF")
        return Sniffed(None, "MP4/QuickTime")
    if len(data) > 376 and data[0] == 0x47 and data[188] == 0x47 and data[376] == 0x47:
        return Sniffed(None, "MPEG-TS")
    if len(data) >= 2 and data[0] == 0xFF and data[1] & 0xF6 == 0xF0:
        return Sniffed("audio", "AAC (ADTS)")
    if len(data) >= 4 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0 and data[1] & 0x06 and data[2] & 0xF0 != 0xF0:
        # an MPEG audio frame header: sync, a layer, and a bitrate index that is not "bad"
        return Sniffed("audio", "MP3")
    return None
