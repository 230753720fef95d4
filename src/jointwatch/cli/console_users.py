"""`jointwatch console users …`: the people who sign in to the web console (/console), their
member, role and password. The operator (an admin on the server) sets passwords; the store
keeps only their scrypt hash."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from rich.markup import escape

from jointwatch.cli.consoles import DataTable
from jointwatch.cli.output import Commands, DbOption, JsonOption, console, handles_errors, print_json
from jointwatch.store import (
    CONSOLE_ROLES,
    ConsoleUser,
    add_console_user,
    disable_console_user,
    list_console_users,
    open_engine,
    set_console_password,
)
from jointwatch.web import MIN_LENGTH, check_new_password, hash_password

console_app = typer.Typer(help="The web console served under /console by `jointwatch serve`.", no_args_is_help=True)
users_app = typer.Typer(help="Console users: a member's people, each with a role and a password.",
                        no_args_is_help=True)
console_app.add_typer(users_app, name="users")

PasswordStdinOption = Annotated[bool, typer.Option(
    "--password-stdin", help="Read the password from the first line of standard input (for scripts); "
                             "otherwise it is asked for twice, hidden.")]


def _password(from_stdin: bool) -> str:
    """The new password, checked for length before it is hashed."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt(f"Password (at least {MIN_LENGTH} characters)", hide_input=True,
                                confirmation_prompt=True)
    return check_new_password(password)


def _shown(user: ConsoleUser) -> dict[str, Any]:
    """A user without the password hash (never printed, not even as JSON)."""
    return {"id": user.id, "member": user.member_name, "user": user.user, "role": user.role,
            "created_at": user.created_at, "password_set_at": user.password_set_at, "disabled_at": user.disabled_at}


@users_app.command("add")
@handles_errors
def console_users_add(member: Annotated[str, typer.Option("--member", "-m", help="Member name or number.")],
              user: Annotated[str, typer.Option("--user", "-u", help="The name the person signs in with.")],
              role: Annotated[str, typer.Option("--role", "-r", help=f"One of {', '.join(CONSOLE_ROLES)}.")],
              password_stdin: PasswordStdinOption = False, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Add a console user of a member, with a role and a password."""
    engine = open_engine(db)
    found = add_console_user(engine, member, user, role, hash_password(_password(password_stdin)))
    if as_json:
        print_json(_shown(found))
    else:
        console.print(f"console user {escape(found.user)} ({found.role}) of {escape(found.member_name)}",
                      highlight=False)


@users_app.command("passwd")
@handles_errors
def console_users_passwd(user: Annotated[str, typer.Argument(help="The console user.")],
                 password_stdin: PasswordStdinOption = False, db: DbOption = None,
                 as_json: JsonOption = False) -> None:
    """Set a console user's password; their open sessions end."""
    found = set_console_password(open_engine(db), user, hash_password(_password(password_stdin)))
    if as_json:
        print_json(_shown(found))
    else:
        console.print(f"new password for {escape(found.user)}; their sessions have ended", highlight=False)


@users_app.command("disable")
@handles_errors
def console_users_disable(user: Annotated[str, typer.Argument(help="The console user.")], db: DbOption = None,
                  as_json: JsonOption = False) -> None:
    """Disable a console user: they cannot sign in, and their open sessions end."""
    found = disable_console_user(open_engine(db), user)
    if as_json:
        print_json(_shown(found))
    else:
        console.print(f"disabled {escape(found.user)} of {escape(found.member_name)}", highlight=False)


@users_app.command("list")
@handles_errors
def console_users_list(member: Annotated[str | None, typer.Option("--member", "-m", help="Only this member.")] = None,
               db: DbOption = None, as_json: JsonOption = False) -> None:
    """Show console users (member, role, state); passwords are never shown."""
    found = list_console_users(open_engine(db), member)
    if as_json:
        print_json([_shown(u) for u in found])
        return
    table = DataTable()
    for column in ("user", "member", "role", "created", "password set", "disabled"):
        table.add_column(column)
    for u in found:
        table.add_row(u.user, u.member_name, u.role, u.created_at.isoformat(timespec="seconds"),
                      u.password_set_at.isoformat(timespec="seconds"),
                      u.disabled_at.isoformat(timespec="seconds") if u.disabled_at else "")
    console.print(table)


COMMANDS: Commands = [("console", console_app)]
