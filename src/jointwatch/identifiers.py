"""Document and registration numbers as compared everywhere: the lowest layer, imported by all."""

from __future__ import annotations


def normalize_identifier(number: str) -> str:
    """Document and registration numbers compared without spaces, dashes or case."""
    return "".join(c for c in number.upper() if c.isalnum())
