"""Bodies of the /shared routes: partner entries and sharing groups.

An entry is answered in the same form as `jointwatch share show --json` (ref, schema, caption,
originator, mine, status, version, labels, entity); who else received it (``audience``), its
versions and its trail are given to its originator only. Members and groups are named, never
numbered: a number means nothing to another agency's officer.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from jointwatch.api.models import Text, UtcDatetime
from jointwatch.releasability import DISTRIBUTIONS, HANDLING_CODES, TLP_LEVELS
from jointwatch.sharing import SCHEMATA

Distribution = Literal["originator", "members", "group", "server", "connected"]
Name = Annotated[Text, Field(min_length=1, max_length=128)]
Note = Annotated[Text, Field(min_length=1, max_length=2000)]
MAX_AUDIENCE = 100
MAX_PROPERTIES = 60
_PROPERTIES = ("FtM properties and their values, e.g. {\"name\": [\"Abu Example\"], \"birthDate\": [\"1980\"], "
               "\"nationality\": [\"sy\"], \"passportNumber\": [\"N123456\"]}. At least one name.")
_AUDIENCE = ("Member names (distribution 'members') or sharing group names (distribution 'group'); "
             "none for the other distributions.")
_TLP = f"TLP 2.0: {', '.join(TLP_LEVELS)} (TLP:AMBER and upper case accepted)."
_HANDLING = "Handling codes: " + "; ".join(f"{code} ({text})" for code, text in HANDLING_CODES.items())


class EntryRequest(BaseModel):
    """A partner entry to share: one FtM entity and the rules it is shared under."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    schema_: Text = Field(alias="schema", description=f"One of {', '.join(SCHEMATA)}.")
    properties: dict[Name, list[Text]] = Field(max_length=MAX_PROPERTIES, description=_PROPERTIES)
    listings: list[Annotated[Text, Field(max_length=200)]] = Field(
        default_factory=list, max_length=20, description="Official listings it is linked to, as source:reference.")
    distribution: Distribution = Field("originator", description=f"Who receives it: {', '.join(DISTRIBUTIONS)}.")
    audience: list[Name] = Field(default_factory=list, max_length=MAX_AUDIENCE, description=_AUDIENCE)
    tlp: Annotated[Text, Field(max_length=32)] = Field("amber", description=_TLP)
    handling: list[Annotated[Text, Field(max_length=64)]] = Field(default_factory=list, max_length=len(HANDLING_CODES),
                                                                  description=_HANDLING)
    reason: Note = Field(description="Why it is shared: the legal basis.")
    expires_on: date | None = Field(None, description="The last day it matches (review it before then).")


class EditRequest(BaseModel):
    """An entry's next version: what is sent changes, the rest is kept; ``note`` says what and why."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    note: Note = Field(description="What changed and why (kept with the version).")
    expected_version: int | None = Field(None, ge=1, description="409 unless the entry is at this version.")
    schema_: Text | None = Field(None, alias="schema", description=f"One of {', '.join(SCHEMATA)}.")
    properties: dict[Name, list[Text]] | None = Field(None, max_length=MAX_PROPERTIES,
                                                      description="All of them, replacing the current ones.")
    listings: list[Annotated[Text, Field(max_length=200)]] | None = Field(None, max_length=20)
    distribution: Distribution | None = None
    audience: list[Name] | None = Field(None, max_length=MAX_AUDIENCE, description=_AUDIENCE)
    tlp: Annotated[Text, Field(max_length=32)] | None = Field(None, description=_TLP)
    handling: list[Annotated[Text, Field(max_length=64)]] | None = Field(None, max_length=len(HANDLING_CODES),
                                                                         description=_HANDLING)
    reason: Note | None = None
    expires_on: date | None = Field(None, description="The last day it matches; send null to have none.")


class WithdrawRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Note = Field(description="Why it is withdrawn (kept with the entry).")


class TrailEvent(BaseModel):
    """One line of an entry's sharing trail: shared, edited, withdrawn, viewed, matched, exported …"""

    at: UtcDatetime
    action: str
    member: str = Field(description="The member that acted (viewed, matched …).")
    user: str
    counterpart: str = Field(description="Where it went (audience, link), when it went somewhere.")
    detail: str


class EntryVersionOut(BaseModel):
    version: int
    change: str = Field(description="shared, edited, withdrawn, imported, synced …")
    at: UtcDatetime
    member: str
    user: str
    note: str
    labels: dict[str, Any]
    entity: dict[str, Any]


class EntryOut(BaseModel):
    """A partner entry as the caller's member may see it."""

    model_config = ConfigDict(populate_by_name=True)

    ref: str = Field(description="The entry's reference (sh-…), the same on every server.")
    schema_: str = Field(alias="schema")
    caption: str
    originator: str
    mine: bool = Field(description="Whether the caller's member shared it.")
    status: Literal["active", "withdrawn", "expired"]
    version: int
    updated_at: UtcDatetime
    distribution: str
    audience: list[str] | None = Field(None, description="Who it was shared with (to its originator only).")
    tlp: str
    handling: list[str]
    reason: str
    expires_on: date | None
    may_pass_on: bool = Field(description="Whether the caller may pass it on (export, outside tools).")
    entity: dict[str, Any] = Field(description="The FtM entity of the current version.")
    history: list[EntryVersionOut] | None = Field(None, description="Its versions (to its originator only).")
    trail: list[TrailEvent] | None = Field(None, description="Where it went, who viewed and matched it "
                                                             "(to its originator only).")


class EntryList(BaseModel):
    total: int = Field(description="How many entries the caller may see with these filters.")
    offset: int
    limit: int
    entries: list[EntryOut]


class TrailOut(BaseModel):
    ref: str
    trail: list[TrailEvent]


class GroupRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name = Field(description="The group's name, e.g. 'Schengen border police'.")


class GroupMemberRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    member: Name = Field(description="The member's name.")
    action: Literal["add", "remove"] = "add"


class GroupOut(BaseModel):
    name: str
    owner: str
    members: list[str]
