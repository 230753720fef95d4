"""`jointwatch requests …`: requests for information after a blind hit, from the asker's and
the holder's desks, and the reminder run for cron."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from jointwatch.cli.consoles import DataTable
from jointwatch.cli.output import (
    Commands,
    DbOption,
    JsonOption,
    MemberOption,
    UserOption,
    console,
    default_user,
    err_console,
    handles_errors,
    member_for,
    print_json,
)
from jointwatch.errors import InvalidInputError
from jointwatch.releasability import HANDLING_CODES, TLP_LEVELS
from jointwatch.sharing import (
    STATES,
    URGENCIES,
    Release,
    RequestView,
    Subject,
    accept_request,
    answer_request,
    ask_more,
    decline_request,
    open_request,
    read_hit,
    remind,
    requests_of,
    view_request,
    withdraw_request,
)
from jointwatch.store import LOCAL_MEMBER, Engine, InfoRequest, open_engine

requests_app = typer.Typer(
    help="Requests for information after a blind hit: the asker asks the holder for the entry behind the "
         "hit; the holder asks for more, accepts (releasing the entry, which the asker's screening then "
         "hits) or declines. Every step is kept in the request's history and both members' audit.",
    no_args_is_help=True)

RefArgument = Annotated[str, typer.Argument(help="The request's reference (rq-…).")]


def _day(text: str | None, what: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInputError(f"{what}: {text[:40]!r} is not a date (YYYY-MM-DD)") from None


def _print(engine: Engine, member_id: int, done: InfoRequest, what: str, as_json: bool) -> None:
    """The request after a step: the whole of it with --json, else its reference (REF=$(…) keeps it)."""
    if as_json:
        print_json(view_request(engine, done.ref, member_id).to_dict())
    else:
        err_console.print(f"{what}: {done.state.replace('_', ' ')}", highlight=False)
        typer.echo(done.ref)


def _table(views: list[RequestView], title: str) -> None:
    table = DataTable("ref", "state", "asker", "holder", "urgency", "deadline", "due", title=title)
    for v in views:
        r = v.request
        table.add_row(r.ref, r.state.replace("_", " "), r.asker, r.holder, r.urgency, r.deadline.isoformat(),
                      v.due or "")
    console.print(table)


@requests_app.command("open")
@handles_errors
def requests_open(
    legal_basis: Annotated[str, typer.Option("--legal-basis", help="The law or agreement the request rests on "
                                                                   "(required).")],
    reason: Annotated[str, typer.Option("--reason", "-r", help="Why you ask (required).")],
    hit: Annotated[str | None, typer.Option(
        "--hit", help="The hit as `discover query --hits` prints it: HOLDER:DAY:TOKEN (instead of the next three).")]
    = None,
    holder: Annotated[str | None, typer.Option("--holder", help="The holder of the hit (member name or number).")]
    = None,
    token: Annotated[str | None, typer.Option("--token", help="The hit's token (from `jointwatch discover`).")]
    = None,
    epoch: Annotated[str | None, typer.Option("--epoch", help="The hit's day, YYYY-MM-DD (at most 7 days ago).")]
    = None,
    name: Annotated[str, typer.Option("--name", "-n", help="The subject's name, if you reveal it.")] = "",
    birth_date: Annotated[str, typer.Option("--birth-date", "--dob", help="YYYY, YYYY-MM or YYYY-MM-DD.")] = "",
    nationality: Annotated[str, typer.Option("--nationality", help="The subject's nationality.")] = "",
    id_number: Annotated[list[str] | None, typer.Option("--id-number", help="A document number; repeatable.")] = None,
    note: Annotated[str, typer.Option("--note", help="Anything else you reveal of the subject.")] = "",
    urgency: Annotated[str, typer.Option("--urgency", help=f"{' | '.join(URGENCIES)}.")] = "routine",
    deadline: Annotated[str | None, typer.Option(
        "--deadline", help="YYYY-MM-DD; default by urgency: immediate +1 day, urgent +3, routine +14.")] = None,
    member: MemberOption = LOCAL_MEMBER,
    user: UserOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Ask the holder of a blind hit for the entry behind it; print the request's reference.

    Reveal of the subject only what the holder needs (at least one of --name, --birth-date,
    --nationality, --id-number, --note). Exit 6 for a token the holder never gave your member
    that day, 7 for a hit older than 7 days or a missing legal basis."""
    if hit is not None:
        if holder or token or epoch:
            raise InvalidInputError("give the hit either as --hit or as --holder, --token and --epoch, not both")
        holder, epoch, token = read_hit(hit)
    elif not (holder and token and epoch):
        raise InvalidInputError("give the hit: --hit HOLDER:DAY:TOKEN, or --holder, --token and --epoch")
    engine = open_engine(db)
    member_id = member_for(engine, member).id
    subject = Subject(name, birth_date, nationality, tuple(id_number or ()), note)
    made = open_request(engine, member_id, user or default_user(), holder, token, epoch, subject, reason,
                        legal_basis, urgency, _day(deadline, "--deadline"))
    _print(engine, member_id, made, f"request to {made.holder} opened, deadline {made.deadline.isoformat()}",
           as_json)


def _box(box: str, state: str | None, member: str, db: str | None, as_json: bool) -> None:
    engine = open_engine(db)
    views = requests_of(engine, member_for(engine, member).id, box, (state,) if state else ())
    if as_json:
        print_json([v.to_dict(history=False) for v in views])
    else:
        _table(views, f"{box}: {len(views)} requests")


StateOption = Annotated[str | None, typer.Option("--state", help=f"Only this state: {', '.join(STATES)}.")]


@requests_app.command("inbox")
@handles_errors
def requests_inbox(state: StateOption = None, member: MemberOption = LOCAL_MEMBER, db: DbOption = None,
                   as_json: JsonOption = False) -> None:
    """The requests to your member as holder, newest first; 'due soon' and 'overdue' flagged."""
    _box("inbox", state, member, db, as_json)


@requests_app.command("outbox")
@handles_errors
def requests_outbox(state: StateOption = None, member: MemberOption = LOCAL_MEMBER, db: DbOption = None,
                    as_json: JsonOption = False) -> None:
    """Your member's own requests, newest first; 'due soon' and 'overdue' flagged."""
    _box("outbox", state, member, db, as_json)


@requests_app.command("show")
@handles_errors
def requests_show(ref: RefArgument, member: MemberOption = LOCAL_MEMBER, db: DbOption = None,
                  as_json: JsonOption = False) -> None:
    """One request with its history (only its asker and holder see it)."""
    engine = open_engine(db)
    view = view_request(engine, ref, member_for(engine, member).id)
    data = view.to_dict()
    if as_json:
        print_json(data)
        return
    for key in ("ref", "role", "state", "asker", "holder", "urgency", "deadline", "due", "reason", "legal_basis",
                "answer", "released_ref", "entry_ref"):
        if data.get(key):
            typer.echo(f"{key}: {data[key]}")
    for key, value in data["subject"].items():
        typer.echo(f"subject.{key}: {value}")
    table = DataTable("at", "action", "member", "user", "detail", "state", title="history")
    for event in data["history"]:
        table.add_row(event["at"][:19], event["action"], event["member"], event["user"], event["detail"],
                      event["state"])
    console.print(table)


TextOption = Annotated[str, typer.Option("--text", "-t", help="What you say (required).")]


@requests_app.command("ask")
@handles_errors
def requests_ask(ref: RefArgument, text: TextOption = "", member: MemberOption = LOCAL_MEMBER,
                 user: UserOption = None, db: DbOption = None, as_json: JsonOption = False) -> None:
    """As holder, ask the asker for more before you decide (the request waits for its answer)."""
    engine = open_engine(db)
    member_id = member_for(engine, member).id
    _print(engine, member_id, ask_more(engine, ref, member_id, user or default_user(), text), "asked", as_json)


@requests_app.command("answer")
@handles_errors
def requests_answer(ref: RefArgument, text: TextOption = "", member: MemberOption = LOCAL_MEMBER,
                    user: UserOption = None, db: DbOption = None, as_json: JsonOption = False) -> None:
    """As asker, answer the holder's question (the request is open again)."""
    engine = open_engine(db)
    member_id = member_for(engine, member).id
    _print(engine, member_id, answer_request(engine, ref, member_id, user or default_user(), text), "answered",
           as_json)


@requests_app.command("accept")
@handles_errors
def requests_accept(
    ref: RefArgument,
    tlp: Annotated[str | None, typer.Option("--tlp", help=f"TLP for the asker: {', '.join(TLP_LEVELS)}; "
                                                          "default the entry's.")] = None,
    handling: Annotated[list[str] | None, typer.Option(
        "--handling", help=f"A handling code ({', '.join(HANDLING_CODES)}); repeatable; default the entry's.")] = None,
    expires: Annotated[str | None, typer.Option("--expires", help="Last day it matches, YYYY-MM-DD; default "
                                                                  "the entry's.")] = None,
    note: Annotated[str, typer.Option("--note", help="A word to the asker.")] = "",
    member: MemberOption = LOCAL_MEMBER,
    user: UserOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """As holder, release your entry to the asker: its screening hits the entry from then on.

    The entry gets a new version whose note names the asker and the request; distribution
    originator becomes members [asker], members gets the asker added."""
    engine = open_engine(db)
    member_id = member_for(engine, member).id
    release = Release(tlp, tuple(handling) if handling else None, _day(expires, "--expires"), note)
    _print(engine, member_id, accept_request(engine, ref, member_id, user or default_user(), release), "accepted",
           as_json)


@requests_app.command("decline")
@handles_errors
def requests_decline(ref: RefArgument,
                     reason: Annotated[str, typer.Option("--reason", "-r", help="Why (required).")] = "",
                     member: MemberOption = LOCAL_MEMBER, user: UserOption = None, db: DbOption = None,
                     as_json: JsonOption = False) -> None:
    """As holder, decline the request, with a reason the asker reads."""
    engine = open_engine(db)
    member_id = member_for(engine, member).id
    _print(engine, member_id, decline_request(engine, ref, member_id, user or default_user(), reason), "declined",
           as_json)


@requests_app.command("withdraw")
@handles_errors
def requests_withdraw(ref: RefArgument,
                      reason: Annotated[str, typer.Option("--reason", "-r", help="Why (optional).")] = "",
                      member: MemberOption = LOCAL_MEMBER, user: UserOption = None, db: DbOption = None,
                      as_json: JsonOption = False) -> None:
    """As asker, withdraw your request."""
    engine = open_engine(db)
    member_id = member_for(engine, member).id
    _print(engine, member_id, withdraw_request(engine, ref, member_id, user or default_user(), reason),
           "withdrew", as_json)


@requests_app.command("remind")
@handles_errors
def requests_remind(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Remind the undecided requests whose deadline is near and expire the overdue ones (run it daily from cron).

    Immediate requests are reminded on their deadline day, urgent ones from the day before,
    routine ones from three days before; each at most once a day. Prints what it did."""
    done = remind(open_engine(db))
    if as_json:
        print_json([r.to_dict() for r in done])
        return
    for r in done:
        req = r.request
        typer.echo(f"{r.what}: {req.ref} ({req.urgency}, deadline {req.deadline.isoformat()}) "
                   f"{req.asker} -> {req.holder}")


COMMANDS: Commands = [("requests", requests_app)]
