"""UN/EDIFACT PAXLST (D02B, D05B): the passenger or crew list a carrier sends before departure.

Layout as the WCO/IATA/ICAO API guidelines profile it: BGM (745 passengers, 250 crew), TDT flight
legs each with LOC/DTM departure and arrival, then one NAD group per traveller (ATT gender, DTM+329
birth date, LOC places, NAT nationality, RFF references, DOC documents with DTM+36 expiry and LOC+91
issuing country), CNT totals. A traveller group that cannot be read in part is kept with its
problems (segment number and reason); only a broken envelope rejects the message.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from jointwatch.errors import MessageFormatError
from jointwatch.travel.codes import gender_of, travel_codes
from jointwatch.travel.dates import edifact_datetime, yymmdd
from jointwatch.travel.edifact import Interchange, Message, Segment
from jointwatch.travel.model import Document, Flight, Manifest, Problem, Traveller

DEPARTURE_LOC, ARRIVAL_LOC = "125", "87"  # routing points (92) are not read: the legs are
DEPARTURE_DTM, ARRIVAL_DTM = "189", "232"


def _flight(tdt: Segment, legs: list[Segment]) -> Flight:
    ident = tdt.get(1).replace(" ", "")
    carrier = tdt.get(4) or ident[:2]
    number = ident[len(carrier):] if ident.upper().startswith(carrier.upper()) else ident
    departure_airport = arrival_airport = ""
    departure = arrival = None
    place = ""
    for segment in legs:
        if segment.tag == "LOC":
            place = segment.get(1)
            if segment.get(0) == DEPARTURE_LOC:
                departure_airport = place
            elif segment.get(0) == ARRIVAL_LOC:
                arrival_airport = place
        elif segment.tag == "DTM":
            when = edifact_datetime(segment.get(0, 1), segment.get(0, 2))
            if segment.get(0) == DEPARTURE_DTM:
                departure, departure_airport = when, departure_airport or place
            elif segment.get(0) == ARRIVAL_DTM:
                arrival, arrival_airport = when, arrival_airport or place
    return Flight(carrier=carrier, number=number, departure_airport=departure_airport,
                  arrival_airport=arrival_airport, departure=departure, arrival=arrival)


def _name(traveller: Traveller, nad: Segment) -> None:
    parts = [p.strip() for p in nad.element(3)]
    if not parts or not parts[0]:
        # some senders put the whole name in the first component of a later element
        parts = [p.strip() for p in nad.element(4)] if len(nad.elements) > 4 else []
    traveller.surname = parts[0] if parts else ""
    traveller.given_names = " ".join(p for p in parts[1:] if p)
    if not traveller.surname:
        traveller.problems.append(Problem(nad.where, "no traveller name"))


def _read_segment(traveller: Traveller, segment: Segment, document: Document | None) -> Document | None:
    """Apply one segment of a traveller group; returns the document being read (DOC group)."""
    places: dict[str, str] = travel_codes()["paxlst_traveller_places"]
    tag, qualifier = segment.tag, segment.get(0)
    if tag == "ATT" and qualifier == "2":
        traveller.gender = gender_of(segment.get(2))
    elif tag == "DTM" and qualifier == "329":
        traveller.birth_date = yymmdd(segment.get(0, 1), "birth") if len(segment.get(0, 1)) == 6 else \
            edifact_datetime(segment.get(0, 1), segment.get(0, 2) or "102").date()
    elif tag == "DTM" and document is not None and qualifier in ("36", "182"):
        value = segment.get(0, 1)
        day = yymmdd(value, "expiry") if len(value) == 6 else edifact_datetime(value, "102").date()
        return replace(document, expiry=day) if qualifier == "36" else replace(document, issued=day)
    elif tag == "LOC" and document is not None and qualifier == "91":
        return replace(document, issuing_country=segment.get(1))
    elif tag == "LOC" and qualifier in places:
        value = segment.get(1) or next((c for c in reversed(segment.element(1)) if c.strip()), "")
        setattr(traveller, places[qualifier], value.strip())
    elif tag == "NAT":
        traveller.nationality = segment.get(1)
    elif tag == "RFF":
        traveller.references[segment.get(0)] = segment.get(0, 1)
    elif tag == "DOC":
        number = segment.get(1)
        if not number:
            raise ValueError("DOC without a document number")
        return Document(number=number, type=segment.get(0))
    return document


def _traveller(index: int, nad: Segment, body: Iterable[Segment]) -> Traveller:
    roles: dict[str, str] = travel_codes()["paxlst_roles"]
    traveller = Traveller(index=index, location=nad.where, role=roles[nad.get(0)])
    _name(traveller, nad)
    document: Document | None = None
    for segment in body:
        if segment.tag == "DOC" and document is not None:
            traveller.documents.append(document)
            document = None
        try:
            document = _read_segment(traveller, segment, document)
        except ValueError as exc:
            traveller.problems.append(Problem(segment.where, str(exc)))
    if document is not None:
        traveller.documents.append(document)
    return traveller


def _count(segment: Segment) -> tuple[str, int] | None:
    qualifier, value = segment.get(0), segment.get(0, 1) or segment.get(1)
    return (qualifier, int(value)) if value.isdigit() else None


def parse_paxlst_message(message: Message, manifest: Manifest) -> None:
    """Add one PAXLST message's flights and travellers to ``manifest``."""
    roles: dict[str, str] = travel_codes()["paxlst_roles"]
    lists: dict[str, str] = travel_codes()["paxlst_lists"]
    segments = message.segments
    i = 0
    while i < len(segments):
        segment = segments[i]
        if segment.tag == "BGM":
            manifest.kind = lists.get(segment.get(0), manifest.kind)
        elif segment.tag == "TDT":
            j = i + 1
            while j < len(segments) and segments[j].tag in ("LOC", "DTM"):
                j += 1
            try:
                flight = _flight(segment, segments[i + 1:j])
                if flight.key() not in {f.key() for f in manifest.flights}:   # each part repeats the legs
                    manifest.flights.append(flight)
            except ValueError as exc:
                manifest.problems.append(Problem(segment.where, f"flight leg: {exc}"))
            i = j
            continue
        elif segment.tag == "NAD" and segment.get(0) in roles:
            j = i + 1
            while j < len(segments) and segments[j].tag not in ("NAD", "CNT", "TDT"):
                j += 1
            manifest.travellers.append(_traveller(len(manifest.travellers) + 1, segment, segments[i + 1:j]))
            i = j
            continue
        elif segment.tag == "CNT" and (count := _count(segment)) and count[0] in ("41", "42"):
            manifest.declared_count = (manifest.declared_count or 0) + count[1]
        i += 1


def parse_paxlst(interchange: Interchange, source: str) -> list[Manifest]:
    """One manifest per PAXLST list in the interchange; the parts of a multi-part list are joined."""
    by_list: dict[str, list[Message]] = {}
    for message in interchange.messages:
        if message.type != "PAXLST":
            raise MessageFormatError(source, message.header.where if message.header else None,
                                     f"a {message.type} message in a passenger list")
        key = message.access_reference or message.reference
        by_list.setdefault(key, []).append(message)
    manifests = []
    for key, messages in by_list.items():
        messages.sort(key=lambda m: m.part or 0)
        manifest = Manifest(source=source, format="paxlst", sender=interchange.sender,
                            recipient=interchange.recipient, reference=interchange.reference,
                            message_reference=messages[0].reference, warnings=list(interchange.warnings))
        for message in messages:
            parse_paxlst_message(message, manifest)
        parts = [m.part for m in messages if m.part is not None]
        if parts and (parts != list(range(1, max(parts) + 1)) or not messages[-1].last_part):
            final = " (last part received)" if messages[-1].last_part else " (no final part)"
            manifest.warnings.append(f"list {key!r}: parts {', '.join(map(str, parts))} received{final}; "
                                     "travellers of missing parts are not screened")
        for traveller in manifest.travellers:
            traveller.flights = list(manifest.flights)
        if manifest.declared_count is not None and manifest.declared_count != len(manifest.travellers):
            manifest.warnings.append(f"CNT declares {manifest.declared_count} travellers, "
                                     f"the list holds {len(manifest.travellers)}")
        manifests.append(manifest)
    return manifests
