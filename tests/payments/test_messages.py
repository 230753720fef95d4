"""Parsing real-shaped pacs.008, pain.001 and MT103 messages field by field, and their faults."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from jointwatch.errors import MessageFormatError
from jointwatch.payments.model import Payment, UnreadMessage
from jointwatch.payments.reader import read_payments
from tests.conftest import FIXTURES

SAMPLES = FIXTURES / "payments"


def _read(name: str) -> list[Payment | UnreadMessage]:
    return list(read_payments(SAMPLES / name))


def test_pacs008_field_by_field() -> None:
    first, second = _read("pacs008_sample.xml")
    assert isinstance(first, Payment) and isinstance(second, Payment)
    assert (first.format, first.position, first.reference, first.message_id) == (
        "pacs.008", 1, "E2E-INV-2023-0415", "NWBKGB2L-20230605-0001")
    assert (first.amount, first.currency, first.settlement_date, first.charges) == (
        Decimal("12500.00"), "EUR", "2023-06-05", "SHAR")
    assert first.uetr == "7a562c67-ca16-48ba-b074-65581be6f001" and first.purpose == "SUPP"
    debtor, creditor = first.party("debtor"), first.party("creditor")
    assert debtor is not None and creditor is not None
    assert (debtor.name, debtor.country, debtor.schema, debtor.identifiers) == (
        "Acme Widgets Ltd", "GB", "Organization", ["5493001KJTIIGC8Y1R12"])
    assert debtor.address == ["High Street 12", "EC1A 1BB London"]
    assert debtor.account is not None and (debtor.account.value, debtor.account.kind) == (
        "GB29NWBK60161331926819", "iban")
    assert (creditor.name, creditor.schema, creditor.birth_date, creditor.country) == (
        "Hans Peter Becker", "Person", "1971-02-14", "DE")
    assert [(a.role, a.bic) for a in first.agents] == [
        ("instructing_agent", "NWBKGB2L"), ("instructed_agent", "DEUTDEFF"),
        ("debtor_agent", "NWBKGB2L"), ("creditor_agent", "DEUTDEFF500")]
    assert first.remittance == ["Invoice 2023-0415 widgets and fittings"]
    assert [p.role for p in second.parties] == ["ultimate_debtor", "debtor", "creditor", "ultimate_creditor"]
    assert second.party("debtor").address == ["4 rue de la Paix", "75002 Paris"]  # type: ignore[union-attr]
    account = second.party("creditor").account  # type: ignore[union-attr]
    assert account is not None and (account.value, account.kind) == ("0012345678", "other")
    assert second.agent("intermediary_agent").bic == "CHASUS33"  # type: ignore[union-attr]
    assert second.agent("creditor_agent").name == "Moscow Bank"  # type: ignore[union-attr]


def test_pain001_debtor_of_each_payment_block() -> None:
    payments = _read("pain001_sample.xml")
    assert [p.reference for p in payments if isinstance(p, Payment)] == ["VDL-2023-0001", "VDL-2023-0002",
                                                                         "VDL-2023-0003"]
    one, two, three = payments
    assert isinstance(one, Payment) and isinstance(two, Payment) and isinstance(three, Payment)
    assert one.format == "pain.001" and one.message_id == "ABNA-PAIN-20230605-17"
    assert (one.amount, one.currency, one.settlement_date, one.charges) == (
        Decimal("1200.25"), "EUR", "2023-06-06", "SLEV")
    for p in (one, two):  # the block's debtor applies to each of its transactions
        debtor = p.party("debtor")
        assert debtor is not None and debtor.name == "Van Dijk Logistics BV" and debtor.schema == "Organization"
        assert debtor.account is not None and debtor.account.value == "NL91ABNA0417164300"
        assert p.agent("debtor_agent").bic == "ABNANL2A"  # type: ignore[union-attr]
    assert one.remittance == ["RF18539007547034"]
    assert two.party("creditor").account.value == "DE89370400440532013000"  # type: ignore[union-attr]
    assert three.settlement_date == "2023-06-07" and three.currency == "USD"
    assert three.party("debtor").schema == "LegalEntity"  # type: ignore[union-attr]


def test_mt103_blocks_and_fields() -> None:
    one, two, broken = _read("mt103_sample.fin")
    assert isinstance(one, Payment) and isinstance(two, Payment)
    assert (one.format, one.reference, one.amount, one.currency, one.settlement_date, one.charges) == (
        "MT103", "NWBK230605001", Decimal("25000.00"), "EUR", "2023-06-05", "SHA")
    assert one.uetr == "7a562c67-ca16-48ba-b074-65581be6f0aa"
    assert [(a.role, a.bic) for a in one.agents] == [("sender", "NWBKGB2L"), ("receiver", "DEUTDEFF"),
                                                     ("debtor_agent", "NWBKGB2L"), ("creditor_agent", "DEUTDEFF500")]
    debtor, creditor = one.party("debtor"), one.party("creditor")
    assert debtor is not None and (debtor.name, debtor.address, debtor.location) == (
        "ACME WIDGETS LTD", ["12 HIGH STREET", "LONDON EC1A 1BB"], ":50K:")
    assert debtor.account is not None and debtor.account.value == "GB29NWBK60161331926819"
    assert creditor is not None and creditor.name == "HANS PETER BECKER"
    assert one.remittance == ["/INV/2023-0415 WIDGETS"]
    # 50F and 59F: structured lines
    d2, c2 = two.party("debtor"), two.party("creditor")
    assert d2 is not None and (d2.name, d2.country, d2.birth_date, d2.schema, d2.address) == (
        "DUBOIS MARIE CLAIRE", "FR", "1975-03-12", "Person", ["4 RUE DE LA PAIX", "PARIS"])
    assert c2 is not None and (c2.name, c2.country, c2.location) == ("TARIQ AL HARZI", "SY", ":59F:")
    assert c2.account is not None and c2.account.value == "0012345678"
    assert two.agent("creditor_agent").bic == "MOSWRUMM"  # type: ignore[union-attr]
    assert isinstance(broken, UnreadMessage)
    assert (broken.position, broken.reference) == (3, "ABN-BROKEN-1")
    assert broken.field.startswith(":32A:") and "230631" in broken.reason


def test_a_broken_message_is_reported_and_the_rest_read() -> None:
    ok, bad, listed = _read("pacs008_broken.xml")
    assert isinstance(ok, Payment) and isinstance(listed, Payment)
    assert isinstance(bad, UnreadMessage)
    assert (bad.position, bad.reference) == (2, "BAD-IBAN-2")
    assert bad.field.startswith("CdtTrfTxInf/CdtrAcct/Id/IBAN") and "checksum" in bad.reason.lower()
    assert listed.position == 3


def test_hostile_and_foreign_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(MessageFormatError, match="DOCTYPE"):
        _read("doctype.xml")
    other = tmp_path / "other.txt"
    other.write_text("hello", encoding="utf-8")
    with pytest.raises(MessageFormatError, match="neither ISO 20022"):
        list(read_payments(other))
    cut = tmp_path / "cut.xml"
    text = (SAMPLES / "pacs008_sample.xml").read_text(encoding="utf-8")
    cut.write_text(text[:text.index("<CdtTrfTxInf>", text.index("</CdtTrfTxInf>")) + 200], encoding="utf-8")
    read = list(read_payments(cut))
    assert isinstance(read[0], Payment) and isinstance(read[-1], UnreadMessage) and "malformed" in read[-1].reason
