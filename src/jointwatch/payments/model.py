"""What a payment message holds once parsed: parties, agents, accounts, amount, remittance.

One model for ISO 20022 (pacs.008, pain.001) and SWIFT MT103, so screening never needs to
know which format a payment came in. Accounts are checked here: an IBAN whose checksum or
country layout is wrong is an error in the message, not something to screen.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import TypeVar

from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException
from schwifty.registry import get_iban_spec

T = TypeVar("T")

# ISO 4217 currency codes as a shape check: three capital letters (the code list changes; a
# bank's own system has the authoritative one)
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_IBAN_SHAPE = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}$")
MAX_AMOUNT = Decimal("999999999999999999")  # ISO 20022 ActiveCurrencyAndAmount: 18 digits


@dataclass(frozen=True)
class Account:
    """An account as the message gives it: an IBAN (checked) or another identifier."""

    value: str               # the IBAN in compact form, or the other identifier as written
    kind: str                # "iban" or "other"


@dataclass
class Party:
    """A debtor, creditor or ultimate party: who pays or is paid."""

    role: str
    name: str | None = None
    address: list[str] = field(default_factory=list)
    country: str | None = None              # ISO 3166-1 alpha-2 of the postal address
    account: Account | None = None
    bic: str | None = None                  # an organisation identified by its BIC (MT 50A, 59A, AnyBIC)
    schema: str = "LegalEntity"             # Person (private id, birth date), Organization (org id) or unknown
    birth_date: str | None = None
    identifiers: list[str] = field(default_factory=list)   # LEI, national id, passport … as written
    location: str = ""                      # where in the message (XML path or MT tag)


@dataclass
class Agent:
    """A bank in the chain, known by its BIC (and sometimes a name)."""

    role: str
    bic: str | None = None
    name: str | None = None
    country: str | None = None
    location: str = ""


@dataclass
class Payment:
    """One credit transfer: one pacs.008 / pain.001 transaction or one MT103."""

    format: str                             # pacs.008, pain.001, MT103
    position: int                           # 1-based position of the message in its file
    reference: str                          # end-to-end id (ISO) or :20: sender's reference (MT)
    amount: Decimal
    currency: str
    parties: list[Party] = field(default_factory=list)
    agents: list[Agent] = field(default_factory=list)
    remittance: list[str] = field(default_factory=list)
    message_id: str | None = None           # group header MsgId / MT block 3 UETR
    uetr: str | None = None
    settlement_date: str | None = None      # YYYY-MM-DD
    charges: str | None = None              # SHA, OUR, BEN / SLEV, DEBT, CRED
    purpose: str | None = None
    source: str = ""                        # the file it came from

    def party(self, role: str) -> Party | None:
        return next((p for p in self.parties if p.role == role), None)

    def agent(self, role: str) -> Agent | None:
        return next((a for a in self.agents if a.role == role), None)


@dataclass
class UnreadMessage:
    """A message of a file that could not be read: where it is and what is wrong.

    A result, not an exception: a file's payments are read as a stream of ``Payment`` and
    ``UnreadMessage`` in file order, so one broken message is reported in its place and the
    others are still screened. A whole file that cannot be read raises ``MessageFormatError``."""

    path: str
    position: int
    field: str
    reason: str
    reference: str | None = None

    def __str__(self) -> str:
        return f"{self.path}, message {self.position}, {self.field}: {self.reason}"


class FieldError(ValueError):
    """Raised inside a parser: this field of the message is wrong (becomes an UnreadMessage)."""

    def __init__(self, field: str, reason: str) -> None:
        self.field, self.reason = field, reason
        super().__init__(f"{field}: {reason}")


def parse_account(value: str, where: str) -> Account:
    """An IBAN checked with schwifty (checksum, length, country layout), else another account id."""
    compact = re.sub(r"\s+", "", value).upper()
    if not compact:
        raise FieldError(where, "account is empty")
    if len(compact) > 34:
        raise FieldError(where, f"account {value!r} is longer than 34 characters")
    if _IBAN_SHAPE.match(compact) and compact[:2].isalpha() and _looks_like_iban(compact):
        try:
            return Account(IBAN(compact).compact, "iban")
        except SchwiftyException as error:
            raise FieldError(where, f"IBAN {value!r} is not valid: {error}") from None
    return Account(value.strip(), "other")


def _looks_like_iban(compact: str) -> bool:
    """A country prefix that has an IBAN layout: anything else is a domestic account number."""
    try:
        get_iban_spec(compact[:2])
    except SchwiftyException:
        return False
    return True


def parse_iban(value: str, where: str) -> Account:
    """An account the message says is an IBAN: it must be one."""
    checked = _checked_iban(value)
    if checked.startswith("!"):
        raise FieldError(where, f"IBAN {value!r} is not valid: {checked[1:]}")
    return Account(checked, "iban")


@lru_cache(maxsize=65536)
def _checked_iban(value: str) -> str:
    """The IBAN in compact form, or "!" and why it is not one (accounts repeat all day: checked once)."""
    try:
        return str(IBAN(re.sub(r"\s+", "", value)).compact)
    except SchwiftyException as error:
        return f"!{error}"


def parse_bic(value: str, where: str) -> str:
    """A BIC (ISO 9362: 8 or 11 characters) in upper case; FieldError if it cannot be one."""
    compact = value.strip().upper()
    problem = _bic_problem(compact)
    if problem is not None:
        raise FieldError(where, f"BIC {value!r} is not valid: {problem}")
    return compact


@lru_cache(maxsize=65536)
def _bic_problem(compact: str) -> str | None:
    """Why a BIC is not valid, or None (banks repeat all day: each is checked once)."""
    try:
        BIC(compact)
    except SchwiftyException as error:
        return str(error)
    return None


def parse_amount(value: str | None, where: str, decimal_comma: bool = False) -> Decimal:
    """A positive amount; ``decimal_comma`` for SWIFT MT ("1234,56")."""
    if value is None or not value.strip():
        raise FieldError(where, "amount is missing")
    raw = value.strip()
    if decimal_comma:
        if "." in raw or raw.count(",") != 1:
            raise FieldError(where, f"amount {value!r} must have one decimal comma (SWIFT)")
        raw = raw.replace(",", ".")
        if raw.endswith("."):
            raw += "0"
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        raise FieldError(where, f"amount {value!r} is not a number") from None
    if not amount.is_finite() or amount <= 0 or amount > MAX_AMOUNT:
        raise FieldError(where, f"amount {value!r} is not a positive amount")
    return amount


def parse_currency(value: str | None, where: str) -> str:
    if value is None or not _CURRENCY.match(value.strip()):
        raise FieldError(where, f"currency {value!r} is not an ISO 4217 code")
    return value.strip()


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """``items`` in lists of ``size`` (the last may be shorter); itertools.batched from Python 3.12."""
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
