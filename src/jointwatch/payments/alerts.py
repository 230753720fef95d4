"""Held payments into the alerts queue: one alert per hit of a held payment, for the member it
was screened for, so an analyst works the payment's hits where the customer alerts are.

An alert's subject is what the message said (the party's name, the BIC, the account, the words
of the remittance text); its reference is the payment's UETR, else its message id and
end-to-end reference. A name hit's subject key is the party's name read as the engine read
a bare name (``read_party``), without a birth date: a message's birth date is rare, and when
one was given, a false positive decided here may not suppress the next payment's hit.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from sqlalchemy import Engine

from jointwatch.payments.model import UnreadMessage
from jointwatch.payments.parties import read_party
from jointwatch.payments.screening import Hit, PaymentDecision
from jointwatch.screening import Query
from jointwatch.store import Alert, NewAlert, file_alerts

_AGENTS = ("debtor_agent", "creditor_agent", "intermediary_agent", "instructing_agent", "instructed_agent")


def payment_ref(decision: PaymentDecision) -> str:
    """How an analyst finds the payment again: its UETR, else message id and end-to-end reference."""
    if decision.uetr:
        return decision.uetr
    return f"{decision.message_id}/{decision.reference}" if decision.message_id else decision.reference


def _subject_key(hit: Hit) -> str | None:
    if hit.kind not in ("name", "remittance"):
        return None     # a listed BIC or account is suppressed by no decision: it is the listing itself
    schema = "Organization" if hit.role in _AGENTS else "LegalEntity"
    read = read_party(hit.value, schema)
    return Query(name=read.name, schema="Person" if read.schema == "LegalEntity" else read.schema).identity()


def payment_alerts(decision: PaymentDecision) -> list[NewAlert]:
    """The alerts a held payment opens: one per hit (none for a payment that passed)."""
    if decision.decision != "hold":
        return []
    ref = payment_ref(decision)
    return [NewAlert(origin="payment", origin_ref=ref[:255], subject=hit.value, entity_id=hit.entity_id,
                     source=hit.source, reference=hit.reference, caption=hit.caption, listed_name=hit.listed,
                     kind=hit.kind, score=hit.score, list_version=hit.list_version, subject_key=_subject_key(hit),
                     explanation=json.dumps(hit.explanation, ensure_ascii=False) if hit.explanation else None,
                     originator=hit.shared.originator if hit.shared else None,
                     tlp=hit.shared.tlp if hit.shared else None,
                     handling=hit.shared.handling if hit.shared else ())
            for hit in decision.hits]


def file_payment_alerts(engine: Engine, member_id: int,
                        results: Iterable[PaymentDecision | UnreadMessage]) -> list[Alert]:
    """File the alerts of every held payment among ``results`` for the member; the new alerts."""
    found = [a for r in results if isinstance(r, PaymentDecision) for a in payment_alerts(r)]
    return file_alerts(engine, member_id, found)
