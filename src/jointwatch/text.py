"""What makes a string storable: the one check that every caller-given text passes before it is
kept (the CLI's options and the API's bodies alike), at the lowest layer so both use it."""

from __future__ import annotations

from jointwatch.errors import QueryError


def storable(name: str, value: str) -> str:
    """``value`` unchanged if a store, a digest and a PostgreSQL column can hold it; else a
    QueryError naming ``name`` (also a ValueError, so pydantic reports it as a 422)."""
    # JSON may carry "\u0000" and lone "\ud800" escapes, and a shell can pass a NUL-free but
    # surrogate-escaped argument: neither is text a name, reference or reason ever holds
    if "\x00" in value:
        raise QueryError(f"{name} contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise QueryError(f"{name} contains a lone surrogate (\\ud800-\\udfff), which is not text") from None
    return value
