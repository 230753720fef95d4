"""`jointwatch discover …`: blind hit/no-hit discovery between the members of one server.

The same library calls as the service's /discovery routes: a holder opens an offer, an asker
asks whether any holder has a person, and learns hit or no hit, strength, which kinds of
key agreed, its own words that hit and an opaque token; never the holder's names. The
holder sees who asked, when and how many keys; never the name.
"""

from __future__ import annotations

from datetime import UTC
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.text import Text

from jointwatch.cli.consoles import DataTable
from jointwatch.cli.output import (
    BirthDateOption,
    Commands,
    DbOption,
    JsonOption,
    MemberOption,
    console,
    err_console,
    handles_errors,
    member_for,
    print_json,
)
from jointwatch.cli.screening_options import screener_for
from jointwatch.errors import ConflictError, InvalidInputError, LimitReachedError, NotFoundError
from jointwatch.releasability import TLP_LEVELS
from jointwatch.screening import QUERY_SCHEMATA, Query, prepare
from jointwatch.sharing import (
    BUCKETS,
    DEFAULT_DAILY_KEYS,
    DEFAULT_PER_MINUTE,
    DEFAULT_TLP_MAX,
    HolderAnswer,
    asker_label,
    close_offer,
    discover,
    epoch_of,
    local_holders,
    open_offer,
)
from jointwatch.store import (
    LOCAL_MEMBER,
    Engine,
    Offer,
    Spend,
    blind_queries,
    get_member,
    get_offer,
    list_members,
    open_engine,
    spend_of,
)

NO_OFFER = "no discovery offer from this holder"   # the same words as the service's 404

discover_app = typer.Typer(
    help="Blind hit/no-hit discovery: ask whether a partner member holds a person without either side "
         "showing its list (docs/blind-discovery.md). A holder opens an offer (discover offer); an asker "
         "asks (discover query) and learns hit or no hit, never the holder's names; the holder learns who "
         "asked, when and how many keys, never the name.",
    no_args_is_help=True)

QUERY_HELP = f"""Ask every holder whose offer reaches you (or those named by --holder) whether it holds NAME.

The name never leaves this process: its keys are blinded, padded to a bucket
({', '.join(map(str, BUCKETS))} keys), evaluated by each holder and looked up in the
holder's blind index. Each holder answers hit or no hit; a hit gives its strength (0..1),
which kinds of key agreed (name, birth_year, document), which of your words hit, and a
token naming the entry for you today (quote it in a request for information). Each query
costs its bucket against your day's budget at that holder (discover spend).

Exit codes, as `jointwatch screen`: 0 done, hit or no hit; 7 a bad query; 9 no list loaded
(words are weighed as screening weighs them, so there is no answer without the lists).
Besides: 6 a --holder that does not exist or has no offer reaching you (the same answer for
both); 4 when a holder refused because your budget or rate there is spent: that holder was
NOT asked, so its "no hit" is no answer (the other holders' answers are printed first)."""


def _names(engine: Engine) -> dict[int, str]:
    return {m.id: m.name for m in list_members(engine)}


def _asker_name(label: str, names: dict[int, str]) -> str:
    kind, _, number = label.partition(":")
    return names.get(int(number), label) if kind == "member" and number.isdigit() else label


def _offer_json(offer: Offer, names: dict[int, str]) -> dict[str, Any]:
    """An offer as printed: never its seed."""
    return {"holder": names.get(offer.holder_id, str(offer.holder_id)), "status": offer.status,
            "daily_keys": offer.daily_keys, "per_minute": offer.per_minute, "scope": offer.scope,
            "tlp_max": offer.tlp_max, "created_at": offer.created_at, "updated_at": offer.updated_at}


def _spend_json(spend: Spend, names: dict[int, str]) -> dict[str, Any]:
    return {"holder": names.get(spend.holder_id, str(spend.holder_id)), "asker": _asker_name(spend.asker, names),
            "day": spend.day, "keys": spend.keys, "queries": spend.queries, "refused": spend.refused,
            "budget": spend.daily_keys}


def _print_offer(offer: dict[str, Any]) -> None:
    console.print(f"offer of [bold]{escape(offer['holder'])}[/]: {offer['status']}, {offer['daily_keys']:,} keys "
                  f"per asker per day, {offer['per_minute']} queries a minute, scope {offer['scope']}, "
                  f"entries up to TLP:{offer['tlp_max'].upper()}", highlight=False)


@discover_app.command("offer")
@handles_errors
def discover_offer(
    daily_keys: Annotated[int | None, typer.Option(
        "--daily-keys", min=1, max=10_000_000,
        help=f"Key evaluations each asker may spend per UTC day (a query costs its bucket, 16 to 256). "
             f"Default {DEFAULT_DAILY_KEYS:,}, about 100 queries.")] = None,
    per_minute: Annotated[int | None, typer.Option(
        "--per-minute", min=1, max=10_000, help=f"Queries per asker per minute. Default {DEFAULT_PER_MINUTE}.")]
    = None,
    scope: Annotated[str | None, typer.Option(
        "--scope", help="Who may ask: server (members of this server) or connected (linked servers too). "
                        "Default server.")] = None,
    tlp_max: Annotated[str | None, typer.Option(
        "--tlp-max", help=f"The strictest TLP among the entries covered: {', '.join(TLP_LEVELS)}. "
                          f"Default {DEFAULT_TLP_MAX}.")] = None,
    new_seed: Annotated[bool, typer.Option(
        "--new-seed", help="Make a new secret seed: every key and token given out stops working at once.")] = False,
    close: Annotated[bool, typer.Option("--close", help="Close the offer: nobody can ask any more.")] = False,
    member: MemberOption = LOCAL_MEMBER,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Open or change your member's offer to answer blind queries about its partner entries (options not
    given keep their current value), or close it (--close).

    The index covers your own entries that the asker may not already see, live, and no stricter than
    --tlp-max. Exit 6 for --close without an offer, 7 for a bad value."""
    engine = open_engine(db)
    holder = member_for(engine, member)
    if close:
        if any(v is not None for v in (daily_keys, per_minute, scope, tlp_max)) or new_seed:
            raise InvalidInputError("--close takes no other offer option")
        offer = close_offer(engine, holder.id)
    else:
        current = get_offer(engine, holder.id)
        offer = open_offer(
            engine, holder.id,
            daily_keys=daily_keys or (current.daily_keys if current else DEFAULT_DAILY_KEYS),
            per_minute=per_minute or (current.per_minute if current else DEFAULT_PER_MINUTE),
            scope=(scope or (current.scope if current else "server")).strip().lower(),
            tlp_max=tlp_max or (current.tlp_max if current else DEFAULT_TLP_MAX),
            new_seed=new_seed)
    shown = _offer_json(offer, _names(engine))
    if as_json:
        print_json(shown)
    else:
        _print_offer(shown)


@discover_app.command("show")
@handles_errors
def discover_show(
    limit: Annotated[int, typer.Option("--limit", "-k", min=1, max=1000, help="Log rows, newest first.")] = 20,
    member: MemberOption = LOCAL_MEMBER,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Your member's offer (never its seed), today's spend by each asker, and the log of blind queries:
    who asked, when, how many keys. That is all a holder learns of a blind query. Exit 6 without an offer."""
    engine = open_engine(db)
    holder = get_member(engine, member)
    offer = get_offer(engine, holder.id)
    if offer is None:
        raise NotFoundError(f"member {holder.name!r} has no discovery offer (discover offer opens one)")
    names = _names(engine)
    spend = [_spend_json(s, names) for s in spend_of(engine, epoch_of(), holder_id=holder.id)]
    log: list[dict[str, Any]] = [
        {"asker": _asker_name(q.asker, names), "at": q.at.replace(tzinfo=q.at.tzinfo or UTC), "keys": q.keys,
         "outcome": q.outcome} for q in blind_queries(engine, holder.id, limit)]
    shown = _offer_json(offer, names)
    if as_json:
        print_json({"offer": shown, "spend": spend, "log": log})
        return
    _print_offer(shown)
    table = DataTable(title=f"Spend today ({epoch_of()}, UTC)")
    for column in ("asker", "keys", "of budget", "queries", "refused"):
        table.add_column(column, overflow="fold")
    for s in spend:
        table.add_row(s["asker"], f"{s['keys']:,}", f"{s['budget']:,}", str(s["queries"]), str(s["refused"]))
    console.print(table)
    table = DataTable(title="Blind queries, newest first")
    for column in ("when", "asker", "keys", "outcome"):
        table.add_column(column, overflow="fold")
    for row in log:
        table.add_row(row["at"].isoformat(timespec="seconds"), row["asker"], str(row["keys"]), row["outcome"])
    console.print(table)


def _holder_ids(engine: Engine, holders: list[str] | None) -> list[int | str] | None:
    """The members --holder names (by name or number); exit 6 with the words the service uses for a
    holder without an offer, so that neither tells members that exist from those that offer nothing."""
    if not holders:
        return None
    ids: list[int | str] = []
    for name in dict.fromkeys(holders):
        if "@" in name:       # name@link: a holder on a linked server, asked through that link
            ids.append(name)
            continue
        try:
            ids.append(get_member(engine, name).id)
        except NotFoundError:
            raise NotFoundError(NO_OFFER) from None
    return ids


def _answer_json(answer: HolderAnswer) -> dict[str, Any]:
    return answer.to_dict()


def _print_answers(query: Query, answers: list[HolderAnswer]) -> None:
    if not answers:
        console.print("No holder's offer reaches you: nobody was asked.", highlight=False)
        return
    table = DataTable(title=f"Blind query: {query.name}", show_lines=True)
    for column in ("holder", "answer", "strength", "agreed", "your words", "token (today)", "spent"):
        table.add_column(column, overflow="fold")
    for a in answers:
        spent = f"{a.spent:,}/{a.budget:,}"
        if a.refused:
            table.add_row(a.holder, Text("refused: not asked", style="bold red"), "", "", "", a.refused, spent)
        elif not a.hits:
            table.add_row(a.holder, "no hit", "", "", "", "", spent)
        for h in a.hits:
            table.add_row(a.holder, Text("hit", style="bold"), f"{h.strength:.3f}", ", ".join(h.agreed),
                          " ".join(h.words), f"{h.token} ({h.epoch})", spent)
    console.print(table)


@discover_app.command("query", help=QUERY_HELP)
@handles_errors
def discover_query(
    name: Annotated[str, typer.Argument(help="The name to look for (it never leaves this process).")],
    birth_date: BirthDateOption = None,
    id_number: Annotated[list[str] | None, typer.Option(
        "--id-number", help="Passport or ID number; repeatable.")] = None,
    schema: Annotated[str, typer.Option("--schema", "-s", help=f"Subject type: {', '.join(QUERY_SCHEMATA)}.")]
    = "Person",
    holder: Annotated[list[str] | None, typer.Option(
        "--holder", help="Ask only this holder (member name or number here, name@link on a linked server); "
                         "repeatable. Default: every holder "
                         "whose offer reaches you.")] = None,
    member: MemberOption = LOCAL_MEMBER,
    db: DbOption = None,
    as_json: JsonOption = False,
    hits_only: Annotated[bool, typer.Option(
        "--hits", help="Print only the hits, one per line as HOLDER:DAY:TOKEN (what `requests open --hit` takes).")]
    = False,
) -> None:
    engine = open_engine(db)
    query = prepare(Query(name=name, schema=schema, birth_date=birth_date, id_numbers=tuple(id_number or ())))
    holders = _holder_ids(engine, holder)
    asker = member_for(engine, member)
    screener = screener_for(engine)  # fails closed (exit 9): no list, no weights, no answer
    answers = discover(engine, asker.id, query, screener.index, holders)
    if as_json:
        print_json({"query": {"name": name, "birth_date": birth_date, "id_numbers": list(id_number or ())},
                    "answers": [_answer_json(a) for a in answers]})
    elif hits_only:
        for hit in (h for a in answers for h in a.hits):
            console.print(hit.hit, highlight=False, markup=False, soft_wrap=True)
    else:
        _print_answers(query, answers)
    refused = [a for a in answers if a.refused]
    if refused:
        err = LimitReachedError("; ".join(f"{a.holder}: {a.refused}" for a in refused))
        if not as_json:
            err_console.print(f"[bold red]not asked:[/] {escape(str(err))}", highlight=False)
        raise typer.Exit(err.exit_code)


@discover_app.command("spend")
@handles_errors
def discover_spend(
    member: MemberOption = LOCAL_MEMBER,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Your spend and budget today at each holder whose offer reaches you (the holder sees the same figures)."""
    engine = open_engine(db)
    asker = get_member(engine, member)
    names = _names(engine)
    day = epoch_of()
    spent = {s.holder_id: s for s in spend_of(engine, day, asker=asker_label(asker.id))}
    rows: list[dict[str, Any]] = []
    for holder_id in local_holders(engine, asker.id):
        offer = get_offer(engine, holder_id)
        if offer is None:
            raise ConflictError("an offer closed while it was read")  # local_holders lists open offers only
        s = spent.get(holder_id)
        rows.append({"holder": names.get(holder_id, str(holder_id)), "day": day, "spent": s.keys if s else 0,
                     "budget": offer.daily_keys, "queries": s.queries if s else 0, "refused": s.refused if s else 0,
                     "per_minute": offer.per_minute})
    if as_json:
        print_json(rows)
        return
    table = DataTable(title=f"Your spend today ({day}, UTC)")
    for column in ("holder", "keys spent", "of budget", "queries", "refused", "per minute"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(r["holder"], f"{r['spent']:,}", f"{r['budget']:,}", str(r["queries"]), str(r["refused"]),
                      str(r["per_minute"]))
    console.print(table)


COMMANDS: Commands = [("discover", discover_app)]
