"""PNRGOV (IATA, EDIFACT): the reservations a carrier pushes 48 to 24 hours before departure.

A message is MSG, ORG, the TVL of the flight it is pushed for, EQN (how many PNRs), then one group
per PNR opened by SRC: RCI record locators, TIF travellers (each with SSR DOCS/DOCO/DOCA, TKT …),
and the itinerary's TVL legs. A TIF that follows TRI (check-in details of an itinerary leg) names a
traveller already met, not a new one. The passport data of SSR DOCS is preferred to the booking
name, which is kept as another name and screened too.
"""

from __future__ import annotations

from jointwatch.travel.codes import gender_of, travel_codes
from jointwatch.travel.dates import ddmmmyy, ddmmyy, with_time
from jointwatch.travel.edifact import Interchange, Message, Segment
from jointwatch.travel.model import Document, Flight, Manifest, Problem, Traveller

SSR_TEXT = 8          # the free text of an SSR is its ninth component
GLUED_TITLES = ("MRS", "MSTR", "MISS", "MR")
INFANT_GENDERS = ("MI", "FI")


def strip_title(given: str) -> str:
    """Given names without the honorific bookings add: apart ("NINA MS") or glued on ("JOHNMR").

    A glued MS is left alone: it ends too many real names (WILLIAMS)."""
    words = given.split()
    while len(words) > 1 and words[-1].upper() in travel_codes()["titles"]:
        words.pop()
    for i, word in enumerate(words):
        for title in GLUED_TITLES:
            if word.upper().endswith(title) and len(word) - len(title) >= 2:
                words[i] = word[:-len(title)]
                break
    return " ".join(words)


def parse_tvl(segment: Segment) -> Flight | None:
    """A flight leg from TVL (None for a leg with no airports: an open or surface segment)."""
    departure_airport, arrival_airport = segment.get(1), segment.get(2)
    if not (departure_airport and arrival_airport):
        return None
    carrier, operating = segment.get(3, 0), segment.get(3, 1)
    departure = arrival = None
    if segment.get(0, 0):
        day = ddmmyy(segment.get(0, 0))
        departure = with_time(day, segment.get(0, 1))
        third, fourth = segment.get(0, 2), segment.get(0, 3)
        if len(third) == 4 and not fourth:      # date:time:arrival time, same day
            third, fourth = "", third
        arrival_day = ddmmyy(third) if third else day
        arrival = with_time(arrival_day, fourth) if fourth else None
    return Flight(carrier=carrier, number=segment.get(4, 0), departure_airport=departure_airport,
                  arrival_airport=arrival_airport, departure=departure, arrival=arrival,
                  operating_carrier=operating if operating != carrier else "")


def _docs_fields(text: str) -> list[str]:
    """SSR DOCS: /type/issuer/number/nationality/birth/gender/expiry/surname/given/middle."""
    fields = (text[1:] if text.startswith("/") else text).split("/") + [""] * 10
    return [f.strip() for f in fields[:10]]


def _docs_gender(text: str) -> str:
    return _docs_fields(text)[5].upper()


def _docs(traveller: Traveller, text: str) -> None:
    """Apply SSR DOCS: passport data, preferred to the booking's name."""
    doc_type, issuer, number, nationality, birth, gender, expiry, surname, given, middle = _docs_fields(text)
    if birth:
        traveller.birth_date = ddmmmyy(birth, "birth")
    if gender:
        traveller.gender = gender_of(gender)
        if gender.upper() in ("MI", "FI"):
            traveller.role = "infant"
    traveller.nationality = nationality or traveller.nationality
    if surname:
        booked = traveller.name
        traveller.surname = surname
        traveller.given_names = strip_title(" ".join(p for p in (given, middle) if p))
        renamed = booked.replace(" ", "") != traveller.name.replace(" ", "")
        if booked and renamed and booked not in traveller.other_names:
            traveller.other_names.append(booked)
    if number:
        _add_document(traveller, Document(number=number, type=doc_type, issuing_country=issuer,
                                          expiry=ddmmmyy(expiry, "expiry") if expiry else None))


def _doco(traveller: Traveller, text: str) -> None:
    """SSR DOCO: birth place/type/number/place of issue/issue date/country where valid."""
    fields = (text[1:] if text.startswith("/") else text).split("/") + [""] * 6
    birth_place, doc_type, number, _place, issued, country = (f.strip() for f in fields[:6])
    traveller.birth_place = birth_place or traveller.birth_place
    if number:
        _add_document(traveller, Document(number=number, type=doc_type, issuing_country=country,
                                          issued=ddmmmyy(issued, "birth") if issued else None))


def _doca(traveller: Traveller, text: str) -> None:
    """SSR DOCA: R (residence) or D (destination)/country/address…; the residence country is kept."""
    fields = (text[1:] if text.startswith("/") else text).split("/") + ["", ""]
    if fields[0].strip().upper() == "R" and fields[1].strip():
        traveller.residence = fields[1].strip()


def _add_document(traveller: Traveller, document: Document) -> None:
    if all(d.number != document.number or d.type != document.type for d in traveller.documents):
        traveller.documents.append(document)


def _same_infant(infant: Traveller, surname: str, given: str) -> bool:
    """The same infant named twice: same surname, and one's given names begin the other's (SOPHY / SOPHY OLIVIA)."""
    if infant.surname.replace(" ", "").upper() != surname.replace(" ", "").upper():
        return False
    a, b = infant.given_names.upper().split(), given.upper().split()
    shorter, longer = sorted((a, b), key=len)
    return longer[:len(shorter)] == shorter


class _PnrReader:
    """Reads the groups of one PNR into travellers."""

    def __init__(self, manifest: Manifest, header_flights: list[Flight], src: Segment) -> None:
        self.manifest = manifest
        self.header_flights = header_flights
        self.src = src
        self.travellers: list[Traveller] = []
        self.by_ref: dict[str, Traveller] = {}
        self.current: Traveller | None = None
        self.flights: list[Flight] = []
        self.locators: dict[str, str] = {}
        self.after_tri = False
        self.history = False        # after ABI: the PNR's change history, whose legs are not travelled

    def read(self, segment: Segment) -> None:
        tag = segment.tag
        if tag == "RCI" and not self.locators:
            for element in segment.elements:
                if len(element) > 1 and element[1].strip():
                    self.locators.setdefault(element[0].strip(), element[1].strip())
        elif tag == "TRI":
            self.after_tri = True
        elif tag == "ABI":
            self.history = True
        elif tag == "TIF":
            self._tif(segment)
        elif tag == "TVL" and not self.history:
            self.after_tri = False
            flight = parse_tvl(segment)
            if flight and flight.key() not in {f.key() for f in self.flights}:
                self.flights.append(flight)
        elif tag == "SSR":
            self._ssr(segment)
        elif tag == "TKT" and self.current is not None and segment.get(0):
            self.current.references.setdefault("TKT", segment.get(0))

    def _infant(self, surname: str, given: str, segment: Segment) -> Traveller:
        """The infant of this PNR by that name, met before or new."""
        for traveller in self.travellers:
            if traveller.role == "infant" and _same_infant(traveller, surname, given):
                return traveller
        infant = Traveller(index=0, location=segment.where, surname=surname, given_names=given, role="infant")
        self.travellers.append(infant)
        return infant

    def _tif(self, segment: Segment) -> None:
        surname, given = segment.get(0), strip_title(segment.get(1))
        ref = segment.get(1, 2)
        known = self.by_ref.get(ref) if ref else None
        if segment.get(1, 1).upper() in ("IN", "INF") and not self.after_tri:
            infant = self._infant(surname, given, segment)
            if ref:
                self.by_ref[ref] = infant
            return
        if self.after_tri or known is not None:
            self.current = known or self.current
            return
        traveller = Traveller(index=0, location=segment.where, surname=surname, given_names=given)
        if not surname:
            traveller.problems.append(Problem(segment.where, "no traveller name"))
        self.travellers.append(traveller)
        if ref:
            self.by_ref[ref] = traveller
        self.current = traveller

    def _ssr(self, segment: Segment) -> None:
        code = segment.get(0, 0).upper()
        readers = {"DOCS": _docs, "DOCO": _doco, "DOCA": _doca}
        if code not in readers:
            return
        ref = segment.get(1, 2)
        traveller = (self.by_ref.get(ref) if ref else None) or self.current
        text = segment.get(0, SSR_TEXT)
        if code == "DOCS" and _docs_gender(text) in INFANT_GENDERS and traveller and traveller.role != "infant":
            # the infant on an adult's lap has its passport data in the adult's group
            fields = _docs_fields(text)
            traveller = self._infant(fields[7], strip_title(" ".join(p for p in fields[8:10] if p)), segment)
        if traveller is None:
            self.manifest.problems.append(Problem(segment.where, f"SSR {code} before any traveller"))
            return
        try:
            readers[code](traveller, text)
        except ValueError as exc:
            traveller.problems.append(Problem(segment.where, f"SSR {code}: {exc}"))

    def finish(self) -> None:
        locator = next(iter(self.locators.values()), "")
        detailed = {f.key(): f for f in self.flights}      # the itinerary's mention has the arrival
        known = {f.key() for f in self.header_flights}
        flights = [detailed.get(f.key(), f) for f in self.header_flights] + \
            [f for f in self.flights if f.key() not in known]
        for traveller in self.travellers:
            traveller.index = len(self.manifest.travellers) + 1
            traveller.flights = flights
            if locator:
                traveller.references.setdefault("PNR", locator)
            self.manifest.travellers.append(traveller)


def parse_pnrgov_message(message: Message, manifest: Manifest) -> None:
    """Add one PNRGOV message's flight and the travellers of its PNRs to ``manifest``."""
    header_flights: list[Flight] = []
    reader: _PnrReader | None = None
    for segment in message.segments:
        try:
            if segment.tag == "SRC":
                if reader:
                    reader.finish()
                reader = _PnrReader(manifest, header_flights, segment)
            elif reader is not None:
                reader.read(segment)
            elif segment.tag == "TVL" and (flight := parse_tvl(segment)):
                header_flights.append(flight)
                manifest.flights.append(flight)
            elif segment.tag == "EQN" and segment.get(0).isdigit():
                manifest.declared_count = (manifest.declared_count or 0) + int(segment.get(0))
        except ValueError as exc:
            manifest.problems.append(Problem(segment.where, str(exc)))
    if reader:
        reader.finish()


def parse_pnrgov(interchange: Interchange, source: str) -> list[Manifest]:
    """One manifest of reservations per interchange (EQN counts PNRs, not travellers)."""
    manifest = Manifest(source=source, format="pnrgov", kind="reservations", sender=interchange.sender,
                        recipient=interchange.recipient, reference=interchange.reference,
                        message_reference=interchange.messages[0].reference, warnings=list(interchange.warnings))
    pnrs = 0
    for message in interchange.messages:
        pnrs += sum(1 for s in message.segments if s.tag == "SRC")
        parse_pnrgov_message(message, manifest)
    if manifest.declared_count is not None and manifest.declared_count != pnrs:
        manifest.warnings.append(f"EQN declares {manifest.declared_count} PNRs, the message holds {pnrs}")
    return [manifest]
