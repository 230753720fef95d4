"""The one JSON encoding of product data, shared by the CLI (``--json``), batch output (JSON
lines), exports, network results and the API's hand-written JSON.

Amounts are ``Decimal`` and are written as strings of the exact amount (``"12500.00"``), never
as floats, which would round them: the same form pydantic (and so the API's response models)
gives a ``Decimal``. Dates and times are ISO 8601; dataclasses and pydantic models are written
field by field; sets become sorted lists; paths, enums and anything else listed below become
their plain value. An object of any other type is a programming error and raises ``TypeError``
*before* anything is written, so a caller can encode first and commit or print after.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from pathlib import PurePath
from typing import Any


def to_jsonable(value: Any) -> Any:
    """The JSON-native form of a value ``json`` cannot write itself (the ``default`` hook)."""
    if isinstance(value, Decimal):
        # str keeps the exact amount and its scale; 'NaN'/'Infinity' are not JSON numbers either
        return str(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=lambda v: (type(v).__name__, str(v)))
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        # not dataclasses.asdict: it deep-copies every field (Decimals included) for nothing;
        # the fields go back through this hook one by one
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    model_dump = getattr(value, "model_dump", None)
    if callable(model_dump) and not isinstance(value, type):   # a pydantic model
        return model_dump(mode="json", by_alias=True)
    raise TypeError(f"cannot serialise {type(value).__name__} as JSON")


def dumps(data: Any, *, indent: int | None = None, sort_keys: bool = False) -> str:
    """``data`` as JSON text (UTF-8 characters kept, not escaped), through ``to_jsonable``."""
    return json.dumps(data, default=to_jsonable, ensure_ascii=False, indent=indent, sort_keys=sort_keys)


def jsonable(data: Any) -> Any:
    """``data`` as plain JSON values (dicts, lists, strings, numbers), as ``dumps`` would write it."""
    return json.loads(dumps(data))


__all__ = ["dumps", "jsonable", "to_jsonable"]
