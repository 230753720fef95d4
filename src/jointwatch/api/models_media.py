"""Bodies of the media routes: bare hashes to match, items to contribute; and the match answer's envelope.

What comes back is the media package's own records (``BankItem``, ``BankEvent``, ``MediaMatch``,
``HiddenMatch``, ``MediaHashes``, ``Contribution``): FastAPI reads their fields and ``Field``
notes for the OpenAPI document, so each field is declared once, where the record is made, and
the CLI's ``--json`` and the API give it the same name.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from jointwatch.api.models import Text
from jointwatch.media import HiddenMatch, MediaHashes, MediaMatch

Md5 = Annotated[str, Field(pattern=r"^[0-9a-fA-F]{32}$", description="MD5 of the file, 32 hex digits")]
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-fA-F]{64}$", description="SHA-256 of the file, 64 hex digits")]
Pdq = Annotated[str, Field(pattern=r"^[0-9a-fA-F]{64}$", description="PDQ hash, 64 hex digits (reference order)")]
ContentType = Literal["logo", "execution", "attack", "recruitment", "instruction", "glorification", "threat",
                      "propaganda", "other"]
Tlp = Literal["clear", "green", "amber", "amber+strict", "red"]
Reason = Annotated[Text, Field(min_length=1, max_length=2000)]
MAX_PDQ_PER_QUERY = 64
# vPDQ as ThreatExchange and HMA write it: one feature a sampled frame; a 3-hour video at one a second
Vpdq = Annotated[str, Field(pattern=r"^[0-9a-fA-F]{64},\d{1,3},\d+(\.\d+)?$",
                            description="One vPDQ feature: '<PDQ, 64 hex digits>,<quality>,<seconds>'")]
MAX_VPDQ_FEATURES = 3 * 3600


class MediaMatchRequest(BaseModel):
    """Hashes of one file, computed by the caller: the file itself never has to leave the platform."""

    model_config = ConfigDict(extra="forbid")
    md5: Md5 | None = None
    sha256: Sha256 | None = None
    pdq: Annotated[list[Pdq], Field(max_length=MAX_PDQ_PER_QUERY,
                                    description="PDQ hashes of the file (e.g. of several video frames)")] = []
    threshold: Annotated[int, Field(ge=0, le=128, description="PDQ: the largest Hamming distance that matches")] = 31
    vpdq: Annotated[list[Vpdq], Field(max_length=MAX_VPDQ_FEATURES,
                                      description="The video's vPDQ hash, as ThreatExchange and HMA write it")] = []


class LabelsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    content_type: ContentType
    group: Annotated[Text, Field(min_length=1, max_length=128)] | None = None
    tlp: Tlp = "amber"


class MediaItemRequest(LabelsIn):
    """A contribution by hashes (a partner that hashed the file itself); at least one hash."""

    md5: Md5 | None = None
    sha256: Sha256 | None = None
    pdq: Pdq | None = None
    pdq_quality: Annotated[int, Field(ge=0, le=100)] | None = None
    vpdq: Annotated[list[Vpdq], Field(max_length=MAX_VPDQ_FEATURES,
                                      description="A video's vPDQ hash (give its md5 or sha256 too)")] = []


class StatusRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Reason


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: Reason


class MediaMatchResponse(BaseModel):
    hashes: MediaHashes | None = None
    note: str | None = None
    matches: list[MediaMatch]
    hidden: list[HiddenMatch] = Field([], description="Matches on items you may not see")
