"""The freeze register's legal basis and exports.

A freeze names the listing it rests on; its regime is taken from the listing itself where
the list says it (OFAC's programme, e.g. SDGT; the UN's list type, e.g. Al-Qaida), so the
totals by regime agree with the lists.
"""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

from sqlalchemy import Engine, select

from jointwatch import csvsafe
from jointwatch.errors import NotFoundError, QueryError
from jointwatch.jsonout import dumps
from jointwatch.store.freeze import FrozenAsset, freeze_asset
from jointwatch.store.schema import statements
from jointwatch.text import storable

EXPORT_COLUMNS = ("id", "member_id", "holder", "customer_ref", "account", "institution", "amount", "frozen_amount",
                  "currency", "frozen_on", "list_source", "reference", "regime", "country", "status")


def listing_regimes(engine: Engine, source: str, reference: str) -> list[str]:
    """The sanction programmes the list gives for a listing; NotFoundError if it is not listed."""
    with engine.connect() as connection:
        rows = list(connection.execute(select(statements.c.schema, statements.c.prop, statements.c.value).where(
            statements.c.source == source, statements.c.reference == reference)))
    if not rows:
        raise NotFoundError(f"{source} has no listing {reference!r}: a freeze needs a listing on the register")
    return sorted({r.value for r in rows if r.schema == "Sanction" and r.prop == "program"})


def export_json(assets: list[FrozenAsset]) -> str:
    """Every asset with its history, as JSON (amounts as exact strings: ``jointwatch.jsonout``)."""
    return dumps(assets, indent=2)


def export_csv(assets: list[FrozenAsset]) -> str:
    """One row per asset, with its last status change's reason and licence (formulas neutralised)."""
    out = io.StringIO()
    writer = csvsafe.writer(out)
    writer.writerow([*EXPORT_COLUMNS, "last_reason", "last_licence", "last_change"])
    for a in assets:
        last = a.history[-1] if a.history else None
        writer.writerow([getattr(a, c) if getattr(a, c) is not None else "" for c in EXPORT_COLUMNS]
                        + [last.reason if last else "", (last.licence or "") if last else "",
                           last.at.isoformat() if last else ""])
    return out.getvalue()


def freeze_listed_asset(engine: Engine, *, holder: str, account: str, institution: str, amount: Decimal,
                        currency: str, list_source: str, reference: str, country: str, reason: str,
                        regime: str | None = None, frozen_on: date | None = None, member_id: int | None = None,
                        customer_ref: str | None = None, by_user: str | None = None) -> FrozenAsset:
    """Enter a frozen asset on the legal basis of a listing that is on the register (NotFoundError
    if it is not, whether or not the regime is given); the regime is the listing's programme
    unless given (QueryError when the list names none)."""
    for name, value in (("list", list_source), ("reference", reference)):
        storable(name, value)
    # the listing is looked up first, always: a given regime names the programme, it does not
    # stand in for the legal basis
    programmes = listing_regimes(engine, list_source, reference)
    chosen = regime or ", ".join(programmes)
    if not chosen:
        raise QueryError(f"{list_source} {reference} names no programme: give the regime")
    return freeze_asset(engine, holder=holder, account=account, institution=institution, amount=amount,
                        currency=currency, frozen_on=frozen_on or date.today(), list_source=list_source,
                        reference=reference, regime=chosen, country=country, reason=reason, member_id=member_id,
                        customer_ref=customer_ref, by_user=by_user)
