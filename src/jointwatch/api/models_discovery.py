"""Bodies of the /discovery routes: a holder's offer and log, an asker's blind queries.

Nothing here carries a holder's words or an asker's name back to the other side: the
holder's view holds askers, times and key counts; the asker's holds hit or no hit,
strength, the kinds of key that agreed, its own words and an opaque token.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from jointwatch.api.models import Text, UtcDatetime
from jointwatch.releasability import TLP_LEVELS
from jointwatch.screening import QUERY_SCHEMATA, Query
from jointwatch.sharing import BUCKETS, MAX_KEYS

Name = Annotated[Text, Field(min_length=1, max_length=128)]
MAX_HOLDERS = 100
# a ristretto255 element is 32 bytes: 44 characters of base64 (a little slack for line ends is refused)
ELEMENT_CHARS = 44


class OfferRequest(BaseModel):
    """A holder's offer, opened or changed: what is left out keeps its current value (or the default)."""

    model_config = ConfigDict(extra="forbid")

    daily_keys: int | None = Field(None, ge=1, le=10_000_000, description=(
        "Key evaluations each asker may spend per UTC day (a query costs its bucket: "
        f"{', '.join(map(str, BUCKETS))}). Default 6,400, about 100 queries."))
    per_minute: int | None = Field(None, ge=1, le=10_000, description="Blind queries per asker per minute.")
    scope: Literal["server", "connected"] | None = Field(None, description=(
        "Who may ask: server (members of this server) or connected (the servers linked to it too)."))
    tlp_max: Annotated[Text, Field(max_length=32)] | None = Field(None, description=(
        f"The strictest TLP among the entries the index covers: {', '.join(TLP_LEVELS)}. Default red."))
    new_seed: bool = Field(False, description="Make a new secret seed: every key and token given out stops working.")


class OfferOut(BaseModel):
    """A holder's offer as it stands (never its seed)."""

    holder: str = Field(description="The holder member's name.")
    status: Literal["open", "closed"]
    daily_keys: int = Field(description="Key evaluations per asker per UTC day.")
    per_minute: int = Field(description="Blind queries per asker per minute.")
    scope: Literal["server", "connected"]
    tlp_max: str = Field(description="The strictest TLP the index covers.")
    created_at: UtcDatetime
    updated_at: UtcDatetime


class SpendOut(BaseModel):
    """One asker's spend at one holder today, the same figures on both sides."""

    holder: str = Field(description="The holder member's name.")
    asker: str = Field(description="The asking member's name (a partner server's link member for its askers).")
    day: str = Field(description="The UTC day, YYYY-MM-DD.")
    keys: int = Field(description="Key evaluations spent.")
    queries: int = Field(description="Blind queries evaluated.")
    refused: int = Field(description="Blind queries refused (budget or rate).")
    budget: int = Field(description="The day's budget of key evaluations.")


class BlindQueryOut(BaseModel):
    """One blind query as its holder saw it: who asked, when, how many keys. No name."""

    asker: str
    at: UtcDatetime
    keys: int = Field(description="Elements sent: a bucket size, whatever the name's length.")
    outcome: Literal["evaluated", "refused"]


class OfferView(BaseModel):
    """The holder's own view: its offer, today's spend per asker, and its log of blind queries."""

    offer: OfferOut
    spend: list[SpendOut]
    log: list[BlindQueryOut] = Field(description="The latest blind queries, newest first.")


class HolderOut(BaseModel):
    """A holder whose offer reaches the caller, and the caller's spend there today."""

    holder: str
    day: str = Field(description="The UTC day the spend and budget are for.")
    spent: int = Field(description="Key evaluations the caller spent at this holder today.")
    budget: int = Field(description="The day's budget of key evaluations at this holder.")
    queries: int
    refused: int
    per_minute: int = Field(description="Blind queries allowed per minute.")


class IndexEntry(BaseModel):
    token: str = Field(description="The entry's opaque name in this index (this asker, this day).")
    birth_year: bool = Field(description="Whether the entry has a birth year.")


class IndexOut(BaseModel):
    """A holder's blind index for the caller today (``sharing.BlindIndex.to_json``): keyed values only."""

    format: int
    holder: str
    epoch: str = Field(description="The UTC day its key belongs to; evaluations of another day do not meet it.")
    entries: list[IndexEntry] = Field(description="Padded to a multiple of 32 and shuffled.")
    names: list[list[int]] = Field(description="Per name: [entry position, word count (5: five or more)].")
    keys: str = Field(description="The 16-byte values, concatenated, in base64.")
    postings: list[list[int]] = Field(description="Per value (in the order of keys): the names it belongs to.")


class EvaluateRequest(BaseModel):
    """Blinded elements to evaluate with the holder's key of the day."""

    model_config = ConfigDict(extra="forbid")

    elements: list[Annotated[str, Field(max_length=ELEMENT_CHARS)]] = Field(max_length=MAX_KEYS, description=(
        f"Ristretto255 elements in base64, as many as a bucket: {', '.join(map(str, BUCKETS))}."))


class EvaluateOut(BaseModel):
    elements: list[str] = Field(description="The evaluated elements in base64, in the order sent.")
    epoch: str = Field(description="The UTC day of the key used: look the results up in that day's index.")
    spent: int = Field(description="Key evaluations the caller has spent at this holder today, this query included.")
    budget: int = Field(description="The day's budget.")


class DiscoveryRequest(BaseModel):
    """A blind query: the name (and optionally birth date and documents) never leaves this server."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: Text = Field(max_length=1000, description="The name to look for.")
    schema_: Text = Field("Person", alias="schema", description=f"One of {', '.join(QUERY_SCHEMATA)}.")
    birth_date: Text | None = Field(None, max_length=32, description="YYYY, YYYY-MM, YYYY-MM-DD or DD.MM.YYYY.")
    id_numbers: list[Annotated[Text, Field(max_length=64)]] = Field(
        default_factory=list, max_length=20, description="Passport, ID or registration numbers.")
    holders: list[Name] | None = Field(None, max_length=MAX_HOLDERS, description=(
        "Ask only these holders (member names here, name@link on a linked server); default: every holder "
        "whose offer reaches the caller, here and on linked servers."))

    def to_query(self) -> Query:
        return Query(name=self.name, schema=self.schema_, birth_date=self.birth_date,
                     id_numbers=tuple(self.id_numbers))


class HitOut(BaseModel):
    """What the asker learns of one hit."""

    token: str = Field(description="The entry's opaque name for this asker today: quote it in a request.")
    epoch: str = Field(description="The UTC day the token belongs to.")
    strength: float = Field(description="0..1, comparable to a screening score.")
    agreed: list[str] = Field(description="The kinds of key that agreed: name, birth_year, document.")
    words: list[str] = Field(description="Which of the query's own words hit.")


class HolderAnswerOut(BaseModel):
    """One holder's answer. ``refused`` set means the holder was NOT asked: ``hit`` is null then, never "no hit"."""

    holder: str
    hit: bool | None = Field(description="Hit or no hit at this holder; null when it did not answer (refused).")
    hits: list[HitOut]
    keys: int = Field(description="Elements sent (a bucket size).")
    spent: int = Field(description="Key evaluations spent at this holder today, after this query.")
    budget: int
    refused: str | None = Field(None, description="Why the holder refused (budget or rate spent); no answer then.")


class DiscoveryResponse(BaseModel):
    answers: list[HolderAnswerOut] = Field(description="One per holder asked.")
