"""Bodies of the payments routes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from jointwatch.api.models import Text

MAX_MESSAGE_CHARS = 5_000_000


class PaymentScreenRequest(BaseModel):
    """One payment file's content: ISO 20022 XML (pacs.008, pain.001) or SWIFT MT103 text."""

    model_config = ConfigDict(extra="forbid")

    content: Text = Field(max_length=MAX_MESSAGE_CHARS, description="The file's text, as received.")
    threshold: float | None = Field(None, ge=0.0, le=1.0, description="Name score that holds a payment.")
    remittance: bool = Field(True, description="Also look for listed names in the remittance text.")


class PaymentScreenResponse(BaseModel):
    list_versions: dict[str, str]
    messages: int
    held: int
    passed: int
    errors: int
    results: list[dict[str, Any]]
