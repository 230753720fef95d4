"""Bodies of the media routes: bare hashes to match, items to contribute, what comes back."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from jointwatch.api.models import Text, UtcDatetime

Md5 = Annotated[str, Field(pattern=r"^[0-9a-fA-F]{32}$", description="MD5 of the file, 32 hex digits")]
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-fA-F]{64}$", description="SHA-256 of the file, 64 hex digits")]
Pdq = Annotated[str, Field(pattern=r"^[0-9a-fA-F]{64}$", description="PDQ hash, 64 hex digits (reference order)")]
ContentType = Literal["logo", "execution", "attack", "recruitment", "instruction", "glorification", "threat",
                      "propaganda", "other"]
Tlp = Literal["clear", "green", "amber", "amber+strict", "red"]
Reason = Annotated[Text, Field(min_length=1, max_length=2000)]
MAX_PDQ_PER_QUERY = 64


class MediaMatchRequest(BaseModel):
    """Hashes of one file, computed by the caller: the file itself never has to leave the platform."""

    model_config = ConfigDict(extra="forbid")
    md5: Md5 | None = None
    sha256: Sha256 | None = None
    pdq: Annotated[list[Pdq], Field(max_length=MAX_PDQ_PER_QUERY,
                                    description="PDQ hashes of the file (e.g. of several video frames)")] = []
    threshold: Annotated[int, Field(ge=0, le=128, description="PDQ: the largest Hamming distance that matches")] = 31


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


class StatusRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Reason


class MediaItemOut(BaseModel):
    id: int
    contributor: str
    md5: str | None
    sha256: str | None
    pdq: str | None
    pdq_quality: int | None
    group: str | None
    content_type: str
    tlp: str
    status: str
    origin: str
    created_at: UtcDatetime
    updated_at: UtcDatetime
    ref: str = Field(description="A random reference to the item (no sequence in it), as hidden matches give it")


class MediaEventOut(BaseModel):
    member: str
    user: str | None = Field(description="Who acted; only for your own member's events")
    action: str
    status: str
    reason: str
    at: UtcDatetime


class MediaMatchOut(BaseModel):
    """One banked item the file matched: a lead for a human reviewer, not a verdict."""

    item: MediaItemOut
    method: Literal["sha256", "md5", "pdq", "pdq-mirror", "pdq-canonical", "orb", "orb-mirror"]
    distance: int | None = Field(None, description="PDQ: differing bits of 256; exact hashes: 0")
    inliers: int | None = Field(None, description="Local features: keypoints agreeing on one transform")


class HiddenMatchOut(BaseModel):
    """A match on an item you may not see (another member's TLP amber+strict or red): only a ref to ask by."""

    ref: str = Field(description="Quote it in POST /media/refs/{ref}/ask to reach the item's contributor")
    notice: str


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: Reason


class HashesOut(BaseModel):
    md5: str
    sha256: str
    pdq: str | None
    pdq_quality: int | None


class MediaMatchResponse(BaseModel):
    hashes: HashesOut | None = None
    note: str | None = None
    matches: list[MediaMatchOut]
    hidden: list[HiddenMatchOut] = Field([], description="Matches on items you may not see")


class ContributionOut(BaseModel):
    item: MediaItemOut
    created: bool
    note: str | None = None
