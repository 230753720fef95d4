"""Exception classes. Each carries its exit code (CLI) and HTTP status and problem type (API),
so the two front ends turn the same error into the same answer.

Exit codes: 0 done, 1 unexpected error, 2 bad command line, 3 bad list file,
4 store error (also: the store is busy, try again), 5 download error, 6 not found,
7 bad query or input file, 8 done and a person must look (a traveller referred or hit,
a payment held), 9 cannot screen (no list loaded, a list too old, an input not fully
read): never read as "clear", 10 an optional component is not installed.
"""

from __future__ import annotations

from collections.abc import Iterable
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
    """Base class of every error jointwatch raises on purpose."""

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


class ListFormatError(_Located):
    """A list file is malformed, truncated, hostile or not in the format it claims."""

    exit_code = 3
    http_status = 422
    slug = "invalid-list"


class StoreError(JointwatchError):
    """The store cannot do what was asked (unknown version, bad URL, no store at that path …)."""

    exit_code = 4
    http_status = 409
    slug = "conflict"


class StoreBusyError(StoreError):
    """Another writer holds the store for longer than we wait; nothing was changed: try again."""

    http_status = 503
    slug = "store-busy"
    retry_after = 5


class LimitReachedError(StoreError):
    """A member has used up an allowance (e.g. its disputes of the day); nothing was changed."""

    http_status = 429
    slug = "limit-reached"

    def __init__(self, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after  # seconds until the allowance has room again


class NotFoundError(JointwatchError):
    """A source, version or entity that was asked for does not exist."""

    exit_code = 6
    http_status = 404
    slug = "not-found"


class FetchError(JointwatchError):
    """An official list could not be downloaded."""

    exit_code = 5
    http_status = 502
    slug = "fetch-failed"


class QueryError(JointwatchError, ValueError):
    """A subject that cannot be screened (empty name, impossible birth date …); names the field."""

    exit_code = 7
    http_status = 422
    slug = "invalid-subject"


class MessageFormatError(_Located, QueryError):
    """An input message (passenger list, reservation, MRZ …) that cannot be read; names the place."""


class ScreeningUnavailableError(JointwatchError):
    """Screening cannot be done honestly: no list is loaded, a list is older than allowed, or
    an input was not fully read. Never to be taken for "no match" (fail closed)."""

    exit_code = UNAVAILABLE_EXIT
    http_status = 503
    slug = "screening-unavailable"
    retry_after = 300


class MissingExtraError(JointwatchError):
    """A library of an optional extra (media, spark, postgres) is not installed."""

    exit_code = 10
    http_status = 501
    slug = "missing-extra"
