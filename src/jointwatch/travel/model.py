"""Travellers, their documents and flights, as read from passports, passenger lists and reservations."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True)
class Document:
    """A travel document: passport, identity card, visa …"""

    number: str
    type: str = ""                    # P passport, I identity card, V visa, … (as sent)
    issuing_country: str = ""         # ISO 3166-1 alpha-3 or ICAO code, as sent
    expiry: date | None = None
    issued: date | None = None


@dataclass(frozen=True)
class Flight:
    """One flight leg."""

    carrier: str
    number: str
    departure_airport: str
    arrival_airport: str
    departure: datetime | None = None
    arrival: datetime | None = None
    operating_carrier: str = ""       # a code-share: the carrier that flies it

    def key(self) -> tuple[str, str, str, str]:
        """The same leg whatever detail one mention of it left out (the arrival time, leading zeros)."""
        return (self.carrier, self.number.lstrip("0"), self.departure_airport,
                self.departure.date().isoformat() if self.departure else "")


@dataclass(frozen=True)
class Problem:
    """Something wrong in the input, where it is, and why."""

    location: str                     # e.g. "segment 17 (DTM)" or "line 2, field birth date"
    reason: str


@dataclass
class Traveller:
    """One passenger or crew member with what the source said about them."""

    index: int                        # 1-based order in the manifest
    location: str                     # where the traveller starts in the source: "segment 12 (NAD)"
    surname: str = ""
    given_names: str = ""
    role: str = "passenger"           # passenger, crew, passenger in transit, crew in transit, infant
    gender: str | None = None         # male, female, unknown
    birth_date: date | None = None
    nationality: str = ""             # as sent (alpha-3 or ICAO code)
    residence: str = ""
    birth_place: str = ""
    documents: list[Document] = field(default_factory=list)
    flights: list[Flight] = field(default_factory=list)
    references: dict[str, str] = field(default_factory=dict)   # e.g. {"AVF": "QXGYLO"} (booking reference)
    embarkation: str = ""
    debarkation: str = ""
    other_names: list[str] = field(default_factory=list)       # the booking's name when the passport reads otherwise
    problems: list[Problem] = field(default_factory=list)

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.given_names, self.surname) if p)


@dataclass
class Manifest:
    """Everything one input gave: who travels on which flights, and what could not be read."""

    source: str                       # file name or "<request>"
    format: str                       # paxlst, pnrgov, mrz, csv
    kind: str = "passengers"          # passengers or crew (PAXLST BGM), reservations (PNRGOV)
    sender: str = ""
    recipient: str = ""
    reference: str = ""               # the interchange control reference: quoted in the reply
    message_reference: str = ""
    flights: list[Flight] = field(default_factory=list)
    travellers: list[Traveller] = field(default_factory=list)
    declared_count: int | None = None  # CNT: what the sender says it sent
    warnings: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
