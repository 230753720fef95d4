"""Files and batches: hash, match or bank every file under a path, one outcome per file.

A batch never stops at a bad file: each file's fault (empty, unreadable, corrupt, truncated,
a decompression bomb) is reported against that file and the rest go on. What a file is comes
from its bytes (``media.sniff``), never its name: an image is hashed with PDQ, a video with
vPDQ and its soundtrack with Chromaprint, a sound file with Chromaprint (``media.clips``). A
file that is none of them (a PDF) is still hashed exactly, so MD5/SHA-256 banks match it.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

import numpy as np

from jointwatch.errors import (
    InvalidInputError,
    JointwatchError,
    MediaBusyError,
    MessageFormatError,
    NotAnImageError,
    NotFoundError,
)
from jointwatch.media.audio import MIN_OVERLAP_ITEMS, MIN_OVERLAP_SECONDS
from jointwatch.media.bank import BankItem, contribute
from jointwatch.media.clips import ClipSignature, clip_kind, hash_clip
from jointwatch.media.hashing import MediaHashes, animation_frames, decode_image, exact_hashes, image_hashes, read_bytes
from jointwatch.media.labels import Labels
from jointwatch.media.matcher import HiddenMatch, Matcher, MatchOptions, MediaMatch, seen_by
from jointwatch.media.signature import (
    Keypoints,
    QuerySignature,
    Signature,
    bank_signature,
    query_keypoints,
    query_signature,
)
from jointwatch.media.sniff import sniff
from jointwatch.store import Engine, Viewer, get_member

NOT_AN_IMAGE = "not an image, video or sound file we can read: exact hashes only"
LOW_QUALITY = "PDQ quality {quality} is under 50: the PDQ hash is kept but not matched"
ANIMATION = ("an animation of {frames} frames: the first matched in full, later ones by PDQ alone ({hashed} "
             "distinct of those sampled)")
SHORT_SOUND = (f"under {MIN_OVERLAP_SECONDS:.0f} s of sound can be read (a short or truncated file): "
               "exact hashes only")
_NO_KEYPOINTS = Keypoints(np.zeros((0, 2), np.float32), np.zeros((0, 32), np.uint8))


@dataclass(frozen=True)
class HashedMedia:
    """A file's hashes, and its signature (bank side) or query signature (query side) when it is an image, or its
    clip signature (both sides) when it is a video or a sound file."""

    hashes: MediaHashes
    signature: Signature | None = None
    query: QuerySignature | None = None
    note: str | None = None
    clip: ClipSignature | None = None

    @property
    def match_query(self) -> QuerySignature | ClipSignature | None:
        """What ``Matcher.match`` takes beyond the hashes: the clip's signature, or the image's query signature."""
        return self.clip or self.query

    def signature_bytes(self) -> bytes | None:
        """What the bank keeps beyond the hashes: the image's signature or the clip's."""
        if self.clip is not None:
            return self.clip.to_bytes()
        return self.signature.to_bytes() if self.signature else None


@dataclass
class FileOutcome:
    """What happened to one file of a batch."""

    path: str
    hashes: MediaHashes | None = None
    matches: list[MediaMatch] = field(default_factory=list)
    hidden: list[HiddenMatch] = field(default_factory=list)
    item: BankItem | None = None
    created: bool | None = None
    note: str | None = None
    error: str | None = None


# A 20-megapixel image takes ~0.25 GB while PDQ runs (RGB, then two float planes), and a 1 MB
# PNG can decode to one: a process decodes a few at a time, the rest wait.
_DECODING = threading.BoundedSemaphore(4)
# uploads a service lets wait per decoding worker; past them it answers 503 (Retry-After)
QUEUE_PER_WORKER = 8
_T = TypeVar("_T")


class DecodeGate:
    """Media work (decode, hash, match) of a service: ``workers`` at a time, each in a thread of its own.

    Waiting uploads hold no thread (they wait in the event loop), so a burst of uploads never
    takes the threads that screening requests (/match) run in; past ``workers x queue_per_worker``
    waiting, an upload is refused with MediaBusyError (503) instead of piling up.
    """

    def __init__(self, workers: int, queue_per_worker: int = QUEUE_PER_WORKER) -> None:
        self.workers = max(1, workers)
        self.max_waiting = self.workers * queue_per_worker
        self._limiter: object = None  # an anyio CapacityLimiter, made in the event loop on first use

    async def run(self, work: Callable[..., _T], *args: object) -> _T:
        """``work(*args)`` in a worker thread when one is free; MediaBusyError when too many wait."""
        import anyio
        import anyio.to_thread

        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.workers)
        limiter = self._limiter
        assert isinstance(limiter, anyio.CapacityLimiter)
        if limiter.statistics().tasks_waiting >= self.max_waiting:
            raise MediaBusyError(f"{limiter.statistics().tasks_waiting} media files are waiting to be hashed; "
                                 f"try again in {MediaBusyError.retry_after} s")
        return await anyio.to_thread.run_sync(functools.partial(work, *args), limiter=limiter)


def hash_media(data: bytes, name: str, for_bank: bool = False, signatures: bool = True) -> HashedMedia:
    """Hash one file's bytes: exact always; PDQ, and a signature or keypoints, when it is an image."""
    with _DECODING:
        return _hash_media(data, name, for_bank, signatures)


def _clip_note(clip: ClipSignature) -> str | None:
    """What a reviewer must know of a video's or sound's hashes: a sound too short to line up with
    anything (a truncated file reads as one) is matched by its exact hashes alone."""
    if clip.kind == "audio":
        return SHORT_SOUND if len(clip.fingerprint) < MIN_OVERLAP_ITEMS else None
    return None if len(clip.fingerprint) else "no sound to fingerprint"


def _hash_media(data: bytes, name: str, for_bank: bool, signatures: bool) -> HashedMedia:
    sniffed = sniff(data)
    if sniffed is not None and sniffed.kind != "image":
        md5, sha256 = exact_hashes(data)
        if not signatures:
            return HashedMedia(MediaHashes(md5, sha256, None, None, clip_kind(data, name)))
        clip = hash_clip(data, name, for_bank)
        return HashedMedia(MediaHashes(md5, sha256, None, None, clip.kind), clip=clip, note=_clip_note(clip))
    try:
        pixels = decode_image(data, name)
    except NotAnImageError:
        if sniffed is not None:
            # its bytes say it is an image we cannot decode (HEIF without a decoder): say so, never "no match"
            raise MessageFormatError(name, None, f"a {sniffed.format} image, which cannot be decoded here") from None
        md5, sha256 = exact_hashes(data)
        return HashedMedia(MediaHashes(md5, sha256, None, None, "other"), note=NOT_AN_IMAGE)
    # an upload's keypoints are found on a worker thread while its PDQ hashes are computed here
    points = query_keypoints(pixels) if signatures and not for_bank else None
    hashes = image_hashes(data, pixels)
    note = None if hashes.pdq_matchable else LOW_QUALITY.format(quality=hashes.pdq_quality)
    frames, later = animation_frames(data, name)
    if for_bank:
        # a bank item is its first frame's hashes and signature and its later frames by PDQ:
        # banked as the first frame alone, an animation re-cut without it (or behind a clean one) was not found
        signature = replace(bank_signature(pixels), pdq_frames=later) if signatures else None
        return HashedMedia(hashes, signature=signature, note=note)
    if frames > 1:
        note = " ".join(filter(None, [note, ANIMATION.format(frames=frames, hashed=len(later))]))
    if not signatures:
        return HashedMedia(hashes, query=QuerySignature(None, _NO_KEYPOINTS, frames=later) if later else None,
                           note=note)
    return HashedMedia(hashes, query=replace(query_signature(pixels, points), frames=later), note=note)


def iter_files(path: Path, hidden: bool = False) -> list[Path]:
    """The file itself, or every regular file under a directory, sorted, through linked directories (each
    directory once); hidden ones (a part of the path starting with a dot) only if ``hidden``.

    InvalidInputError for a directory with no file in it: a batch of nothing must not read as "no match".
    """
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise NotFoundError(f"{path}: no such file or directory")
    found: list[Path] = []
    seen: set[str] = set()
    for folder, directories, names in os.walk(path, followlinks=True):
        real = os.path.realpath(folder)
        if real in seen:             # a link back up the tree: walked already
            directories.clear()
            continue
        seen.add(real)
        if not hidden:
            directories[:] = [d for d in directories if not d.startswith(".")]
            names = [n for n in names if not n.startswith(".")]
        found += [Path(folder) / n for n in names if (Path(folder) / n).is_file()]
    if not found:
        raise InvalidInputError(f"{path}: no file under this directory"
                                + ("" if hidden else " (hidden files, whose names start with a dot, are skipped)"))
    return sorted(found)


def _each(paths: list[Path], step: Callable[[Path], FileOutcome],
          progress: Callable[[int], None] | None) -> Iterator[FileOutcome]:
    for done, path in enumerate(paths, start=1):
        try:
            yield step(path)
        except JointwatchError as exc:
            # the message already names the file
            yield FileOutcome(str(path), error=str(exc))
        if progress:
            progress(done)


def match_files(engine: Engine, matcher: Matcher, viewer: Viewer, paths: list[Path],
                options: MatchOptions | None = None,
                progress: Callable[[int], None] | None = None) -> Iterator[FileOutcome]:
    """Match every file as ``viewer`` may know the matches; one outcome per file, errors included."""
    options = options or MatchOptions()

    def step(path: Path) -> FileOutcome:
        hashed = hash_media(read_bytes(path), str(path), signatures=options.use_signatures)
        seen = seen_by(engine, viewer, matcher.match(hashed.hashes, hashed.match_query, options))
        return FileOutcome(str(path), hashed.hashes, seen.matches, seen.hidden, note=hashed.note)

    return _each(paths, step, progress)


def contribute_files(engine: Engine, member: str | int, user: str, paths: list[Path], labels: Labels,
                     progress: Callable[[int], None] | None = None) -> Iterator[FileOutcome]:
    """Bank every file under ``member`` with ``labels``; one outcome per file, errors included.

    An unknown member is refused at once (NotFoundError), not once per file.
    """
    owner = get_member(engine, member).id

    def step(path: Path) -> FileOutcome:
        hashed = hash_media(read_bytes(path), str(path), for_bank=True)
        done = contribute(engine, owner, user, hashed.hashes, labels, hashed.signature_bytes(), origin="file",
                          note=hashed.note)
        return FileOutcome(str(path), hashed.hashes, item=done.item, created=done.created, note=done.note)

    return _each(paths, step, progress)


def check_upload(data: bytes, limit: int) -> None:
    """InvalidInputError for an empty or over-large upload body."""
    if not data:
        raise InvalidInputError("upload: the body is empty (0 bytes)")
    if len(data) > limit:
        raise InvalidInputError(f"upload: {len(data):,} bytes is over the limit of {limit:,}")
