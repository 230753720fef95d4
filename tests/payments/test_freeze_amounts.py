"""The freeze register keeps every amount exactly, or refuses it (review of issue 13).

On SQLite a NUMERIC column holds a double: POST /freeze with an amount of 999999999999999999
came back as 1000000000000000000.0000, a register that no longer adds up to what was frozen.
Amounts are to the cent and under ten trillion, where a double is exact for every amount and
every difference a release leaves.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jointwatch.errors import InvalidInputError
from jointwatch.store import open_engine
from jointwatch.store.freeze import MAX_AMOUNT, freeze_asset, get_asset, release_asset

ASSET = dict(holder="Tarak Ben Taher Ben Faleh Ouni Harzi", account="DE89370400440532013000",
             institution="DEUTDEFF", currency="EUR", frozen_on=date(2023, 6, 5), source="un_sc",
             reference="QDi.354", regime="ISIL (Da'esh) and Al-Qaida", country="DE", reason="payment held")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    engine = open_engine(str(tmp_path_factory.mktemp("freeze") / "freeze.db"), create=True)
    yield engine
    engine.dispose()


@pytest.mark.parametrize("amount", ["999999999999999999", "10000000000000", "0.001", "12.345"])
def test_an_amount_the_register_cannot_keep_exactly_is_refused(store, amount: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInputError, match="amount"):
        freeze_asset(store, amount=Decimal(amount), **ASSET)  # type: ignore[arg-type]


@settings(max_examples=40, deadline=None)
@given(cents=st.integers(2, int(MAX_AMOUNT * 100)), part=st.floats(0.0, 1.0))
def test_every_accepted_amount_and_release_is_kept_exactly(store, cents: int, part: float) -> None:  # type: ignore[no-untyped-def]
    amount = Decimal(cents).scaleb(-2)
    asset = freeze_asset(store, amount=amount, **ASSET)  # type: ignore[arg-type]
    assert (asset.amount, asset.frozen_amount) == (amount, amount)
    released = Decimal(max(1, min(cents - 1, round(cents * part)))).scaleb(-2)
    after = release_asset(store, asset.id, "basic expenses", released, licence="L-1")
    assert after.frozen_amount == amount - released
    assert get_asset(store, asset.id).history[1].amount == released


def test_a_release_amount_is_held_to_the_same_rule(store) -> None:  # type: ignore[no-untyped-def]
    asset = freeze_asset(store, amount=Decimal("100.00"), **ASSET)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="amount"):
        release_asset(store, asset.id, "basic expenses", Decimal("0.001"), licence="L-1")
