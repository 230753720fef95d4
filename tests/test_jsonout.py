"""The one JSON encoding: exact amounts, and the same form as the API's response models."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter

from jointwatch.jsonout import dumps, jsonable
from jointwatch.store.freeze import FreezeEvent, FrozenAsset


class Colour(enum.Enum):
    RED = "red"


@dataclass
class Row:
    amount: Decimal
    day: date
    tags: set[str]
    where: Path
    colour: Colour


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_amounts_are_exact_strings(amount: Decimal) -> None:
    written = json.loads(dumps({"amount": amount}))["amount"]
    assert isinstance(written, str) and Decimal(written) == amount and written == str(amount)


def test_types_of_product_data() -> None:
    row = Row(Decimal("12500.00"), date(2023, 6, 5), {"b", "a"}, Path("/tmp/x"), Colour.RED)
    assert jsonable([row]) == [{"amount": "12500.00", "day": "2023-06-05", "tags": ["a", "b"], "where": "/tmp/x",
                                "colour": "red"}]
    with pytest.raises(TypeError, match="cannot serialise object"):
        dumps(object())


def test_cli_and_api_write_a_frozen_asset_the_same_way() -> None:
    at = datetime(2023, 6, 5, 12, 0, tzinfo=UTC)
    asset = FrozenAsset(7, 1, "Harzi", None, "DE89370400440532013000", "DEUTDEFF", Decimal("12500.0000"),
                        Decimal("11999.5000"), "EUR", date(2023, 6, 5), "un_sc", "QDi.354", "ISIL", "DE",
                        "partially_released", at,
                        [FreezeEvent("frozen", Decimal("12500.0000"), "held", None, "alice", at)])
    # the API's response is the record itself, as FastAPI serialises its response_model
    api = TypeAdapter(FrozenAsset).dump_python(asset, mode="json")
    cli = jsonable(asset)
    for key in ("amount", "frozen_amount", "frozen_on"):
        assert cli[key] == api[key], key
    assert cli["history"][0]["amount"] == api["history"][0]["amount"] == "12500.0000"
    assert json.loads(TypeAdapter(FrozenAsset).dump_json(asset))["amount"] == "12500.0000"
