"""The answer to the carrier: a CUSRES message with one board / refer directive per traveller.

Sender and recipient are the PAXLST's swapped; the original message is quoted (RFF+TN), and each
traveller is identified by name, birth date and document so the departure-control system can match
the directive to its passenger. A refer never tells the carrier why: reasons stay with the government.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from string import ascii_uppercase, digits

from pydifact.control.characters import Characters
from pydifact.segments import Segment
from pydifact.serializer import Serializer

from jointwatch.travel.codes import travel_codes
from jointwatch.travel.screen import ManifestResult

DIGITS36 = digits + ascii_uppercase


def board_directive(status: str) -> tuple[str, str]:
    """The (code, text) the carrier gets for a traveller of this status."""
    directive = travel_codes()["directives"][status]
    return directive["code"], directive["text"]


def carrier_reply(results: list[ManifestResult]) -> str | None:
    """The CUSRES answers to the passenger lists among ``results``, one interchange each (reservations
    get none: PNRGOV is a push with no boarding decision in it); None when there is no passenger list."""
    now = datetime.now(UTC)
    lists = [r for r in results if r.manifest.format == "paxlst"]
    return "".join(cusres_reply(r, now, sequence) for sequence, r in enumerate(lists)) or None


def _control_reference(now: datetime, sequence: int) -> str:
    """A control reference unique among the interchanges of one reply: the time to the second and
    two base-36 digits of the sequence (14 characters, ISO 9735's an..14)."""
    when = now + timedelta(seconds=sequence // 36 ** 2)
    low, high = sequence % 36, sequence // 36 % 36
    return when.strftime("%y%m%d%H%M%S") + DIGITS36[high] + DIGITS36[low]


def cusres_reply(result: ManifestResult, now: datetime | None = None, sequence: int = 0) -> str:
    """The CUSRES text answering a manifest (``sequence``: its place among the answers sent together)."""
    now = now or datetime.now(UTC)
    manifest = result.manifest
    reference = _control_reference(now, sequence)
    segments = [
        Segment("UNB", ["UNOA", "4"], manifest.recipient or "JOINTWATCH", manifest.sender or "CARRIER",
                [now.strftime("%y%m%d"), now.strftime("%H%M")], reference),
        Segment("UNH", "1", ["CUSRES", "D", "05B", "UN", "IATA"]),
        Segment("BGM", "962"),
        Segment("RFF", ["TN", manifest.message_reference or manifest.reference or "UNKNOWN"]),
    ]
    for flight in manifest.flights[:1]:
        segments.append(Segment("TDT", "20", f"{flight.carrier}{flight.number}"))
    for item in result.results:
        traveller = item.traveller
        code, text = board_directive(item.status)
        segments.append(Segment("ERP", "2"))
        segments.append(Segment("RFF", ["AVF", traveller.references.get("AVF") or traveller.references.get("PNR", "")]))
        segments.append(Segment("NAD", "FL" if traveller.role != "crew" else "FM", "", "",
                                [traveller.surname, traveller.given_names]))
        if traveller.birth_date:
            segments.append(Segment("DTM", ["329", traveller.birth_date.strftime("%y%m%d")]))
        for document in traveller.documents[:1]:
            segments.append(Segment("DOC", document.type or "P", document.number))
        segments.append(Segment("ERC", code))
        segments.append(Segment("FTX", "AAP", "", "", text))
    segments.append(Segment("UNT", str(len(segments)), "1"))   # UNH … UNT: all but UNB, with UNT
    segments.append(Segment("UNZ", "1", reference))
    return Serializer(Characters()).serialize(segments, with_una_header=True, break_lines=True)
