"""The freeze register: assets frozen under a listing, and every change of their status.

An asset is frozen with its legal basis (the list and the listing's reference, e.g. UN
QDi.354 or OFAC SDGT 17293). Releases follow: partly under a licence, or in full; each is an
event with a reason, appended and never edited, and the asset's status and frozen amount
are always what its events add up to. Totals are by source, regime, country and member.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import ClassVar

import pycountry
from sqlalchemy import Engine, insert, select, update

from jointwatch.errors import ConflictError, InvalidInputError, NotFoundError
from jointwatch.sources import country_code
from jointwatch.store.engine import inserted_id
from jointwatch.store.members import member_or_local
from jointwatch.store.schema import freeze_events, frozen_assets, statements
from jointwatch.text import storable

FROZEN, PARTIAL, RELEASED = "frozen", "partially_released", "released"
STATUSES = (FROZEN, PARTIAL, RELEASED)


@dataclass(frozen=True)
class FreezeEvent:
    """One change of a frozen asset's status, as the register keeps it and every front end shows it."""

    status: str
    amount: Decimal          # the amount this event froze or released
    reason: str
    licence: str | None
    by_user: str | None
    at: datetime


@dataclass
class FrozenAsset:
    """A frozen asset with its history: the one record the register, the CLI's JSON, the API's
    responses (FastAPI builds the response schema from this class) and the exports are made of."""

    id: int
    member_id: int
    holder: str
    customer_ref: str | None
    account: str
    institution: str
    amount: Decimal           # as first frozen
    frozen_amount: Decimal    # still frozen
    currency: str
    frozen_on: date
    source: str
    reference: str
    regime: str
    country: str
    status: str
    created_at: datetime
    history: list[FreezeEvent] = field(default_factory=list)

    # the CSV export: every field but the history, then the last change's reason, licence and time
    CSV_COLUMNS: ClassVar[tuple[str, ...]] = (
        "id", "member_id", "holder", "customer_ref", "account", "institution", "amount", "frozen_amount", "currency",
        "frozen_on", "source", "reference", "regime", "country", "status", "last_reason", "last_licence",
        "last_change")

    def to_csv_row(self) -> list[object]:
        """The asset as a row under ``CSV_COLUMNS`` (None as empty; formulas are the writer's to neutralise)."""
        last = self.history[-1] if self.history else None
        fields = [getattr(self, c) for c in self.CSV_COLUMNS[:-3]]
        return [("" if v is None else v) for v in fields] + (
            [last.reason, last.licence or "", last.at.isoformat()] if last else ["", "", ""])


def listing_regimes(engine: Engine, source: str, reference: str) -> list[str]:
    """The sanction programmes the list gives for a listing (any version), the legal basis a
    freeze rests on; NotFoundError if the store holds no such listing."""
    with engine.connect() as connection:
        rows = list(connection.execute(select(statements.c.schema, statements.c.prop, statements.c.value).where(
            statements.c.source == source, statements.c.reference == reference)))
    if not rows:
        raise NotFoundError(f"{source} has no listing {reference!r}: a freeze needs a listing on the register")
    return sorted({r.value for r in rows if r.schema == "Sanction" and r.prop == "program"})


def _cents(value: object) -> Decimal:
    """An amount as stored, to the cent: SQLite's double read at four places carries noise past the cent."""
    return Decimal(str(value)).quantize(CENT)


def _asset(row, history: list[FreezeEvent]) -> FrozenAsset:  # type: ignore[no-untyped-def]
    return FrozenAsset(row.id, row.member_id, row.holder, row.customer_ref, row.account, row.institution,
                       _cents(row.amount), _cents(row.frozen_amount), row.currency, row.frozen_on,
                       row.source, row.reference, row.regime, row.country, row.status, row.created_at, history)


# Amounts are kept to the cent and under ten trillion: on SQLite a NUMERIC column holds a
# double, exact to 15 significant digits, so every such amount (and every difference a release
# leaves) is stored and read back exactly; larger or finer amounts would be silently rounded.
MAX_AMOUNT = Decimal("9999999999999.99")
CENT = Decimal("0.01")


def _exact_amount(amount: Decimal) -> None:
    """Refuse an amount the register could not keep exactly (InvalidInputError)."""
    if not amount.is_finite() or amount <= 0:
        raise InvalidInputError(f"amount {amount} is not positive")
    if amount > MAX_AMOUNT:
        raise InvalidInputError(f"amount {amount} is over the register's largest, {MAX_AMOUNT:,}")
    if amount != amount.quantize(CENT):
        raise InvalidInputError(f"amount {amount} has more than two decimal places (the register keeps cents)")


def freeze_asset(engine: Engine, *, holder: str, account: str, institution: str, amount: Decimal, currency: str,
                 frozen_on: date, source: str, reference: str, regime: str, country: str, reason: str,
                 member_id: int | None = None, customer_ref: str | None = None,
                 by_user: str | None = None) -> FrozenAsset:
    """Enter a frozen asset in the member's register with its first event (member None: the
    store's own ``local`` member)."""
    for name, value in (("holder", holder), ("account", account), ("institution", institution),
                        ("source", source), ("reference", reference), ("regime", regime), ("reason", reason)):
        if not value or not value.strip():
            raise InvalidInputError(f"{name} is empty")
        storable(name, value)
    if customer_ref is not None:
        storable("customer", customer_ref)
    _exact_amount(amount)
    if len(currency) != 3 or pycountry.currencies.get(alpha_3=currency.upper()) is None:
        raise InvalidInputError("currency is not an ISO 4217 code")
    # an unknown code would be entered and counted in the totals by country as if it were one
    if len(country) != 2 or country_code(country) != country.lower() or country.lower() == "zz":
        raise InvalidInputError("country is not an ISO 3166 alpha-2 code")
    member_id = member_or_local(engine, member_id)
    now = datetime.now(UTC)
    with engine.begin() as connection:
        asset_id = (inserted_id(connection.execute(insert(frozen_assets).values(
            member_id=member_id, holder=holder.strip(), customer_ref=customer_ref, account=account.strip(),
            institution=institution.strip(), amount=amount, frozen_amount=amount, currency=currency.upper(),
            frozen_on=frozen_on, source=source.strip(), reference=reference.strip(),
            regime=regime.strip(), country=country.upper(), status=FROZEN, created_at=now))))
        connection.execute(insert(freeze_events).values(asset_id=asset_id, status=FROZEN, amount=amount,
                                                        reason=reason.strip(), licence=None, by_user=by_user, at=now))
    return get_asset(engine, asset_id, member_id)


def release_asset(engine: Engine, asset_id: int, reason: str, amount: Decimal | None = None,
                  licence: str | None = None, member_id: int | None = None,
                  by_user: str | None = None) -> FrozenAsset:
    """Release part of one of the member's frozen assets under a licence, or all of it
    (``amount`` None); member None: the store's own ``local`` member."""
    if not reason.strip():
        raise InvalidInputError("a release needs a reason")
    storable("reason", reason)
    if licence is not None:
        storable("licence", licence)
    member_id = member_or_local(engine, member_id)
    asset = get_asset(engine, asset_id, member_id)
    if asset.status == RELEASED:
        raise ConflictError(f"frozen asset {asset_id} is already released")
    if amount is not None:
        _exact_amount(amount)
    released = asset.frozen_amount if amount is None else amount
    if released <= 0 or released > asset.frozen_amount:
        raise InvalidInputError(f"cannot release {released} {asset.currency}: {asset.frozen_amount} is frozen")
    remaining = asset.frozen_amount - released
    if remaining > 0 and not (licence and licence.strip()):
        raise InvalidInputError("a partial release needs the licence it is made under")
    status = RELEASED if remaining == 0 else PARTIAL
    now = datetime.now(UTC)
    with engine.begin() as connection:
        connection.execute(update(frozen_assets).where(frozen_assets.c.id == asset_id).values(
            frozen_amount=remaining, status=status))
        connection.execute(insert(freeze_events).values(asset_id=asset_id, status=status, amount=released,
                                                        reason=reason.strip(), licence=licence, by_user=by_user,
                                                        at=now))
    return get_asset(engine, asset_id, member_id)


def _history(engine: Engine, ids: list[int]) -> dict[int, list[FreezeEvent]]:
    out: dict[int, list[FreezeEvent]] = defaultdict(list)
    if not ids:
        return out
    with engine.connect() as connection:
        for start in range(0, len(ids), 500):
            for r in connection.execute(select(freeze_events).where(
                    freeze_events.c.asset_id.in_(ids[start:start + 500])).order_by(freeze_events.c.id)):
                out[r.asset_id].append(FreezeEvent(r.status, _cents(r.amount), r.reason, r.licence, r.by_user, r.at))
    return out


def get_asset(engine: Engine, asset_id: int, member_id: int | None = None) -> FrozenAsset:
    """One of the member's assets with its history (member None: the store's own ``local``
    member); NotFoundError for another member's, as for one that does not exist."""
    query = select(frozen_assets).where(frozen_assets.c.id == asset_id,
                                        frozen_assets.c.member_id == member_or_local(engine, member_id))
    with engine.connect() as connection:
        row = connection.execute(query).first()
    if row is None:
        raise NotFoundError(f"no frozen asset {asset_id}")
    return _asset(row, _history(engine, [asset_id])[asset_id])


def list_assets(engine: Engine, member_id: int | None = None, status: str | None = None,
                source: str | None = None, *, after: int | None = None,
                limit: int | None = None, with_history: bool = True) -> list[FrozenAsset]:
    """The member's assets (member None: the store's own ``local`` member), by status and source,
    in the order they were entered; a page of ``limit`` after the asset numbered ``after`` (by key,
    so a late page costs what the first does). ``with_history`` False leaves each history empty:
    totals need only the amounts, and reading every event of a large register is most of its cost."""
    query = (select(frozen_assets).where(frozen_assets.c.member_id == member_or_local(engine, member_id))
             .order_by(frozen_assets.c.id))
    if status:
        query = query.where(frozen_assets.c.status == status)
    if source:
        query = query.where(frozen_assets.c.source == source)
    if after is not None:
        query = query.where(frozen_assets.c.id > after)
    if limit is not None:
        query = query.limit(limit)
    with engine.connect() as connection:
        rows = list(connection.execute(query))
    history = _history(engine, [r.id for r in rows]) if with_history else defaultdict(list)
    return [_asset(r, history[r.id]) for r in rows]


def totals(assets: list[FrozenAsset], by: str) -> dict[tuple[str, str], Decimal]:
    """Still-frozen amounts by (``by`` value, currency); ``by`` is source, regime, country or member."""
    attribute = "member_id" if by == "member" else by
    out: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for a in assets:
        if a.frozen_amount > 0:
            out[(str(getattr(a, attribute)), a.currency)] += a.frozen_amount
    return dict(sorted(out.items()))
