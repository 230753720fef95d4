"""`jointwatch alerts list|show|assign|decide`: the member's alerts queue, as GET /alerts and the
console's Alerts page show it; deciding files the member's decision, as `decisions add` does."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer
from rich.markup import escape

from jointwatch.cli.consoles import DataTable
from jointwatch.cli.output import (
    Commands,
    DbOption,
    JsonOption,
    MemberOption,
    UserOption,
    console,
    default_user,
    handles_errors,
    member_for,
    print_json,
    reading_member_id,
)
from jointwatch.store import (
    ALERTS_PER_PAGE,
    LOCAL_MEMBER,
    Alert,
    alert_history,
    alerts_page,
    assign_alert,
    count_alerts_by_state,
    decide_alert,
    get_alert,
    open_engine,
)

alerts_app = typer.Typer(
    help="The alerts queue: matches a person must look at (customer runs, held payments, referred "
         "travellers, partner hits); the same queue as the service's /alerts and the console's Alerts page.",
    no_args_is_help=True)


class StateFilter(StrEnum):
    open = "open"
    assigned = "assigned"
    true_positive = "true_positive"
    false_positive = "false_positive"
    withdrawn = "withdrawn"
    decided = "decided"


class Origin(StrEnum):
    customer = "customer"
    payment = "payment"
    traveller = "traveller"
    job = "job"


class Verdict(StrEnum):
    false_positive = "false_positive"
    true_positive = "true_positive"


AlertArgument = Annotated[int, typer.Argument(help="The alert's number (alerts list).", min=1, max=2**31 - 1)]


def _print_alerts(found: list[Alert]) -> None:
    table = DataTable()
    for column in ("#", "subject", "match", "score", "origin", "state", "assignee", "opened"):
        table.add_column(column, overflow="fold")
    for a in found:
        table.add_row(str(a.id), a.subject, f"{a.listed_name} ({a.source} {a.reference})", f"{a.score:.2f}",
                      f"{a.origin} {a.origin_ref}", a.state, a.assignee or "",
                      a.created_at.isoformat(timespec="seconds"))
    console.print(table)


@alerts_app.command("list")
@handles_errors
def alerts_list(
    state: Annotated[StateFilter | None, typer.Option(help="Only alerts in this state.")] = None,
    origin: Annotated[Origin | None, typer.Option(help="Only alerts from this origin.")] = None,
    source: Annotated[str | None, typer.Option(help="Only matches of this list (un_sc, us_ofac_sdn …).")] = None,
    assignee: Annotated[str | None, typer.Option(help="Only alerts given to this user (\"me\": --user).")] = None,
    text: Annotated[str | None, typer.Option("--text", "-q", help="Words of the subject.")] = None,
    before: Annotated[int | None, typer.Option(min=1, help="The page after this alert number (older).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="How many alerts.")] = ALERTS_PER_PAGE,
    counts: Annotated[bool, typer.Option("--counts", help="Print how many alerts are in each state.")] = False,
    user: UserOption = None,
    member: MemberOption = LOCAL_MEMBER,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show the acting member's alerts, newest first."""
    engine = open_engine(db)
    member_id = reading_member_id(engine, member)
    if counts:
        tally = count_alerts_by_state(engine, member_id) if member_id is not None else {}
        if as_json:
            print_json(tally)
        else:
            console.print(", ".join(f"{n} {s}" for s, n in tally.items()) or "no alerts")
        return
    who = (user or default_user()) if assignee == "me" else assignee
    found = [] if member_id is None else alerts_page(
        engine, member_id, limit, before, state=state.value if state else None,
        origin=origin.value if origin else None, source=source, assignee=who, text=text)
    if as_json:
        print_json(found)
    else:
        _print_alerts(found)


@alerts_app.command("show")
@handles_errors
def alerts_show(alert_id: AlertArgument, member: MemberOption = LOCAL_MEMBER, db: DbOption = None,
                as_json: JsonOption = False) -> None:
    """Show one alert: the match and why, where it came from, and its history."""
    engine = open_engine(db)
    acting = member_for(engine, member)
    found = get_alert(engine, acting.id, alert_id)
    history = alert_history(engine, acting.id, alert_id)
    if as_json:
        print_json({"alert": found, "history": history})
        return
    console.print(f"alert #{found.id}: {escape(found.subject)} ~ {escape(found.listed_name)} "
                  f"({escape(found.source)} {escape(found.reference)}, {found.score:.2f}) — {found.state}"
                  f"{', ' + escape(found.assignee) if found.assignee else ''}", highlight=False)
    console.print(f"from {found.origin} {escape(found.origin_ref)}, list version {escape(found.list_version)}",
                  highlight=False)
    for e in history:
        console.print(f"  {e.at.isoformat(timespec='seconds')} {escape(e.user)} {e.action}"
                      f"{': ' + escape(e.detail) if e.detail else ''}", highlight=False)


@alerts_app.command("assign")
@handles_errors
def alerts_assign(
    alert_id: AlertArgument,
    to: Annotated[str | None, typer.Option("--to", help="A user of the member; \"me\" (the default): --user.")]
    = "me",
    nobody: Annotated[bool, typer.Option("--nobody", help="Leave the alert to nobody.")] = False,
    user: UserOption = None,
    member: MemberOption = LOCAL_MEMBER,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Give an alert to yourself or another user of the member (or to nobody)."""
    engine = open_engine(db)
    me = user or default_user()
    done = assign_alert(engine, member_for(engine, member).id, alert_id, me,
                        None if nobody else me if to in (None, "me") else to)
    if as_json:
        print_json(done)
    else:
        console.print(f"alert #{done.id}: {escape(done.assignee) if done.assignee else 'nobody'} has it",
                      highlight=False)


@alerts_app.command("decide")
@handles_errors
def alerts_decide(
    alert_id: AlertArgument,
    verdict: Annotated[Verdict, typer.Argument(help="false_positive: the subject is not the listed entity (the "
                                                    "match stops alerting for the member); true_positive: it is.")],
    reason: Annotated[str, typer.Option("--reason", "-r", help="Why: kept with the alert and the decision.")],
    user: UserOption = None,
    member: MemberOption = LOCAL_MEMBER,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Decide an alert with a reason; the member's decision is filed as `decisions add` files it."""
    engine = open_engine(db)
    done = decide_alert(engine, member_for(engine, member).id, alert_id, user or default_user(), verdict.value,
                        reason)
    if as_json:
        print_json(done)
    else:
        console.print(f"alert #{done.id}: {done.decision} (decision #{done.decision_id})", highlight=False)


COMMANDS: Commands = [("alerts", alerts_app)]
