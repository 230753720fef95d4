"""`jointwatch payments …`, `customers …`, `freeze …`: payments, customer files and frozen assets."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.text import Text

from jointwatch.cli.consoles import DataTable, print_message
from jointwatch.cli.output import (
    Commands,
    DbOption,
    JsonOption,
    MemberOption,
    console,
    handles_errors,
    member_for,
    print_json,
    reading_member_id,
    record_progress,
)
from jointwatch.cli.screening_options import (
    MaxListAgeOption,
    ScreeningEngine,
    ScreeningEngineOption,
    ScreeningSparkMasterOption,
    StaleListsOption,
    screener_for,
    spark_screening,
)
from jointwatch.errors import ATTENTION_EXIT, InvalidInputError, MessageFormatError, most_serious_exit
from jointwatch.payments import (
    CustomerRun,
    PartnerEntries,
    PaymentDecision,
    PaymentScreener,
    UnreadMessage,
    export_csv,
    export_json,
    file_payment_alerts,
    freeze_listed_asset,
    read_files,
    rescreen_delta,
    rescreen_full,
    screen_customer_file,
    screen_parallel,
    worker_pool,
)
from jointwatch.screening import DEFAULT_MAX_LIST_AGE_DAYS, OnStale, Screener, SparkScreening
from jointwatch.sharing import partner_entries
from jointwatch.store import LOCAL_MEMBER, Engine, list_assets, open_engine, release_asset, totals

payments_app = typer.Typer(help="Screen payment messages (pacs.008, pain.001, MT103).", no_args_is_help=True)
customers_app = typer.Typer(help="Screen customer files; re-screen them when a list changes.", no_args_is_help=True)
freeze_app = typer.Typer(help="The register of frozen assets.", no_args_is_help=True)


@payments_app.command("screen")
@handles_errors
def payments_screen(
    files: Annotated[list[Path], typer.Argument(help="Payment files: ISO 20022 XML or SWIFT MT103.")],
    threshold: Annotated[float | None, typer.Option("--threshold", "-t", min=0.0, max=1.0,
                                                    help="Name score that holds a payment.")] = None,
    no_remittance: Annotated[bool, typer.Option("--no-remittance", help="Do not scan remittance text.")] = False,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Processes screening the distinct party names.")] = 1,
    max_list_age: MaxListAgeOption = DEFAULT_MAX_LIST_AGE_DAYS,
    stale_lists: StaleListsOption = OnStale.refuse,
    member: MemberOption = LOCAL_MEMBER,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Screen every message: pass or hold, with the hits (the member's false-positive decisions apply).

    Exit 0 if all pass, 8 if any is held, 7 if a message could not be read (even when
    another is held: the unread one was not screened), 9 if no current list is loaded."""
    engine = open_engine(db)
    member_id = reading_member_id(engine, member)
    screener = PaymentScreener(screener_for(engine, threshold, max_list_age, stale_lists),
                               member_id=member_id, remittance=not no_remittance)
    with worker_pool(screener, workers, after_fork=lambda: engine.dispose(close=False)) as pool:
        results: list[PaymentDecision | UnreadMessage] = list(screen_parallel(screener, read_files(files), pool))
    # a held payment's hits go to the member's alerts queue (`jointwatch alerts list`)
    filed = file_payment_alerts(engine, member_for(engine, member).id, results) if screener.totals.held else []
    if as_json:
        print_json({"totals": screener.totals,
                    "results": [r.to_dict() if isinstance(r, PaymentDecision) else
                                {"error": str(r), **r.__dict__} for r in results]})
    else:
        table = DataTable(title="Payments")
        for column in ("#", "file", "reference", "amount", "decision", "why"):
            table.add_column(column, overflow="fold")
        for r in results:
            if isinstance(r, UnreadMessage):
                table.add_row(str(r.position), Path(r.path).name, r.reference or "", "", Text("error", style="red"),
                              f"{r.field}: {r.reason}")
            else:
                why = "; ".join(h.reason for h in r.hits)
                mark = Text("hold", style="bold red") if r.decision == "hold" else "pass"
                table.add_row(str(r.position), Path(r.file).name, r.reference, f"{r.amount} {r.currency}", mark, why)
        console.print(table)
        t = screener.totals
        console.print(f"{t.messages} messages: {t.passed} pass, {t.held} held, {t.errors} unreadable")
        if filed:
            console.print(f"{len(filed)} alerts filed: jointwatch alerts list --origin payment")
    # an unreadable message is never hidden behind an 8 ("all screened, a person must look")
    raise typer.Exit(most_serious_exit([ATTENTION_EXIT if screener.totals.held else 0,
                                        MessageFormatError.exit_code if screener.totals.errors else 0]))


def _print_run(result: CustomerRun, as_json: bool) -> None:
    if as_json:
        print_json(result.to_dict())
        return
    r = result.run
    console.print(f"{r.kind} run {r.id}: {r.screened:,} of {r.customers:,} customers screened in {r.seconds:.1f} s; "
                  f"{r.new_alerts} new alerts, {r.withdrawn_alerts} withdrawn, {result.open_alerts} open")
    for e in result.errors:
        print_message("[yellow]skipped[/]", e.error)
    if result.new_alerts:
        table = DataTable(title="New alerts")
        for column in ("customer", "score", "source", "reference", "listed", "list version", "originator, handling"):
            table.add_column(column, overflow="fold")
        for a in result.new_alerts:
            # a partner entry's alert says whose entry it is and what its originator asks before anyone acts
            whose = f"{a.originator} (TLP:{(a.tlp or '').upper()}{''.join(', ' + h for h in a.handling)})" \
                if a.originator else ""
            table.add_row(a.customer_ref, f"{a.score:.3f}", a.source, a.reference, a.listed_name, a.list_version,
                          whose)
        console.print(table)


# a customer run: (engine, screener, member id, progress, the screener's partner entries, Spark or None) -> the run
CustomerAction = Callable[[Engine, Screener, int, Callable[[int, int], None], PartnerEntries | None,
                           SparkScreening | None], CustomerRun]


def _customer_run(label: str, action: CustomerAction, member: str, db: str | None, as_json: bool,
                  max_list_age: float, stale_lists: OnStale, engine_name: ScreeningEngine = ScreeningEngine.local,
                  spark_master: str | None = None) -> None:
    """Run ``action`` as the member, with the newest lists (failing closed), and print the run."""
    engine = open_engine(db)
    acting = member_for(engine, member)
    screener = screener_for(engine, None, max_list_age, stale_lists)
    spark = spark_screening(engine, screener, acting.id, spark_master) if engine_name == ScreeningEngine.spark \
        else None
    with record_progress(label, not as_json) as progress:
        result = action(engine, screener, acting.id, lambda n, total: progress(n), partner_entries(screener), spark)
    _print_run(result, as_json)


@customers_app.command("screen")
@handles_errors
def customers_screen(
    file: Annotated[Path, typer.Argument(help="CSV: id,name[,type,birth_date,nationality,country,accounts].")],
    engine_name: ScreeningEngineOption = ScreeningEngine.local,
    spark_master: ScreeningSparkMasterOption = None,
    max_list_age: MaxListAgeOption = DEFAULT_MAX_LIST_AGE_DAYS,
    stale_lists: StaleListsOption = OnStale.refuse,
    member: MemberOption = LOCAL_MEMBER,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Make FILE the member's customer base (customers not in it leave it) and screen all of it."""
    _customer_run("screening customers",
                  lambda engine, screener, member_id, progress, partners, spark: screen_customer_file(
                      engine, screener, file, member_id, progress, partners, spark),
                  member, db, as_json, max_list_age, stale_lists, engine_name, spark_master)


@customers_app.command("rescreen")
@handles_errors
def customers_rescreen(
    full: Annotated[bool, typer.Option("--full", help="Screen every customer, not only the changes.")] = False,
    engine_name: Annotated[ScreeningEngine, typer.Option(
        "--engine", "-e", case_sensitive=False,
        help="With --full: where the customers are screened, local or spark (as for customers screen); a delta "
             "run screens the few customers a change concerns here.")] = ScreeningEngine.local,
    spark_master: ScreeningSparkMasterOption = None,
    max_list_age: MaxListAgeOption = DEFAULT_MAX_LIST_AGE_DAYS,
    stale_lists: StaleListsOption = OnStale.refuse,
    member: MemberOption = LOCAL_MEMBER,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """After `lists update` / `lists load`: screen the member's stored customers against what changed."""
    if engine_name == ScreeningEngine.spark and not full:
        raise typer.BadParameter("--engine spark screens the whole base: add --full", param_hint="--engine")
    if full:
        action: CustomerAction = lambda engine, screener, member_id, progress, partners, spark: rescreen_full(  # noqa: E731
            engine, screener, member_id, progress, partners=partners, spark=spark)
    else:
        action = lambda engine, screener, member_id, progress, partners, spark: rescreen_delta(  # noqa: E731
            engine, screener, member_id, progress, partners=partners)
    _customer_run("re-screening customers", action, member, db, as_json, max_list_age, stale_lists, engine_name,
                  spark_master)


def _decimal(value: str, what: str) -> Decimal:
    try:
        return Decimal(value)
    except InvalidOperation:
        raise InvalidInputError(f"{what} {value!r} is not a number") from None


@freeze_app.command("add")
@handles_errors
def freeze_add(
    holder: Annotated[str, typer.Option(help="Who holds the asset (the listed person or organisation).")],
    account: Annotated[str, typer.Option(help="Account (IBAN) or other asset identifier.")],
    institution: Annotated[str, typer.Option(help="The institution holding it (name or BIC).")],
    amount: Annotated[str, typer.Option(help="Amount frozen.")],
    currency: Annotated[str, typer.Option(help="ISO 4217 currency.")],
    source: Annotated[str, typer.Option(help="The list the listing is on: un_sc, us_ofac_sdn, …")],
    reference: Annotated[str, typer.Option(help="The listing's reference on that list: QDi.354, 17293, …")],
    country: Annotated[str, typer.Option(help="Country where the asset is held (ISO alpha-2).")],
    reason: Annotated[str, typer.Option(help="Why it is frozen (e.g. the alert or payment held).")],
    regime: Annotated[str | None, typer.Option(help="Regime (default: the listing's programme).")] = None,
    frozen_on: Annotated[str | None, typer.Option(help="Date frozen (YYYY-MM-DD, default today).")] = None,
    customer: Annotated[str | None, typer.Option(help="The customer's id in the customer base.")] = None,
    member: MemberOption = LOCAL_MEMBER,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Enter a frozen asset in the member's register with its legal basis (source + reference)."""
    engine = open_engine(db)
    acting = member_for(engine, member)
    try:
        day = date.fromisoformat(frozen_on) if frozen_on else None
    except ValueError:
        raise InvalidInputError(f"frozen-on date {frozen_on!r} is not YYYY-MM-DD") from None
    asset = freeze_listed_asset(engine, holder=holder, account=account, institution=institution,
                                amount=_decimal(amount, "amount"), currency=currency, frozen_on=day,
                                source=source, reference=reference, regime=regime, country=country,
                                reason=reason, member_id=acting.id, customer_ref=customer)
    if as_json:
        print_json(asset)
    else:
        console.print(f"frozen asset {asset.id}: {asset.frozen_amount} {escape(asset.currency)} of "
                      f"{escape(asset.holder)} ({escape(asset.source)} {escape(asset.reference)}, "
                      f"{escape(asset.regime)})", highlight=False)


@freeze_app.command("release")
@handles_errors
def freeze_release(
    asset_id: Annotated[int, typer.Argument(help="The frozen asset's number.")],
    reason: Annotated[str, typer.Option(help="Why (delisting, court order, licence terms …).")],
    amount: Annotated[str | None, typer.Option(help="Release this much (default: all that is frozen).")] = None,
    licence: Annotated[str | None, typer.Option(help="The licence a partial release is made under.")] = None,
    member: MemberOption = LOCAL_MEMBER,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Release one of the member's frozen assets, in part under a licence or in full."""
    engine = open_engine(db)
    acting = member_for(engine, member)
    asset = release_asset(engine, asset_id, reason, _decimal(amount, "amount") if amount else None, licence,
                          member_id=acting.id)
    if as_json:
        print_json(asset)
    else:
        console.print(f"frozen asset {asset.id}: {asset.status}, {asset.frozen_amount} {escape(asset.currency)} still "
                      "frozen", highlight=False)


@freeze_app.command("list")
@handles_errors
def freeze_list(
    status: Annotated[str | None, typer.Option(help="frozen, partially_released or released.")] = None,
    by: Annotated[str | None, typer.Option(help="Print totals by source, regime, country or member.")] = None,
    export: Annotated[str | None, typer.Option(help="Write the register as csv or json on standard output.")] = None,
    member: MemberOption = LOCAL_MEMBER,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """The member's register: assets with their status, totals still frozen, or an export."""
    engine = open_engine(db)
    member_id = reading_member_id(engine, member)  # a read never makes the local member
    assets = [] if member_id is None else list_assets(engine, member_id, status=status)
    if export:
        if export not in ("csv", "json"):
            raise typer.BadParameter("--export is csv or json")
        typer.echo(export_csv(assets) if export == "csv" else export_json(assets), nl=False)
        return
    if by:
        if by not in ("source", "regime", "country", "member"):
            raise typer.BadParameter("--by is source, regime, country or member")
        found = totals(assets, by)
        if as_json:
            print_json([{by: k, "currency": c, "frozen": str(v)} for (k, c), v in found.items()])
            return
        table = DataTable(title=f"Frozen by {by}")
        for column in (by, "currency", "still frozen"):
            table.add_column(column)
        for (k, c), v in found.items():
            table.add_row(k, c, f"{v:,.2f}")
        console.print(table)
        return
    if as_json:
        print_json(assets)
        return
    table = DataTable(title="Frozen assets")
    for column in ("#", "holder", "account", "institution", "frozen", "basis", "status", "since"):
        table.add_column(column, overflow="fold")
    for a in assets:
        table.add_row(str(a.id), a.holder, a.account, a.institution, f"{a.frozen_amount:,.2f} {a.currency}",
                      f"{a.source} {a.reference} ({a.regime})", a.status, a.frozen_on.isoformat())
    console.print(table)


COMMANDS: Commands = [("payments", payments_app), ("customers", customers_app), ("freeze", freeze_app)]
