"""`jointwatch share …`: partner entries shared under rules, their evidence, exchange files,
sharing groups and the links to other agencies' servers."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Annotated, Any

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
    err_console,
    handles_errors,
    member_for,
    print_json,
)
from jointwatch.errors import InvalidInputError
from jointwatch.releasability import (
    DISTRIBUTIONS,
    HANDLING_CODES,
    TLP_LEVELS,
    Labels,
    handling_codes,
    is_live,
    tlp_level,
    today,
)
from jointwatch.sharing import (
    SCHEMATA,
    EntryInput,
    EntryView,
    change_group,
    edit_entry,
    from_record,
    group_named,
    share_entry,
    view_entry,
    visible_entries,
    withdraw_entry,
)
from jointwatch.store import (
    LOCAL_MEMBER,
    Engine,
    SharingGroup,
    StoredEntry,
    create_group,
    get_member,
    list_groups,
    list_members,
    open_engine,
)

share_app = typer.Typer(
    help="Share entries on terrorists with partners under a distribution, a TLP marking and handling codes; "
         "see where they went; exchange them with other tools and servers.",
    no_args_is_help=True)

groups_app = typer.Typer(
    help="Sharing groups: named sets of members an entry can be shared to (--group). Only a group's owner "
         "changes who is in it.",
    no_args_is_help=True)
share_app.add_typer(groups_app, name="groups")

_TLP_HELP = (
    "TLP 2.0 (FIRST) says how far the information may travel once received: "
    "clear: no limit; green: the community (here: this server's members); "
    "amber: the recipient organisation and its clients, on a need-to-know basis; "
    "amber+strict: the recipient organisation only; "
    "red: the named recipients only (goes with --to or --distribution originator). "
    "Distribution 'connected' leaves this server, so it needs clear, green or amber.")
_HANDLING_HELP = "Handling codes, what you ask of every recipient (shown with every hit): " + "; ".join(
    f"{code}: {meaning}" for code, meaning in HANDLING_CODES.items()) + "."
_DISTRIBUTION_HELP = (
    "Who may see and match the entry: originator (your member alone), members (the members named by --to), "
    "group (the members of the sharing group named by --group), server (every member of this server), "
    "connected (this server and the servers linked to it).")

ADD_HELP = f"""Share an entry (a person, organisation, vessel or aircraft) with partners; print its reference.

The entry is built from the options (--name, --birth-date, --passport …) or read whole from
--file, an FtM entity in JSON. How it is shared is given by its labels: the distribution
(--distribution, or --to / --group, which imply it), the TLP marking (--tlp), handling codes
(--handling) and the reason or legal basis (--reason, required). An entry stops matching the
day after --expires.

{_DISTRIBUTION_HELP}

{_TLP_HELP}

{_HANDLING_HELP}

Exit 7 for a value the rules forbid (TLP red to a whole server, 'connected' with
no-further-dissemination, an unknown member or property), 6 for an unknown --to member or
--group."""

# the entry properties the options fill: option name -> FtM property
_PROPERTIES = {"name": "name", "alias": "alias", "birth_date": "birthDate", "nationality": "nationality",
               "passport": "passportNumber", "id_number": "idNumber", "address": "address", "note": "notes"}

SchemaOption = Annotated[str | None, typer.Option(
    "--schema", "-s", help=f"What the entry is: {', '.join(SCHEMATA)}. Default Person.")]
NameOption = Annotated[list[str] | None, typer.Option(
    "--name", "-n", help="A name of the subject; repeat for more (required unless --file).")]
AliasOption = Annotated[list[str] | None, typer.Option("--alias", help="Another name it goes by; repeatable.")]
EntryBirthDateOption = Annotated[list[str] | None, typer.Option(
    "--birth-date", "--dob", help="Birth date: YYYY, YYYY-MM or YYYY-MM-DD; repeatable.")]
NationalityOption = Annotated[list[str] | None, typer.Option(
    "--nationality", help="Nationality, a country name or ISO code; repeatable.")]
PassportOption = Annotated[list[str] | None, typer.Option("--passport", help="Passport number; repeatable.")]
IdNumberOption = Annotated[list[str] | None, typer.Option("--id-number", help="Identity number; repeatable.")]
AddressOption = Annotated[list[str] | None, typer.Option("--address", help="An address, as one line; repeatable.")]
ListingOption = Annotated[list[str] | None, typer.Option(
    "--listing", help="An official listing it is the same as, source:reference (un_sc:QDi.354); repeatable.")]
FileOption = Annotated[Path | None, typer.Option(
    "--file", "-f", help="An FtM entity as JSON (id, schema, properties; listings kept), instead of the "
                         "property options.")]
DistributionOption = Annotated[str | None, typer.Option(
    "--distribution", "-d", help=f"{' | '.join(DISTRIBUTIONS)}. Default: originator, or members with --to, "
                                 "group with --group.")]
ToOption = Annotated[list[str] | None, typer.Option(
    "--to", help="A member to share with, by name or number (distribution members); repeatable.")]
GroupOption = Annotated[list[str] | None, typer.Option(
    "--group", "-g", help="A sharing group to share with, by name (distribution group); repeatable.")]
TlpOption = Annotated[str | None, typer.Option(
    "--tlp", help=f"TLP marking: {', '.join(TLP_LEVELS)} (TLP:AMBER also read). Default amber.")]
HandlingOption = Annotated[list[str] | None, typer.Option(
    "--handling", help=f"A handling code: {', '.join(HANDLING_CODES)}; repeatable.")]
ExpiresOption = Annotated[str | None, typer.Option(
    "--expires", help="The last day it matches, YYYY-MM-DD (review it before then).")]


def _member_id(engine: Engine, member: str) -> int:
    return member_for(engine, member).id


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInputError(f"--expires: {text!r} is not a date YYYY-MM-DD") from None


def _entry_input(schema: str, properties: dict[str, list[str]], listings: list[str] | None,
                 file: Path | None) -> EntryInput:
    """What to share: the FtM entity of --file, or the property options."""
    if file is not None:
        try:
            record = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as error:
            raise InvalidInputError(f"--file: {file}: not a JSON file ({error})") from None
        if isinstance(record, dict) and "id" not in record:
            record = {**record, "id": "new"}    # an entity written by hand needs no id: the entry gets its ref
        return from_record(record, str(file)).data
    if "name" not in properties:
        raise InvalidInputError("--name: an entry needs at least one name (or --file)")
    return EntryInput(schema, properties, tuple(listings or ()))


def _given_properties(values: dict[str, list[str] | None]) -> dict[str, list[str]]:
    return {_PROPERTIES[option]: list(given) for option, given in values.items() if given}


def _audience(engine: Engine, to: list[str] | None, groups: list[str] | None) -> tuple[str | None, tuple[int, ...]]:
    """The distribution --to / --group imply and the member or group ids they name."""
    if to and groups:
        raise InvalidInputError("--to and --group: share with named members or with groups, not both")
    if to:
        return "members", tuple(dict.fromkeys(get_member(engine, m).id for m in to))
    if groups:
        return "group", tuple(dict.fromkeys(group_named(engine, g).id for g in groups))
    return None, ()


def _labels(engine: Engine, base: Labels, distribution: str | None, to: list[str] | None,
            groups: list[str] | None, tlp: str | None, handling: list[str] | None, reason: str | None,
            expires: str | None) -> Labels:
    """``base`` with what the options give changed (Labels checks the combination)."""
    implied, audience = _audience(engine, to, groups)
    if distribution is not None:
        distribution = distribution.strip().lower()
        if implied and distribution != implied:
            raise InvalidInputError(f"--distribution {distribution}: --to means members, --group means group")
    chosen = distribution or implied or base.distribution
    if not audience and chosen == base.distribution:
        audience = base.audience
    changes: dict[str, Any] = {"distribution": chosen, "audience": audience}
    if tlp is not None:
        changes["tlp"] = tlp_level(tlp)
    if handling is not None:
        changes["handling"] = handling_codes(handling)
    if reason is not None:
        changes["reason"] = reason
    if expires is not None:
        changes["expires_on"] = None if expires.strip().lower() == "never" else _day(expires)
    return replace(base, **changes)


def _names(engine: Engine) -> dict[int, str]:
    return {m.id: m.name for m in list_members(engine)}


def _audience_names(engine: Engine, labels: Labels) -> list[str]:
    if labels.distribution == "members":
        names = _names(engine)
        return [names.get(a, str(a)) for a in labels.audience]
    if labels.distribution == "group":
        groups = {g.id: g.name for g in list_groups(engine)}
        return [groups.get(a, str(a)) for a in labels.audience]
    return []


def _status(entry: StoredEntry, live: bool) -> str:
    return entry.status if entry.status != "active" or live else "expired"


def _entry_json(engine: Engine, entry: StoredEntry, mine: bool, live: bool) -> dict[str, Any]:
    """An entry as --json prints it: the audience (who else got it) to its originator only."""
    labels = {k: v for k, v in entry.labels.to_dict().items() if k != "audience"}
    if mine:
        labels["audience"] = _audience_names(engine, entry.labels)
    return {"ref": entry.ref, "schema": entry.schema, "caption": entry.caption, "originator": entry.originator,
            "mine": mine, "status": _status(entry, live), "version": entry.version,
            "updated_at": entry.updated_at, **labels, "entity": entry.entity}


def _print_ref(entry: StoredEntry, what: str, as_json: bool, engine: Engine) -> None:
    if as_json:
        print_json(_entry_json(engine, entry, True, is_live(entry.status, entry.labels.expires_on, today())))
    else:
        # the ref alone on standard output, so that REF=$(jointwatch share add …) keeps it
        err_console.print(f"{what} {escape(entry.caption)}, version {entry.version}:", highlight=False)
        typer.echo(entry.ref)


@share_app.command("add", help=ADD_HELP)
@handles_errors
def share_add(
    name: NameOption = None,
    schema: SchemaOption = None,
    alias: AliasOption = None,
    birth_date: EntryBirthDateOption = None,
    nationality: NationalityOption = None,
    passport: PassportOption = None,
    id_number: IdNumberOption = None,
    address: AddressOption = None,
    note: Annotated[list[str] | None, typer.Option(
        "--note", help="A note on the subject (kept in the entity's notes); repeatable.")] = None,
    listing: ListingOption = None,
    file: FileOption = None,
    distribution: DistributionOption = None,
    to: ToOption = None,
    group: GroupOption = None,
    tlp: TlpOption = None,
    handling: HandlingOption = None,
    reason: Annotated[str, typer.Option(
        "--reason", "-r", help="Why it is shared: the legal basis, the case (required).")] = "",
    expires: ExpiresOption = None,
    member: MemberOption = LOCAL_MEMBER,
    user: UserOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    engine = open_engine(db)
    member_id = _member_id(engine, member)
    properties = _given_properties({"name": name, "alias": alias, "birth_date": birth_date,
                                    "nationality": nationality, "passport": passport, "id_number": id_number,
                                    "address": address, "note": note})
    if file is not None and (properties or listing or schema):
        raise InvalidInputError("--file: give the entity in the file or in options, not both")
    data = _entry_input(schema or "Person", properties, listing, file)
    # a stand-in reason for the base: the one given (or none, which Labels refuses) replaces it
    labels = _labels(engine, Labels(reason="-"), distribution, to, group, tlp, handling, reason, expires)
    entry = share_entry(engine, member_id, user or default_user(), data, labels)
    _print_ref(entry, "shared", as_json, engine)


@share_app.command("edit")
@handles_errors
def share_edit(
    ref: Annotated[str, typer.Argument(help="The entry's reference (sh-…).")],
    note: Annotated[str, typer.Option(
        "--note", help="What changed and why, kept in the version history (required).")] = "",
    name: Annotated[list[str] | None, typer.Option(
        "--name", "-n", help="Replace the names; repeat for more.")] = None,
    schema: SchemaOption = None,
    alias: AliasOption = None,
    birth_date: EntryBirthDateOption = None,
    nationality: NationalityOption = None,
    passport: PassportOption = None,
    id_number: IdNumberOption = None,
    address: AddressOption = None,
    subject_note: Annotated[list[str] | None, typer.Option(
        "--subject-note", help="Replace the notes on the subject; repeatable.")] = None,
    listing: ListingOption = None,
    file: FileOption = None,
    distribution: DistributionOption = None,
    to: ToOption = None,
    group: GroupOption = None,
    tlp: TlpOption = None,
    handling: HandlingOption = None,
    reason: Annotated[str | None, typer.Option("--reason", "-r", help="A new reason or legal basis.")] = None,
    expires: Annotated[str | None, typer.Option(
        "--expires", help="A new last day it matches, YYYY-MM-DD, or 'never'.")] = None,
    member: MemberOption = LOCAL_MEMBER,
    user: UserOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Change your entry: a new version with what the options give, the rest kept as it was.

    A property option replaces all the values of that property (--name twice: two names);
    --file replaces the whole entity. Only the originator edits (exit 4 for anyone else; 6
    if you may not see the entry at all, as for one that does not exist); a withdrawn entry
    is not edited: share a new one."""
    engine = open_engine(db)
    member_id = _member_id(engine, member)
    acting = user or default_user()
    current = view_entry(engine, ref, member_id, acting).entry
    given = _given_properties({"name": name, "alias": alias, "birth_date": birth_date, "nationality": nationality,
                               "passport": passport, "id_number": id_number, "address": address,
                               "note": subject_note})
    data: EntryInput | None = None
    if file is not None:
        if given or listing or schema:
            raise InvalidInputError("--file: give the entity in the file or in options, not both")
        data = _entry_input(current.schema, {}, None, file)
    elif given or listing is not None or schema:
        properties = {**current.entity.get("properties", {}), **given}
        listings = listing if listing is not None else current.entity.get("listings", [])
        data = _entry_input(schema or current.schema, properties, listings, None)
    labels = _labels(engine, current.labels, distribution, to, group, tlp, handling, reason, expires)
    entry = edit_entry(engine, ref, member_id, acting, note, data, labels, expected_version=current.version)
    _print_ref(entry, "edited", as_json, engine)


@share_app.command("withdraw")
@handles_errors
def share_withdraw(
    ref: Annotated[str, typer.Argument(help="The entry's reference (sh-…).")],
    reason: Annotated[str, typer.Option("--reason", "-r", help="Why it is withdrawn (required).")] = "",
    member: MemberOption = LOCAL_MEMBER,
    user: UserOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Withdraw your entry: it stops matching everywhere at the next request, and stays readable as withdrawn.

    Nothing is deleted: the recipients see it withdrawn, with its history kept."""
    engine = open_engine(db)
    entry = withdraw_entry(engine, ref, _member_id(engine, member), user or default_user(), reason)
    _print_ref(entry, "withdrew", as_json, engine)


@share_app.command("list")
@handles_errors
def share_list(
    mine: Annotated[bool, typer.Option("--mine", help="Only the entries your member shared.")] = False,
    all_statuses: Annotated[bool, typer.Option(
        "--all-statuses", help="Withdrawn entries too (by default only active ones).")] = False,
    member: MemberOption = LOCAL_MEMBER,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show the entries your member may see: its own and those partners shared with it."""
    engine = open_engine(db)
    member_id = _member_id(engine, member)
    entries = visible_entries(engine, member_id, mine_only=mine, include_withdrawn=all_statuses)
    day = today()
    rows = [(e, e.member_id == member_id, is_live(e.status, e.labels.expires_on, day)) for e in entries]
    if as_json:
        print_json([{k: v for k, v in _entry_json(engine, e, mine_, live).items() if k != "entity"}
                    for e, mine_, live in rows])
        return
    if not rows:
        console.print("No partner entries.")
        return
    table = DataTable()
    for column in ("ref", "schema", "name", "originator", "distribution", "tlp", "handling", "status", "version",
                   "expires"):
        table.add_column(column, overflow="fold")
    for e, _mine, live in rows:
        table.add_row(e.ref, e.schema, e.caption, e.originator, e.labels.distribution, e.labels.tlp,
                      ", ".join(e.labels.handling), _status(e, live), str(e.version),
                      e.labels.expires_on.isoformat() if e.labels.expires_on else "")
    console.print(table)


def _show_json(engine: Engine, view: EntryView) -> dict[str, Any]:
    out = _entry_json(engine, view.entry, view.mine, view.live)
    out["may_pass_on"] = view.may_pass_on
    if view.mine:
        names = _names(engine)
        out["history"] = view.history
        out["trail"] = [{**{k: getattr(ev, k) for k in ("action", "user", "counterpart", "detail", "at")},
                         "member": names.get(ev.member_id, "") if ev.member_id is not None else ""}
                        for ev in view.trail]
    return out


@share_app.command("show")
@handles_errors
def share_show(
    ref: Annotated[str, typer.Argument(help="The entry's reference (sh-…).")],
    member: MemberOption = LOCAL_MEMBER,
    user: UserOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show an entry: its properties, labels and status; to its originator also its versions and its trail
    (where it went, who viewed it, who matched it).

    Your reading it is put on its trail. Exit 6 for an entry your member may not see, exactly as
    for one that does not exist."""
    engine = open_engine(db)
    view = view_entry(engine, ref, _member_id(engine, member), user or default_user())
    if as_json:
        print_json(_show_json(engine, view))
        return
    e, labels = view.entry, view.entry.labels
    console.print(f"[bold]{escape(e.caption)}[/] ({e.schema}) {e.ref}, version {e.version}: "
                  f"{_status(e, view.live)}", highlight=False)
    lines = [("originator", e.originator), ("distribution", labels.distribution)]
    if view.mine and labels.audience:
        lines.append(("audience", ", ".join(_audience_names(engine, labels))))
    lines += [("tlp", labels.tlp.upper()),
              ("handling", "; ".join(f"{h} ({HANDLING_CODES[h]})" for h in labels.handling) or "none"),
              ("reason", labels.reason), ("expires", labels.expires_on.isoformat() if labels.expires_on else "never"),
              ("may pass on", "yes" if view.may_pass_on else "no")]
    for prop, values in sorted(e.entity.get("properties", {}).items()):
        lines.append((prop, "; ".join(values)))
    if e.entity.get("listings"):
        lines.append(("listings", ", ".join(e.entity["listings"])))
    for key, value in lines:
        console.print(f"  {key}: {escape(str(value))}", highlight=False)
    if not view.mine:
        return
    history = DataTable(title="Versions")
    for column in ("version", "change", "at", "user", "note"):
        history.add_column(column, overflow="fold")
    for v in view.history:
        history.add_row(str(v.version), v.change, v.at.isoformat(timespec="seconds"), v.user, v.note)
    console.print(history)
    names = _names(engine)
    trail = DataTable(title="Trail")
    for column in ("at", "action", "member", "user", "to", "detail"):
        trail.add_column(column, overflow="fold")
    for ev in view.trail:
        trail.add_row(ev.at.isoformat(timespec="seconds"), ev.action,
                      names.get(ev.member_id, "") if ev.member_id is not None else "", ev.user, ev.counterpart,
                      ev.detail)
    console.print(trail)


def _group_json(group: SharingGroup, names: dict[int, str]) -> dict[str, Any]:
    return {"name": group.name, "owner": names.get(group.owner_member_id, str(group.owner_member_id)),
            "members": [names.get(m, str(m)) for m in group.member_ids]}


@groups_app.command("add")
@handles_errors
def share_groups_add(
    name: Annotated[str, typer.Argument(help="The group's name, e.g. 'Schengen border police'.")],
    member: MemberOption = LOCAL_MEMBER,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a sharing group owned by your member (its first member); add others with `share groups join`."""
    engine = open_engine(db)
    group = create_group(engine, name, _member_id(engine, member))
    if as_json:
        print_json(_group_json(group, _names(engine)))
    else:
        console.print(f"sharing group {escape(group.name)}", highlight=False)


@groups_app.command("list")
@handles_errors
def share_groups_list(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Show every sharing group, its owner and its members."""
    engine = open_engine(db)
    names = _names(engine)
    groups = [_group_json(g, names) for g in list_groups(engine)]
    if as_json:
        print_json(groups)
        return
    table = DataTable()
    for column in ("group", "owner", "members"):
        table.add_column(column, overflow="fold")
    for g in groups:
        table.add_row(g["name"], g["owner"], ", ".join(g["members"]))
    console.print(table)


def _change(name: str, who: str, member: str, db: str | None, as_json: bool, present: bool) -> None:
    engine = open_engine(db)
    group = change_group(engine, name, who, _member_id(engine, member), present)
    if as_json:
        print_json(_group_json(group, _names(engine)))
    else:
        console.print(f"{escape(who)} {'joined' if present else 'left'} {escape(group.name)}", highlight=False)


GroupArgument = Annotated[str, typer.Argument(help="The group's name.")]
WhoArgument = Annotated[str, typer.Argument(help="The member, by name or number.")]


@groups_app.command("join")
@handles_errors
def share_groups_join(name: GroupArgument, who: WhoArgument, member: MemberOption = LOCAL_MEMBER,
                      db: DbOption = None, as_json: JsonOption = False) -> None:
    """Add a member to your group: from its next read on it sees the entries shared to the group.

    Only the group's owner (--member) adds and removes members: exit 4 for anyone else."""
    _change(name, who, member, db, as_json, True)


@groups_app.command("leave")
@handles_errors
def share_groups_leave(name: GroupArgument, who: WhoArgument, member: MemberOption = LOCAL_MEMBER,
                       db: DbOption = None, as_json: JsonOption = False) -> None:
    """Take a member out of your group: from its next read on it no longer sees the group's entries.

    Only the group's owner (--member) does this (exit 4 for anyone else); the owner stays in."""
    _change(name, who, member, db, as_json, False)


# Sub-groups (evidence, groups, links, keys, export/import) are added below by their modules.

COMMANDS: Commands = [("share", share_app)]

from jointwatch.cli.share_evidence import evidence_app  # noqa: E402 - mounted last, by its own module

share_app.add_typer(evidence_app, name="evidence")

from jointwatch.cli.share_links import keys_app, links_app  # noqa: E402 - mounted last, by its own module

share_app.add_typer(keys_app, name="keys")
share_app.add_typer(links_app, name="links")

from jointwatch.cli.share_exchange import share_export, share_import  # noqa: E402 - mounted last, by its own module

share_app.command("export")(share_export)
share_app.command("import")(share_import)
