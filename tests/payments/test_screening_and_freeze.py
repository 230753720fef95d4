"""Holding payments to listed parties, and the freeze register through its status history."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from jointwatch.errors import ConflictError, InvalidInputError, MessageFormatError
from jointwatch.payments import Payment, read_payment_text
from jointwatch.payments.freeze import export_csv
from jointwatch.payments.model import UnreadMessage
from jointwatch.payments.reader import read_payments
from jointwatch.payments.screening import PaymentDecision, PaymentScreener
from jointwatch.screening import Screener
from jointwatch.store import add_member
from jointwatch.store.freeze import freeze_asset, get_asset, list_assets, listing_regimes, release_asset, totals
from tests.conftest import FIXTURES

SAMPLES = FIXTURES / "payments"


def _decisions(screener: Screener, name: str) -> list[PaymentDecision | UnreadMessage]:
    return list(PaymentScreener(screener).screen_all(read_payments(SAMPLES / name)))


def test_payment_to_a_listed_party_is_held(screener: Screener) -> None:
    clean, listed = _decisions(screener, "pacs008_sample.xml")
    assert isinstance(clean, PaymentDecision) and clean.decision == "pass" and clean.hits == []
    assert isinstance(listed, PaymentDecision) and listed.decision == "hold"
    by_kind = {(h.role, h.kind, h.source, h.reference) for h in listed.hits}
    assert ("creditor", "name", "un_sc", "QDi.354") in by_kind
    # the creditor's bank: its BIC is listed by OFAC (swiftBic of a listed bank)
    assert any(h.role == "creditor_agent" and h.kind == "bic" and h.value == "MOSWRUMM" and h.source == "us_ofac_sdn"
               for h in listed.hits)
    hit = next(h for h in listed.hits if h.reference == "QDi.354")
    assert hit.score >= screener.threshold and "Harzi" in hit.reason and hit.list_version


def test_mt103_variant_spelling_and_remittance_text(screener: Screener) -> None:
    results = _decisions(screener, "mt103_sample.fin")
    assert [r.decision if isinstance(r, PaymentDecision) else "error" for r in results] == ["pass", "hold", "error"]
    held = results[1]
    assert isinstance(held, PaymentDecision)
    assert {h.reference for h in held.hits if h.role == "creditor"} & {"QDi.354", "17293"}
    pain = _decisions(screener, "pain001_sample.xml")
    text_hits = [h for r in pain if isinstance(r, PaymentDecision) for h in r.hits if h.kind == "remittance"]
    assert "QDi.354" in {h.reference for h in text_hits}
    assert [r.decision for r in pain if isinstance(r, PaymentDecision)][:2] == ["pass", "pass"]


def test_broken_message_does_not_stop_screening(screener: Screener) -> None:
    ok, bad, listed = _decisions(screener, "pacs008_broken.xml")
    assert isinstance(bad, UnreadMessage) and bad.position == 2
    assert isinstance(ok, PaymentDecision) and ok.decision == "pass"
    assert isinstance(listed, PaymentDecision) and listed.decision == "hold"


def test_cache_gives_the_same_decisions(screener: Screener) -> None:
    payments = list(read_payments(SAMPLES / "pacs008_sample.xml")) * 3
    cached, plain = PaymentScreener(screener), PaymentScreener(screener, cache=False)
    a = [d.to_dict() for d in cached.screen_all(payments) if isinstance(d, PaymentDecision)]
    b = [d.to_dict() for d in plain.screen_all(payments) if isinstance(d, PaymentDecision)]
    assert a == b
    assert cached.totals.names_screened < plain.totals.names_screened


def test_freeze_register_history_and_totals(register: Engine) -> None:
    assert "SDGT" in listing_regimes(register, "us_ofac_sdn", "17293")
    a = freeze_asset(register, holder="Tarak Ben Taher Ben Faleh Ouni Harzi", account="DE89370400440532013000",
                     institution="DEUTDEFF", amount=Decimal("12500.00"), currency="EUR", frozen_on=date(2023, 6, 5),
                     source="un_sc", reference="QDi.354", regime="ISIL (Da'esh) and Al-Qaida", country="DE",
                     reason="payment E2E-DON-77 held", customer_ref="c-17")
    b = freeze_asset(register, holder="Harzi", account="GB29NWBK60161331926819", institution="NWBKGB2L",
                     amount=Decimal("800"), currency="EUR", frozen_on=date(2023, 6, 6), source="us_ofac_sdn",
                     reference="17293", regime="SDGT", country="GB", reason="account match")
    with pytest.raises(InvalidInputError, match="licence"):
        release_asset(register, a.id, "basic expenses", Decimal("500"))
    a = release_asset(register, a.id, "basic expenses (UNSCR 1452)", Decimal("500"), licence="DE-BBK-2023-17")
    assert (a.status, a.frozen_amount, a.amount) == ("partially_released", Decimal("12000.00"), Decimal("12500.00"))
    with pytest.raises(InvalidInputError, match="cannot release"):
        release_asset(register, a.id, "too much", Decimal("20000"), licence="X")
    b = release_asset(register, b.id, "delisted")
    with pytest.raises(ConflictError, match="already released"):
        release_asset(register, b.id, "again")
    a = get_asset(register, a.id)
    assert [(e.status, e.amount, e.licence) for e in a.history] == [
        ("frozen", Decimal("12500.00"), None), ("partially_released", Decimal("500"), "DE-BBK-2023-17")]
    # the status and the amount still frozen are what the history adds up to
    for asset in list_assets(register):
        released = sum((e.amount for e in asset.history[1:]), Decimal(0))
        assert asset.frozen_amount == asset.history[0].amount - released
        assert asset.status == asset.history[-1].status
    assert totals(list_assets(register), "source") == {("un_sc", "EUR"): Decimal("12000.00")}
    assert totals(list_assets(register), "country") == {("DE", "EUR"): Decimal("12000.00")}
    exported = export_csv(list_assets(register))
    assert "QDi.354" in exported and "DE-BBK-2023-17" in exported and "delisted" in exported


def test_register_pages_by_key_and_totals_without_history(register: Engine) -> None:
    member = add_member(register, "paging-member").id
    made = [freeze_asset(register, holder=f"Holder {i}", account=f"ACC{i}", institution="BANK",
                         amount=Decimal("10.05"), currency=("EUR", "USD")[i % 2], frozen_on=date(2023, 6, 5),
                         source="un_sc", reference="QDi.354", regime="Al-Qaida", country="TN", reason="test",
                         member_id=member) for i in range(5)]
    first = list_assets(register, member, limit=2)
    later = list_assets(register, member, after=first[-1].id, limit=2)
    last = list_assets(register, member, after=later[-1].id, limit=2)
    assert [a.id for a in first + later + last] == [a.id for a in made]
    bare = list_assets(register, member, with_history=False)
    assert all(not a.history for a in bare) and all(len(a.history) == 1 for a in list_assets(register, member))
    # exact and per currency: 3 × 10.05 EUR and 2 × 10.05 USD, never one sum of both
    assert totals(bare, "source") == {("un_sc", "EUR"): Decimal("30.15"), ("un_sc", "USD"): Decimal("20.10")}
    assert totals(bare, "member") == totals(list_assets(register, member), "member")


def test_payment_text_is_named_as_the_sender_knows_it() -> None:
    items = read_payment_text((SAMPLES / "mt103_sample.fin").read_text(encoding="utf-8"), "upload.fin")
    assert [i.source for i in items if isinstance(i, Payment)] == ["upload.fin", "upload.fin"]
    assert [i.path for i in items if isinstance(i, UnreadMessage)] == ["upload.fin"]
    with pytest.raises(MessageFormatError, match="upload.fin.*neither ISO 20022"):
        read_payment_text("not a payment", "upload.fin")
