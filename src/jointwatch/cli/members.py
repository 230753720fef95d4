"""`jointwatch members …`, `jointwatch keys …`, `jointwatch audit …`: who may use the service, and what they did."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.markup import escape

from jointwatch.cli.consoles import DataTable
from jointwatch.cli.output import Commands, DbOption, JsonOption, console, handles_errors, print_json
from jointwatch.errors import QueryError
from jointwatch.store import (
    ROLES,
    AuditEntry,
    add_member,
    create_key,
    get_member,
    list_keys,
    list_members,
    open_engine,
    read_audit,
    revoke_key,
    rotate_key,
    rows_about,
)

members_app = typer.Typer(help="Members: the partner organisations that call the service.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys of members' users (shown once, stored hashed).", no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail of the service (append-only).", no_args_is_help=True)


@members_app.command("add")
@handles_errors
def members_add(name: Annotated[str, typer.Argument(help="The member's name, e.g. 'Border Police NL'.")],
                country: Annotated[str | None, typer.Option(help="ISO 3166-1 alpha-2 code.")] = None,
                db: DbOption = None, as_json: JsonOption = False) -> None:
    """Add a member (a partner organisation)."""
    member = add_member(open_engine(db), name, country)
    if as_json:
        print_json(member)
    else:
        console.print(f"member #{member.id}: {escape(member.name)}", highlight=False)


@members_app.command("list")
@handles_errors
def members_list(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Show every member."""
    found = list_members(open_engine(db))
    if as_json:
        print_json(found)
        return
    table = DataTable()
    for column in ("#", "name", "country", "since"):
        table.add_column(column)
    for m in found:
        table.add_row(str(m.id), m.name, m.country or "", m.created_at.isoformat(timespec="seconds"))
    console.print(table)


@keys_app.command("create")
@handles_errors
def keys_create(member: Annotated[str, typer.Option("--member", "-m", help="Member name or number.")],
                user: Annotated[str, typer.Option("--user", "-u", help="Who will use the key.")],
                role: Annotated[str, typer.Option("--role", "-r", help=f"One of {', '.join(ROLES)}.")],
                db: DbOption = None, as_json: JsonOption = False) -> None:
    """Create an API key and print its secret. It is shown this once and stored only hashed."""
    key, secret = create_key(open_engine(db), member, user, role)
    if as_json:
        print_json({"key": secret, "prefix": key.prefix, "member": key.member_name, "user": key.user,
                    "role": key.role})
        return
    console.print(f"key {key.prefix} for {escape(key.user)} ({key.role}) of {escape(key.member_name)}; keep it now, "
                  "it cannot be shown again:", highlight=False)
    typer.echo(secret)


@keys_app.command("revoke")
@handles_errors
def keys_revoke(prefix: Annotated[str, typer.Argument(help="The key's prefix (keys list) or the whole key.")],
                db: DbOption = None, as_json: JsonOption = False) -> None:
    """Revoke a key: from now on it gets 401."""
    key = revoke_key(open_engine(db), prefix)
    if as_json:
        print_json(key)
    else:
        console.print(f"revoked key {key.prefix} of {escape(key.user)} ({escape(key.member_name)})", highlight=False)


@keys_app.command("list")
@handles_errors
def keys_list(member: Annotated[str | None, typer.Option("--member", "-m", help="Only this member.")] = None,
              db: DbOption = None, as_json: JsonOption = False) -> None:
    """Show keys (prefix, user, role, state); secrets are never stored."""
    found = list_keys(open_engine(db), member)
    if as_json:
        print_json(found)
        return
    table = DataTable()
    for column in ("prefix", "member", "user", "role", "created", "revoked"):
        table.add_column(column)
    for k in found:
        table.add_row(k.prefix, k.member_name, k.user, k.role, k.created_at.isoformat(timespec="seconds"),
                      k.revoked_at.isoformat(timespec="seconds") if k.revoked_at else "")
    console.print(table)


def _audit_table(rows: list[AuditEntry]) -> None:
    table = DataTable()
    for column in ("#", "at", "member", "user", "action", "status", "subject", "result"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(str(r.id), r.at.isoformat(timespec="seconds"), str(r.member_id), r.user, r.action,
                      str(r.status), (r.subject_digest or "")[:12], r.result_summary)
    console.print(table)


@audit_app.command("show")
@handles_errors
def audit_show(member: Annotated[str | None, typer.Option("--member", "-m", help="Only this member.")] = None,
               since: Annotated[datetime | None, typer.Option(help="Only rows at or after this time (UTC).")] = None,
               limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many rows.")] = 1000,
               db: DbOption = None, as_json: JsonOption = False) -> None:
    """Show the audit trail: who asked, what, about which subject digest, against which lists."""
    engine = open_engine(db)
    member_id = get_member(engine, member).id if member else None
    rows = read_audit(engine, member_id, since, limit)
    if as_json:
        print_json(rows)
        return
    _audit_table(rows)


@audit_app.command("find")
@handles_errors
def audit_find(name: Annotated[str, typer.Argument(help="The name exactly as the request sent it.")],
               birth_date: Annotated[str | None, typer.Option(help="As sent, e.g. 1982-05-03.")] = None,
               country: Annotated[list[str] | None, typer.Option(help="As sent; repeat, in the order sent.")] = None,
               gender: Annotated[str | None, typer.Option(help="As sent.")] = None,
               schema: Annotated[str, typer.Option(help="As sent.")] = "Person",
               id_number: Annotated[list[str] | None, typer.Option(help="As sent; repeat, in order.")] = None,
               member: Annotated[str | None, typer.Option("--member", "-m", help="Only this member.")] = None,
               limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many rows.")] = 1000,
               db: DbOption = None, as_json: JsonOption = False) -> None:
    """Find the rows about one subject (a /match, a decision, or a batch of that subject alone),
    under every audit key the store has had: the digest is keyed, so only the store can check a name."""
    view = _subject_view(name, birth_date, country, gender, schema, id_number)
    engine = open_engine(db)
    member_id = get_member(engine, member).id if member else None
    rows = rows_about(engine, [view, [view]], member_id, limit)
    if as_json:
        print_json(rows)
        return
    _audit_table(rows)


def _subject_view(name: str, birth_date: str | None, countries: list[str] | None,
                  gender: str | None, schema: str, id_numbers: list[str] | None) -> dict[str, object]:
    """The subject as the service digests it (the API's own ``Subject.audit_view``)."""
    from pydantic import ValidationError  # noqa: PLC0415 - only for this command

    from jointwatch.api import Subject  # noqa: PLC0415

    try:
        subject = Subject.model_validate({"name": name, "birth_date": birth_date, "countries": countries or [],
                                        "gender": gender, "schema": schema, "id_numbers": id_numbers or []})
    except ValidationError as error:
        raise QueryError(f"not a subject the service takes: {error.errors()[0]['msg']}") from None
    return subject.audit_view()


@audit_app.command("rotate-key")
@handles_errors
def audit_rotate_key(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Make a new audit key: rows from now on are digested under it; old keys stay, so `audit find` still
    checks older rows. A running service uses the new key from its next request."""
    key = rotate_key(open_engine(db))
    if as_json:
        print_json({"key": key.id, "created_at": key.created_at})
    else:
        console.print(f"audit key k{key.id} is now current; older keys are kept for `jointwatch audit find`",
                      highlight=False)


COMMANDS: Commands = [("members", members_app), ("keys", keys_app), ("audit", audit_app)]
