"""Fast unpickling of slotted dataclasses (the screening index's cache holds tens of thousands)."""

from __future__ import annotations

from dataclasses import fields
from typing import Any


class FastPickle:
    """Pickles a slotted dataclass as its constructor call.

    The dataclasses module restores a slotted instance through a ``__setstate__`` that looks up
    the class's fields again for every object: over half the time of loading the index cache.
    Rebuilding through ``__init__`` needs no lookup on load."""

    __slots__ = ()

    def __reduce__(self) -> tuple[type, tuple[Any, ...]]:
        return (type(self), tuple(getattr(self, f.name) for f in fields(self)))  # type: ignore[arg-type]
