"""The one error hierarchy. Each class carries its exit code (CLI), HTTP status and problem
type slug (API), so the two front ends turn the same error into the same answer, and a
library raises the class that says what happened wherever it happens: a wrong value is an
``InvalidInputError`` whether the store, a parser or the CLI finds it.

Exit codes: 0 done, 1 unexpected error, 2 bad command line, 3 bad list file,
4 the store refused or failed (a conflict with what it holds, an allowance used up, no
store, the store busy: try again), 5 download error, 6 not found, 7 invalid input (a value,
a subject or an input file), 8 done and a person must look (a traveller referred or hit,
a payment held), 9 cannot screen (no list loaded, a list too old, an input not fully
read): never read as "clear", 10 an optional component is not installed.

``catalogue()`` lists every class with its codes; docs/errors.md is that list, and a test
keeps the two the same.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# Not an error: the work is done and found something a person must look at, so that a
# script can tell "all clear" from "call an officer" without reading the output.
ATTENTION_EXIT = 8
UNAVAILABLE_EXIT = 9


def most_serious_exit(codes: Iterable[int]) -> int:
    """The exit code of a batch whose items ended with ``codes`` (0 when there are none).

    Cannot screen (9) > any other error (the first met, e.g. 7 a bad input file) > a person
    must look (8) > done (0): an error is never hidden behind an 8, which a script reads as
    "everything was screened, call an officer"."""
    def rank(code: int) -> int:
        return 0 if code == 0 else 1 if code == ATTENTION_EXIT else 3 if code == UNAVAILABLE_EXIT else 2
    return max(codes, key=rank, default=0)


class JointwatchError(Exception):
    """An error jointwatch raised on purpose that it did not expect to meet (a bug or a broken install)."""

    exit_code = 1
    http_status = 500
    slug = "internal"


class _Located(JointwatchError):
    """An error in an input file at a known place: the message names the file and the place."""

    def __init__(self, path: Path | str, location: str | None, reason: str) -> None:
        self.path = str(path)
        self.location = location
        self.reason = reason
        where = f"{self.path}, {location}" if location else self.path
        super().__init__(f"{where}: {reason}")


# A ValueError too, so that a pydantic validator calling a library check (``prepare``,
# ``clean_text``) turns the refusal into a field error of the request.
class InvalidInputError(JointwatchError, ValueError):
    """A value given to jointwatch is wrong (an option, a field, a verdict, a missing reason); names the field."""

    exit_code = 7
    http_status = 422
    slug = "invalid-input"


class QueryError(InvalidInputError):
    """A subject that cannot be screened (empty name, impossible birth date …); names the field."""

    slug = "invalid-subject"


class MessageFormatError(_Located, InvalidInputError):
    """An input file or message (passenger list, reservation, MRZ, payment file, media file …) that cannot be
    read; names the file and the place."""

    slug = "invalid-message"


class NotAnImageError(MessageFormatError):
    """A media file is not an image Pillow can read: it can still be matched by its exact hashes."""

    slug = "not-an-image"


# Not an InvalidInputError: the list parsers catch ValueError from their own date and number
# readers, and a list error must never be swallowed by one of those.
class ListFormatError(_Located):
    """A list file is malformed, truncated, hostile or not in the format it claims."""

    exit_code = 3
    http_status = 422
    slug = "invalid-list"


class ConflictError(JointwatchError):
    """The store holds something that rules the change out (already exists, already decided, already released,
    not yours to withdraw); nothing was changed."""

    # exit 4 as before this class existed: scripts written against "4: the store refused" keep working
    exit_code = 4
    http_status = 409
    slug = "conflict"


class LimitReachedError(ConflictError):
    """A member has used up an allowance (e.g. its disputes of the day); nothing was changed."""

    http_status = 429
    slug = "limit-reached"

    def __init__(self, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after  # seconds until the allowance has room again


class ForbiddenError(ConflictError):
    """The caller may see the thing but not do this to it (edit another member's partner entry, pass on an
    entry its handling forbids); nothing was changed."""

    http_status = 403
    slug = "forbidden"


class BundleRefusedError(ForbiddenError):
    """A federation bundle that is not signed by a key of the link, was changed after signing, or was
    accepted before (a replay); nothing of it was stored and the refusal is audited."""

    slug = "bundle-refused"


class StoreError(JointwatchError):
    """The store itself failed: no store at that path, a bad URL, a failed migration, a database that cannot
    be reached."""

    exit_code = 4
    # 500, not 503: none of these passes by waiting (an operator must act, so a Retry-After
    # would mislead), and the message names the database (path, URL) which a caller must not
    # see: the service logs it and answers "the request could not be completed".
    http_status = 500
    slug = "store-error"


class StoreBusyError(StoreError):
    """Another writer holds the store for longer than we wait; nothing was changed: try again."""

    http_status = 503
    slug = "store-busy"
    retry_after = 5


class NotFoundError(JointwatchError):
    """A source, version or entity that was asked for does not exist."""

    exit_code = 6
    http_status = 404
    slug = "not-found"


class FetchError(JointwatchError):
    """An official list could not be fetched (no such folder, no list file in it)."""

    exit_code = 5
    http_status = 502
    slug = "fetch-failed"


class DownloadError(FetchError):
    """A failed download: the source, its URL (tokens masked) and the HTTP status, if any."""

    slug = "download-failed"

    def __init__(self, source: str, url: str | None, reason: str, status: int | None = None) -> None:
        self.source, self.url, self.status = source, url, status
        super().__init__(f"{source}: {url}: {reason}" if url else reason)


class LinkAnswerError(FetchError):
    """A partner's server answered something this server does not take (or nothing): that holder's answer is refused."""

    slug = "link-answer-refused"


class ScreeningUnavailableError(JointwatchError):
    """Screening cannot be done honestly: no list is loaded, a list is older than allowed, or
    an input was not fully read. Never to be taken for "no match" (fail closed)."""

    exit_code = UNAVAILABLE_EXIT
    http_status = 503
    slug = "screening-unavailable"
    retry_after = 300


class MediaBusyError(ScreeningUnavailableError):
    """Too many media files wait to be decoded: nothing was matched, try again shortly (never "no match")."""

    slug = "media-busy"
    retry_after = 5


class MissingExtraError(JointwatchError):
    """A library of an optional extra (media, spark, postgres) is not installed."""

    exit_code = 10
    http_status = 501
    slug = "missing-extra"


@dataclass(frozen=True)
class ErrorKind:
    """One class of the hierarchy as the front ends see it (a row of docs/errors.md)."""

    name: str
    parent: str
    exit_code: int
    http_status: int
    slug: str
    summary: str            # the class's docstring


def catalogue() -> list[ErrorKind]:
    """Every public error class of this module, in the order declared (each family after its parent)."""
    kinds = []
    for cls in list(globals().values()):
        if isinstance(cls, type) and issubclass(cls, JointwatchError) and not cls.__name__.startswith("_"):
            parent = next((base.__name__ for base in cls.__mro__[1:]
                           if issubclass(base, JointwatchError) and not base.__name__.startswith("_")), "")
            kinds.append(ErrorKind(cls.__name__, parent, cls.exit_code, cls.http_status, cls.slug,
                                   " ".join((cls.__doc__ or "").split())))
    return kinds


def catalogue_markdown() -> str:
    """The table of docs/errors.md: class, parent, exit code, HTTP status, problem type, meaning."""
    lines = ["| class | kind of | exit | HTTP | problem type (`urn:jointwatch:problem:…`) | when |",
             "| --- | --- | --- | --- | --- | --- |"]
    for kind in catalogue():
        lines.append(f"| `{kind.name}` | {f'`{kind.parent}`' if kind.parent else ''} | {kind.exit_code} "
                     f"| {kind.http_status} | `{kind.slug}` | {kind.summary} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":   # python -m jointwatch.errors: the table of docs/errors.md
    print(catalogue_markdown(), end="")
