"""Exception classes. The CLI and API turn them into exit codes and problem details.

Exit codes: 0 done, 1 unexpected error, 2 bad command line, 3 bad list file,
4 store error, 5 download error, 6 not found, 7 bad query or input file (screening),
8 done, and a person must look (a traveller referred or hit, a payment held).
"""

from __future__ import annotations

from pathlib import Path


# Not an error: the work is done and found something a person must look at, so that a
# script can tell "all clear" from "call an officer" without reading the output.
ATTENTION_EXIT = 8


class JointwatchError(Exception):
    """Base class of every error jointwatch raises on purpose."""

    exit_code = 1


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


class StoreError(JointwatchError):
    """The store cannot do what was asked (unknown version, bad URL, …)."""

    exit_code = 4


class NotFoundError(JointwatchError):
    """A source, version or entity that was asked for does not exist."""

    exit_code = 6


class FetchError(JointwatchError):
    """An official list could not be downloaded."""

    exit_code = 5


class QueryError(JointwatchError, ValueError):
    """A subject that cannot be screened (empty name, impossible birth date …); names the field."""

    exit_code = 7


class MessageFormatError(_Located, QueryError):
    """An input message (passenger list, reservation, MRZ …) that cannot be read; names the place."""
