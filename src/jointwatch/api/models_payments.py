"""Bodies of the payments routes (the responses of the freeze and customer routes are the
store's records themselves: store.freeze.FrozenAsset, store.customers.CustomerAlert,
payments.customers.CustomerRun)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from jointwatch.api.models import Text
from jointwatch.payments import PaymentDecision

MAX_MESSAGE_CHARS = 5_000_000


class PaymentScreenRequest(BaseModel):
    """One payment file's content: ISO 20022 XML (pacs.008, pain.001) or SWIFT MT103 text."""

    model_config = ConfigDict(extra="forbid")

    content: Text = Field(max_length=MAX_MESSAGE_CHARS, description="The file's text, as received.")
    threshold: float | None = Field(None, ge=0.0, le=1.0, description="Name score that holds a payment.")
    remittance: bool = Field(True, description="Also look for listed names in the remittance text.")


class UnreadOut(BaseModel):
    """A message of the body that could not be read: where, and what is wrong (nothing of it screened)."""

    error: str
    position: int
    field: str
    reason: str
    reference: str | None = None


class PaymentScreenResponse(BaseModel):
    list_versions: dict[str, str]
    messages: int
    held: int
    passed: int
    errors: int
    # each payment's decision with its hits (a partner entry's hit says its originator, TLP and
    # handling codes in ``shared``), or the message that could not be read, in file order
    results: list[PaymentDecision | UnreadOut]


class FreezeRequest(BaseModel):
    """A frozen asset to enter in the register, on the legal basis of a listing."""

    model_config = ConfigDict(extra="forbid")

    holder: Text = Field(max_length=500, description="Who holds the asset (the listed person or organisation).")
    account: Text = Field(max_length=100, description="Account (IBAN) or other asset identifier.")
    institution: Text = Field(max_length=200, description="The institution holding it (name or BIC).")
    amount: Decimal = Field(gt=0, max_digits=20, decimal_places=2, description="Amount frozen.")
    currency: str = Field(min_length=3, max_length=3, description="ISO 4217 currency.")
    source: Text = Field(min_length=1, max_length=64, description="The list the listing is on: un_sc, us_ofac_sdn, …")
    reference: Text = Field(min_length=1, max_length=64,
                            description="The listing's reference on that list: QDi.354, 17293, …")
    country: str = Field(min_length=2, max_length=2, description="Where the asset is held (ISO 3166 alpha-2).")
    reason: Text = Field(max_length=2000, description="Why it is frozen (the alert or payment held).")
    regime: Text | None = Field(None, max_length=200, description="Regime (default: the listing's programme).")
    frozen_on: date | None = Field(None, description="Date frozen (default today).")
    customer_ref: Text | None = Field(None, max_length=128, description="The customer's id in the customer base.")


class ReleaseRequest(BaseModel):
    """A release of a frozen asset: all of it, or part under a licence."""

    model_config = ConfigDict(extra="forbid")

    reason: Text = Field(max_length=2000)
    amount: Decimal | None = Field(None, gt=0, max_digits=20, decimal_places=2,
                                   description="Amount released (default: everything still frozen).")
    licence: Text | None = Field(None, max_length=200, description="The licence a partial release is made under.")


class FreezeTotal(BaseModel):
    key: str
    currency: str
    frozen: Decimal


class CustomerFileRequest(BaseModel):
    """A member's customer file (CSV: id,name[,type,birth_date,nationality,country,accounts])."""

    model_config = ConfigDict(extra="forbid")

    content: Text = Field(max_length=MAX_MESSAGE_CHARS, description="The CSV file's text, as exported.")
