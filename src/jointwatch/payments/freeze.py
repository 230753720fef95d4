"""The freeze register's legal basis and exports.

A freeze names the listing it rests on; its regime is taken from the listing itself where
the list says it (OFAC's programme, e.g. SDGT; the UN's list type, e.g. Al-Qaida), so the
totals by regime agree with the lists.
"""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

from sqlalchemy import Engine

from jointwatch import csvsafe
from jointwatch.errors import InvalidInputError
from jointwatch.jsonout import dumps
from jointwatch.store import FrozenAsset, freeze_asset, listing_regimes
from jointwatch.text import storable


def export_json(assets: list[FrozenAsset]) -> str:
    """Every asset with its history, as JSON (amounts as exact strings: ``jointwatch.jsonout``)."""
    return dumps(assets, indent=2)


def export_csv(assets: list[FrozenAsset]) -> str:
    """One row per asset, with its last status change's reason and licence (formulas neutralised)."""
    out = io.StringIO()
    writer = csvsafe.writer(out)
    writer.writerow(FrozenAsset.CSV_COLUMNS)
    writer.writerows(a.to_csv_row() for a in assets)
    return out.getvalue()


def freeze_listed_asset(engine: Engine, *, holder: str, account: str, institution: str, amount: Decimal,
                        currency: str, source: str, reference: str, country: str, reason: str,
                        regime: str | None = None, frozen_on: date | None = None, member_id: int | None = None,
                        customer_ref: str | None = None, by_user: str | None = None) -> FrozenAsset:
    """Enter a frozen asset in the member's register (None: the store's own ``local`` member) on
    the legal basis of a listing that is on the register (NotFoundError if it is not, whether or
    not the regime is given); the regime is the listing's programme unless given (InvalidInputError when
    the list names none)."""
    for name, value in (("source", source), ("reference", reference)):
        storable(name, value)
    # the listing is looked up first, always: a given regime names the programme, it does not
    # stand in for the legal basis
    programmes = listing_regimes(engine, source, reference)
    chosen = regime or ", ".join(programmes)
    if not chosen:
        raise InvalidInputError(f"{source} {reference} names no programme: give the regime")
    return freeze_asset(engine, holder=holder, account=account, institution=institution, amount=amount,
                        currency=currency, frozen_on=frozen_on or date.today(), source=source,
                        reference=reference, regime=chosen, country=country, reason=reason, member_id=member_id,
                        customer_ref=customer_ref, by_user=by_user)
