"""Screening travellers: the register through the one screening engine, plus document checks.

Each traveller gets a status and the reasons for it, never an automatic denial:

* ``hit``   strong evidence: a travel document on a listed person's record, a document reported
            lost or stolen, or a listed name together with the same full birth date;
* ``refer`` a human must look: any other match at the threshold, a failed MRZ check digit, a
            document that expires before the flight, or a traveller the message describes too badly
            to screen fully;
* ``clear`` none of these.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field

from followthemoney.types import registry

from jointwatch.identifiers import normalize_identifier
from jointwatch.screening import Match, Query, Screener, match_record
from jointwatch.store import ReportedDocument
from jointwatch.travel.codes import travel_codes
from jointwatch.travel.model import Manifest, Traveller

STATUSES = ("clear", "refer", "hit")
DocumentLookup = Callable[[Iterable[str]], list[ReportedDocument]]


@dataclass(frozen=True)
class Reason:
    """Why a traveller has the status it has."""

    kind: str        # listed_document, name_and_birth_date, lost_stolen_document, listed_name, check_digit,
    #                  unreadable, expired_document
    detail: str


@dataclass
class TravellerResult:
    traveller: Traveller
    status: str
    reasons: list[Reason] = field(default_factory=list)
    matches: list[Match] = field(default_factory=list)
    reported_documents: list[ReportedDocument] = field(default_factory=list)


@dataclass
class ManifestResult:
    manifest: Manifest
    results: list[TravellerResult]
    seconds: float

    def counts(self) -> dict[str, int]:
        return {status: sum(1 for r in self.results if r.status == status) for status in STATUSES}


def country_alpha2(code: str) -> str | None:
    """ISO 3166-1 alpha-2 (lower case) for an alpha-3, alpha-2 or ICAO-only code; None when none applies."""
    code = code.strip().upper()
    if not code:
        return None
    icao: dict[str, str | None] = travel_codes()["icao_countries"]
    if code in icao:
        return icao[code] or None
    return registry.country.clean(code)


def traveller_query(traveller: Traveller, name: str | None = None) -> Query:
    """The screening query for a traveller (or for one of its other names)."""
    countries = {c for c in (country_alpha2(traveller.nationality),
                             *(country_alpha2(d.issuing_country) for d in traveller.documents)) if c}
    return Query(name=name or traveller.name, schema="Person",
                 birth_date=traveller.birth_date.isoformat() if traveller.birth_date else None,
                 countries=tuple(sorted(countries)),
                 gender=traveller.gender if traveller.gender in ("male", "female") else None,
                 id_numbers=tuple(d.number for d in traveller.documents), id=str(traveller.index))


def _same_country(a: str, b: str) -> bool:
    return not a or not b or country_alpha2(a) == country_alpha2(b)


def _matches(screener: Screener, traveller: Traveller, threshold: float | None,
             member_id: int | None) -> list[Match]:
    """Matches for the traveller's name and its other names, best per listed entity."""
    best: dict[str, Match] = {}
    for name in [traveller.name, *traveller.other_names]:
        if not name.strip():
            continue
        for match in screener.screen(traveller_query(traveller, name), threshold=threshold, member_id=member_id):
            if match.entity_id not in best or match.score > best[match.entity_id].score:
                best[match.entity_id] = match
    return sorted(best.values(), key=lambda m: (-m.score, m.source, m.reference))


def _judge(result: TravellerResult) -> None:
    """Set the status from the evidence gathered."""
    traveller, reasons = result.traveller, result.reasons
    for match in result.matches:
        kinds = {(q.kind, q.outcome) for q in match.explanation.qualifiers}
        label = f"{match.source} {match.reference} {match.caption!r} (score {match.score:.2f})"
        if match.shared is not None:  # a partner hit: whose, and what its originator asks before anyone acts
            handling = f", handling: {', '.join(match.shared.handling)}" if match.shared.handling else ""
            label += f" [partner entry of {match.shared.originator}, TLP:{match.shared.tlp.upper()}{handling}]"
        if ("identifier", "match") in kinds:
            reasons.append(Reason("listed_document", f"a document of this traveller is on the record of {label}"))
        elif ("birth_date", "match") in kinds and traveller.birth_date is not None:
            reasons.append(Reason("name_and_birth_date", f"name and birth date match {label}"))
        else:
            reasons.append(Reason("listed_name", f"name matches {label}"))
    for reported in result.reported_documents:
        reasons.append(Reason("lost_stolen_document",
                              f"document {reported.number} ({reported.issuing_country or 'no country'}) reported "
                              f"{reported.status} by {reported.source}"))
    departure = next((f.departure for f in traveller.flights if f.departure), None)
    for document in traveller.documents:
        if departure and document.expiry and document.expiry < departure.date():
            reasons.append(Reason("expired_document", f"{document.type or 'document'} {document.number} expired on "
                                                      f"{document.expiry.isoformat()}, before the flight"))
    for problem in traveller.problems:
        kind = "check_digit" if "check digit" in problem.reason else "unreadable"
        reasons.append(Reason(kind, f"{problem.location}: {problem.reason}"))
    if not traveller.name.strip():
        reasons.append(Reason("unreadable", f"{traveller.location}: no name to screen"))
    strong = {"listed_document", "name_and_birth_date", "lost_stolen_document"}
    result.status = "hit" if any(r.kind in strong for r in reasons) else "refer" if reasons else "clear"


def screen_traveller(traveller: Traveller, screener: Screener, documents: DocumentLookup | None = None,
                     threshold: float | None = None, member_id: int | None = None) -> TravellerResult:
    """One traveller's status, reasons, matches and reported documents."""
    result = TravellerResult(traveller=traveller, status="clear")
    if traveller.name.strip():
        result.matches = _matches(screener, traveller, threshold, member_id)
    if documents is not None and traveller.documents:
        held = {normalize_identifier(d.number): d for d in traveller.documents}
        for reported in documents(held):
            mine = held.get(normalize_identifier(reported.number))
            if mine is not None and _same_country(mine.issuing_country, reported.issuing_country):
                result.reported_documents.append(reported)
    _judge(result)
    return result


def _prefetched(reported: list[ReportedDocument]) -> DocumentLookup:
    by_key: dict[str, list[ReportedDocument]] = {}
    for document in reported:
        by_key.setdefault(normalize_identifier(document.number), []).append(document)
    return lambda numbers: [d for n in numbers for d in by_key.get(normalize_identifier(n), [])]


def screen_manifest(manifest: Manifest, screener: Screener, documents: DocumentLookup | None = None,
                    threshold: float | None = None, member_id: int | None = None) -> ManifestResult:
    """Every traveller of a manifest screened; one traveller's bad data never stops the others."""
    started = time.perf_counter()
    if documents is not None:
        # one lookup for the whole manifest rather than one per traveller
        reported = documents([d.number for t in manifest.travellers for d in t.documents])
        documents = _prefetched(reported)
    results = [screen_traveller(t, screener, documents, threshold, member_id) for t in manifest.travellers]
    return ManifestResult(manifest=manifest, results=results, seconds=time.perf_counter() - started)


def result_record(result: ManifestResult) -> dict[str, object]:
    """A manifest's screening as plain data (the CLI's --json and the API's body)."""
    manifest = result.manifest
    return {
        "source": manifest.source, "format": manifest.format, "kind": manifest.kind,
        "sender": manifest.sender, "reference": manifest.reference, "message_reference": manifest.message_reference,
        "flights": [asdict(f) for f in manifest.flights],
        "counts": result.counts(), "seconds": round(result.seconds, 4),
        "warnings": manifest.warnings, "problems": [asdict(p) for p in manifest.problems],
        "travellers": [{
            "index": r.traveller.index, "location": r.traveller.location, "status": r.status,
            "reasons": [asdict(x) for x in r.reasons],
            "traveller": {k: v for k, v in asdict(r.traveller).items() if k not in ("flights", "problems")},
            "matches": [match_record(m) for m in r.matches],
            "reported_documents": [asdict(d) for d in r.reported_documents],
        } for r in result.results],
    }
