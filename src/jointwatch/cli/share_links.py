"""`jointwatch share keys …` and `jointwatch share links …`: this server's signing keys and the
links to other agencies' jointwatch servers (federation, ``sharing.federation``)."""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer
from rich.markup import escape

from jointwatch.cli.consoles import DataTable
from jointwatch.cli.output import DbOption, JsonOption, console, err_console, handles_errors, print_json
from jointwatch.errors import InvalidInputError, JointwatchError
from jointwatch.sharing import SyncResult, public_key, rotate_signing_key, signing_key, sync
from jointwatch.store import LINK_ALLOWS, add_link, get_link, list_links, list_signing_keys, open_engine, set_peer_keys

keys_app = typer.Typer(help="This server's Ed25519 signing keys: give the public key to each peer, out of band.",
                       no_args_is_help=True)
links_app = typer.Typer(
    help="Links to other jointwatch servers: entries shared 'connected' go both ways, signed and checked.",
    no_args_is_help=True)


@keys_app.command("show")
@handles_errors
def share_keys_show(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Show this server's public keys (made on first use); a peer adds the current one with
    `share links add … --peer-key KEYID=BASE64`."""
    engine = open_engine(db)
    current = signing_key(engine)
    keys = [{"key_id": k.key_id, "public_key": k.public_key, "current": k.key_id == current.key_id,
             "created_at": k.created_at, "retired_at": k.retired_at} for k in reversed(list_signing_keys(engine))]
    if as_json:
        print_json(keys)
        return
    for k in keys:
        state = "current" if k["current"] else f"retired {k['retired_at']:%Y-%m-%d}"
        console.print(f"{k['key_id']}={k['public_key']}  ({state})", highlight=False, soft_wrap=True)


@keys_app.command("rotate")
@handles_errors
def share_keys_rotate(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Make a new signing key; the old one is retired (kept). Give the new key to every peer
    (`share links keys NAME --peer-key …` there) before bundles signed with it are refused."""
    key = rotate_signing_key(open_engine(db))
    if as_json:
        print_json({"key_id": key.key_id, "public_key": key.public_key})
        return
    typer.echo(f"{key.key_id}={key.public_key}")


def _peer_keys(given: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in given:
        key_id, sep, value = item.partition("=")
        if not sep or not key_id.strip():
            raise InvalidInputError(f"--peer-key {item[:80]!r}: expected KEYID=BASE64")
        try:
            public_key(value.strip())
        except ValueError as error:
            raise InvalidInputError(f"--peer-key {key_id.strip()}: {error}") from None
        out[key_id.strip()] = value.strip()
    if not out:
        raise InvalidInputError("--peer-key: give the peer's public key (from `share keys show` there)")
    return out


PeerKeyOption = Annotated[list[str], typer.Option(
    "--peer-key", help="The peer's public key as KEYID=BASE64 (`share keys show` on the peer); repeatable.")]


@links_app.command("add")
@handles_errors
def share_links_add(
    name: Annotated[str, typer.Argument(help="What this server calls the peer, e.g. 'agency-b'; entries from "
                                             "it are originated 'member@agency-b'.")],
    peer_key: PeerKeyOption,
    url: Annotated[str | None, typer.Option("--url", help="The peer's service, e.g. https://jw.agency-b.example; "
                                                          "none: only the peer syncs.")] = None,
    allow: Annotated[str, typer.Option("--allow", help="What the peer's 'connected' entries become here: server "
                                                       "(this server only; MISP's downgrade) or connected (passed "
                                                       "on over our other links).")] = "server",
    api_key: Annotated[str | None, typer.Option("--api-key", help="The key the peer gave us to reach it "
                                                                  "(a 'peer' key made by its `share links add`).")]
    = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Link to another jointwatch server and print the key the peer must use to reach us (shown once).

    The peer runs the same command with our public key and this printed key as --api-key."""
    if allow not in LINK_ALLOWS:
        raise InvalidInputError(f"--allow {allow!r}: one of {', '.join(LINK_ALLOWS)}")
    link, secret = add_link(open_engine(db), name, url, _peer_keys(peer_key), allow, api_key)
    if as_json:
        print_json({"name": link.name, "url": link.url, "allow": link.allow, "key": secret})
        return
    err_console.print(f"link {escape(link.name)} ({link.allow}); the peer must present this key to us "
                      "(it cannot be shown again):", highlight=False)
    typer.echo(secret)


@links_app.command("keys")
@handles_errors
def share_links_keys(name: Annotated[str, typer.Argument(help="The link's name.")], peer_key: PeerKeyOption,
               db: DbOption = None) -> None:
    """Replace the peer's public keys after it rotated (give the old and the new until it stops using the old)."""
    engine = open_engine(db)
    link = set_peer_keys(engine, get_link(engine, name).id, _peer_keys(peer_key))
    console.print(f"link {escape(link.name)}: keys {', '.join(link.peer_keys)}", highlight=False)


@links_app.command("list")
@handles_errors
def share_links_list(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Show the links: where each peer is, its keys, what its entries become here, and how far each direction got."""
    links = list_links(open_engine(db))
    rows: list[dict[str, Any]] = [{"name": k.name, "url": k.url, "allow": k.allow, "peer_keys": sorted(k.peer_keys),
             "pushed_seq": k.pushed_seq, "pulled_seq": k.pulled_seq, "status": k.status,
             "created_at": k.created_at} for k in links]
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print("No links.")
        return
    table = DataTable()
    for column in ("link", "url", "allow", "peer keys", "pushed", "pulled"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(r["name"], r["url"] or "", r["allow"], ", ".join(r["peer_keys"]), str(r["pushed_seq"]),
                      str(r["pulled_seq"]))
    console.print(table)


def _said(result: SyncResult) -> dict[str, object]:
    return {"link": result.link, "received_new": sum(r.new for r in result.pulled),
            "received_updated": sum(r.updated for r in result.pulled), "sent": result.sent_entries,
            "bytes_sent": result.bytes_sent, "bytes_received": result.bytes_received,
            "request_events": result.request_events}


@links_app.command("sync")
@handles_errors
def share_links_sync(
    name: Annotated[str | None, typer.Argument(help="The link to sync; none: every link with a URL.")] = None,
    every: Annotated[float | None, typer.Option(
        "--every", min=1.0, help="Keep syncing, every this many seconds (a failed sync is retried next time).")]
    = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Pull what the peer has for us and push what it may have from us, since the last checkpoints."""
    engine = open_engine(db)
    while True:
        # every --every seconds from the start of one round to the next (not after it): the delay
        # until a change reaches the peer is at most the interval plus one sync
        started = time.monotonic()
        names = [name] if name else [k.name for k in list_links(engine) if k.url]
        for link_name in names:
            try:
                said = _said(sync(engine, link_name))
            except JointwatchError as error:  # refused or unreachable: said, and tried again next round
                if every is None:
                    raise
                err_console.print(f"link {escape(link_name)}: {escape(str(error))}", highlight=False)
                continue
            if as_json:
                print_json(said)
            else:
                console.print(f"link {escape(link_name)}: received {said['received_new']} new, "
                              f"{said['received_updated']} updated; sent {said['sent']}", highlight=False)
        if every is None:
            return
        time.sleep(max(0.0, started + every - time.monotonic()))
