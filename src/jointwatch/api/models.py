"""Request and response bodies: pydantic at the boundary, the library's dataclasses inside."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from jointwatch.screening import QUERY_SCHEMATA, Match, Query
from jointwatch.store import EntityView, VersionInfo
from jointwatch.text import storable

MAX_LIST = 20


def _in_utc(value: datetime) -> datetime:
    # the store writes UTC; SQLite hands it back naive, PostgreSQL in the session's zone
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _storable(value: str) -> str:
    # the library's own check (jointwatch.text), so the CLI and the API refuse the same text
    return storable("the text", value)


# every string a caller sends: refused with 422 unless it can be encoded and stored
Text = Annotated[str, AfterValidator(_storable)]


# a time as RFC 3339 requires it (with its offset), the same on every backend
UtcDatetime = Annotated[datetime, AfterValidator(_in_utc)]


class Subject(BaseModel):
    """A person, organisation, vessel … to screen. Only ``name`` is required."""

    # unknown fields are refused: a misspelt "birthdate" must not silently screen without a date
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: Text = Field(max_length=1000, description="The name as written in the document or record.")
    schema_: Text = Field("Person", alias="schema", description=f"One of {', '.join(QUERY_SCHEMATA)}.")
    birth_date: Text | None = Field(None, max_length=32, description="YYYY, YYYY-MM, YYYY-MM-DD or DD.MM.YYYY.")
    countries: list[Text] = Field(default_factory=list, max_length=MAX_LIST,
                                  description="Nationalities or countries: names or ISO codes.")
    gender: Text | None = Field(None, max_length=16, description="male / female / m / f.")
    id_numbers: list[Text] = Field(default_factory=list, max_length=MAX_LIST,
                                   description="Passport, ID or registration numbers.")
    id: Text | None = Field(None, max_length=128, description="Your own reference, echoed back in batch results.")

    def to_query(self) -> Query:
        return Query(name=self.name, schema=self.schema_, birth_date=self.birth_date,
                     countries=tuple(self.countries), gender=self.gender, id_numbers=tuple(self.id_numbers),
                     id=self.id)

    def audit_view(self) -> dict[str, Any]:
        """What the audit digest is taken over: the subject, without the caller's own reference."""
        return self.model_dump(by_alias=True, exclude={"id"})


class MatchRequest(Subject):
    threshold: float | None = Field(None, ge=0.0, le=1.0, description="Report matches scoring at least this.")
    limit: int = Field(10, ge=1, le=100, description="At most this many matches.")

    def audit_view(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude={"id", "threshold", "limit"})


class ScreenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subjects: list[Subject] = Field(description="Up to the inline batch limit (1,000); more is refused with 413.")
    threshold: float | None = Field(None, ge=0.0, le=1.0)
    limit: int = Field(10, ge=1, le=100, description="At most this many matches per subject.")


class MatchResponse(BaseModel):
    threshold: float
    list_versions: dict[str, str]
    matches: list[Match]


class ScreenResult(BaseModel):
    index: int
    id: str | None
    matches: list[Match]
    error: str | None = None


class ScreenResponse(BaseModel):
    threshold: float
    list_versions: dict[str, str]
    screened: int
    with_matches: int
    errors: int
    results: list[ScreenResult]


class EntityResponse(BaseModel):
    reference: str
    listings: list[EntityView]


class ListsResponse(BaseModel):
    versions: list[VersionInfo]


class DecisionRequest(BaseModel):
    """An analyst's verdict on one match: is the subject the listed entity?"""

    model_config = ConfigDict(extra="forbid")

    subject: Subject
    reference: Text = Field(max_length=255, description="The listed entity: source reference (QDi.354) or entity id.")
    source: Text | None = Field(None, max_length=64, description="The listing source, if the reference is ambiguous.")
    verdict: Literal["true_positive", "false_positive"]
    reason: Text = Field(min_length=1, max_length=4000)


class Health(BaseModel):
    status: Literal["ok"]
    worker: int = Field(0, description="Which worker process answered (`serve --workers N`: 0 … N-1; 0 with one).")
