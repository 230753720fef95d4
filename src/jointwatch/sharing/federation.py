"""Federation: partner entries pushed to and pulled from connected jointwatch servers in
signed bundles, each agency keeping its own store.

A bundle is ``{bundle_id, from, key_id, created, seq_from, seq_to, entries}`` as canonical
JSON, signed with Ed25519 (``sharing.signing``); it travels as ``{"bundle": <that text>,
"signature": <base64>}``. The receiver checks the key (one of the link's, exchanged out of
band), the signature, the time and that the bundle was never accepted before, and only then
reads the entries; any failure is ``BundleRefusedError``, put on the sharing trail, and
nothing is stored.

What goes out over a link is what ``releasability`` lets the link's member see and pass on:
entries with distribution ``connected``, ours or come through a link that allows
``connected`` (one received as ``server`` was downgraded on arrival, so it goes no further),
changed after the link's checkpoint, withdrawals and edits included, in order of change.
What comes in keeps its reference and version, is downgraded by the link's ``allow``, and is
applied only when newer than what is stored: the same bundle content applied twice changes
nothing, so a retry after any failure simply resends from the checkpoint.
"""

from __future__ import annotations

import json
import re
import secrets
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from jointwatch.errors import BundleRefusedError, ConflictError, FetchError, InvalidInputError
from jointwatch.releasability import Labels, Recipient, downgraded, may_pass_on
from jointwatch.sharing.entries import _caption, clean_entity
from jointwatch.sharing.records import EntryRecord, from_record, to_record
from jointwatch.sharing.signing import canonical, sign, signing_key, verify
from jointwatch.store import (
    Engine,
    FederationLink,
    NewEntry,
    NewEvent,
    StoredEntry,
    claim_bundle,
    entry_history,
    get_entry,
    get_link,
    insert_entries,
    insert_entry,
    known_entries,
    outbound_entries,
    record_sharing_events,
    release_bundle,
    set_checkpoint,
    update_entry,
)

BUNDLE_ENTRIES = 500                 # entries per bundle: ~0.4 MB, well inside the service's body limit
MAX_BUNDLE_ENTRIES = 2000
# a bundle's text stays well under the service's default body limit (1 MB; JSON escaping adds some)
MAX_BUNDLE_BYTES = 600_000
# a bundle's text is JSON inside JSON (its quotes escaped) in the answer to a pull
MAX_ANSWER_BYTES = 4 * MAX_BUNDLE_BYTES
MAX_CLOCK_SKEW = timedelta(minutes=10)   # a bundle older or newer than this is refused (with replay ids: replay-proof)
HTTP_TIMEOUT = 120.0
REFUSED = "bundle refused"
_PEER_REF = re.compile(r"sh-[0-9A-Za-z_-]{1,61}")           # the sharing trail's action for a refused bundle


@dataclass(frozen=True)
class Outgoing:
    """A signed bundle and what it holds."""

    envelope: dict[str, str]
    bundle_id: str
    seq_from: int
    seq_to: int
    entry_ids: tuple[int, ...]
    versions: tuple[str, ...]         # "v2 withdrawn", per entry, for the trail


@dataclass(frozen=True)
class Received:
    """What a bundle did here."""

    bundle_id: str
    seq_from: int
    seq_to: int
    new: int = 0
    updated: int = 0
    unchanged: int = 0                # an older or equal version than stored: skipped (retries, echoes)
    refused: int = 0                  # not ``connected``, or another's entry by reference: never stored

    def as_dict(self) -> dict[str, Any]:
        return {"bundle_id": self.bundle_id, "seq_from": self.seq_from, "seq_to": self.seq_to, "new": self.new,
                "updated": self.updated, "unchanged": self.unchanged, "refused": self.refused}


@dataclass
class SyncResult:
    """One sync of a link: both directions, with the bytes each way."""

    link: str
    pulled: list[Received] = field(default_factory=list)
    pushed: list[dict[str, Any]] = field(default_factory=list)   # the peer's answers
    sent_entries: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    request_events: int = 0           # the peer's steps on our members' requests for information, applied


def server_name() -> str:
    """What this server calls itself in bundles (informative: receivers know a peer by its link)."""
    return socket.gethostname()


def _link_user(link: FederationLink) -> str:
    return f"link:{link.name}"


# -- out ---------------------------------------------------------------------------------------

def outgoing_bundle(engine: Engine, link: FederationLink, after_seq: int, limit: int = BUNDLE_ENTRIES,
                    sender: str | None = None) -> Outgoing:
    """The next signed bundle for ``link`` after ``after_seq``: at most ``limit`` entries, those the
    link's member may see and pass on (``releasability``); ``seq_to`` is how far it got (equal to
    ``after_seq`` when nothing changed since)."""
    limit = max(1, min(limit, MAX_BUNDLE_ENTRIES))
    peer = Recipient(link.member_id, link=True)
    entries: list[StoredEntry] = []
    records: list[dict[str, Any]] = []
    seq_to, size = after_seq, 0
    for entry in outbound_entries(engine, link, after_seq, limit):
        if may_pass_on(entry.member_id, entry.labels, peer):
            record: dict[str, Any] | None = to_record(entry)
        else:
            record = _retraction(engine, entry)
        if record is not None:
            size += len(canonical(record)) + 1
            if records and size > MAX_BUNDLE_BYTES:
                break  # the rest goes in the next bundle
            entries.append(entry)
            records.append(record)
        seq_to = entry.seq
    key = signing_key(engine)
    bundle = {"bundle_id": secrets.token_hex(16), "from": sender or server_name(), "key_id": key.key_id,
              "created": datetime.now(UTC).isoformat(timespec="seconds"), "seq_from": after_seq, "seq_to": seq_to,
              "entries": records}
    text = canonical(bundle)
    return Outgoing({"bundle": text.decode("utf-8"), "signature": sign(key, text)}, str(bundle["bundle_id"]),
                    after_seq, seq_to, tuple(e.id for e in entries), tuple(f"v{e.version} {e.status}" for e in entries))


def _retraction(engine: Engine, entry: StoredEntry) -> dict[str, Any] | None:
    """An entry sent over a link before and narrowed since (its distribution no longer ``connected``):
    withdrawn at the peer, as the last version the peer was allowed to have, so nothing of the newer
    versions leaves this server. None if no version of it was ever ``connected``."""
    for version in reversed(entry_history(engine, entry.id)):
        labels = version.labels
        if labels.get("distribution") == "connected":
            expires = labels.get("expires_on")
            released = Labels("connected", (), str(labels["tlp"]), tuple(labels.get("handling", ())),
                              str(labels.get("reason", "")), date.fromisoformat(expires) if expires else None)
            return to_record(replace(entry, entity=version.entity, labels=released, status="withdrawn",
                                     schema=str(version.entity.get("schema", entry.schema))))
    return None


def note_sent(engine: Engine, link: FederationLink, out: Outgoing) -> None:
    """Put what went to ``link`` on the sharing trail: each entry (its originator sees where it went) and the bundle."""
    if not out.entry_ids:
        return
    events = [NewEvent(entry_id, None, _link_user(link), "sent", link.name, f"{version}, bundle {out.bundle_id}")
              for entry_id, version in zip(out.entry_ids, out.versions, strict=True)]
    events.append(NewEvent(None, None, _link_user(link), "sent", link.name,
                           f"bundle {out.bundle_id}: {len(out.entry_ids)} entries, seq {out.seq_from}..{out.seq_to}"))
    record_sharing_events(engine, events)


# -- in ----------------------------------------------------------------------------------------

def _refuse(engine: Engine, link: FederationLink, reason: str) -> BundleRefusedError:
    record_sharing_events(engine, [NewEvent(None, None, _link_user(link), REFUSED, link.name, reason)])
    return BundleRefusedError(reason)


def _open(link: FederationLink, envelope: Any, now: datetime) -> dict[str, Any]:
    """The bundle, once its key, signature, form and time are right; BundleRefusedError otherwise."""
    if not isinstance(envelope, Mapping) or not isinstance(envelope.get("bundle"), str) \
            or not isinstance(envelope.get("signature"), str):
        raise BundleRefusedError("not a signed bundle: expected {\"bundle\": text, \"signature\": base64}")
    text: str = envelope["bundle"]
    try:
        bundle = json.loads(text)
    except ValueError:
        raise BundleRefusedError("the bundle is not JSON") from None
    if not isinstance(bundle, dict) or not isinstance(bundle.get("key_id"), str):
        raise BundleRefusedError("the bundle names no signing key")
    verify(link.peer_keys, bundle["key_id"], text.encode("utf-8"), envelope["signature"])
    # signed, so the peer made it; still, what we read must be exactly what was signed
    if canonical(bundle) != text.encode("utf-8"):
        raise BundleRefusedError("the bundle is not canonical JSON")
    bundle_id, created = bundle.get("bundle_id"), bundle.get("created")
    if not isinstance(bundle_id, str) or not 8 <= len(bundle_id) <= 64:
        raise BundleRefusedError("the bundle has no valid bundle_id")
    if not isinstance(bundle.get("entries"), list) or not all(
            isinstance(bundle.get(k), int) for k in ("seq_from", "seq_to")):
        raise BundleRefusedError("the bundle needs entries, seq_from and seq_to")
    if len(bundle["entries"]) > MAX_BUNDLE_ENTRIES:
        raise BundleRefusedError(f"the bundle has {len(bundle['entries']):,} entries: at most "
                                 f"{MAX_BUNDLE_ENTRIES:,} are taken in one")
    try:
        when = datetime.fromisoformat(str(created))
    except ValueError:
        raise BundleRefusedError("the bundle has no valid created time") from None
    if when.tzinfo is None or abs(now - when) > MAX_CLOCK_SKEW:
        raise BundleRefusedError(f"bundle created {created}: outside {int(MAX_CLOCK_SKEW.total_seconds())} s of "
                                 "this server's clock (stale, replayed or a wrong clock)")
    return bundle


@dataclass(frozen=True)
class _Incoming:
    record: EntryRecord
    entity: dict[str, Any]
    labels: Labels
    originator: str


def _prepare(link: FederationLink, bundle: dict[str, Any]) -> tuple[list[_Incoming], list[str]]:
    """Every entry read and checked before any is stored: those to apply, and why each other was refused.

    One entry this server cannot read (another FtM version, a value it does not accept) is refused
    alone and said on the trail: the rest of the bundle still arrives, and the link is not stuck."""
    out: dict[str, _Incoming] = {}
    refused: list[str] = []
    for index, item in enumerate(bundle["entries"]):
        try:
            record = from_record(item, f"entry {index}")
            if not _PEER_REF.fullmatch(record.ref):
                # kept as it comes (the same entry on every server): it must be one a URL can name
                raise InvalidInputError(f"entry {index}: reference {record.ref[:80]!r} is not sh- and letters, "
                                        "digits, '-' or '_'")
            if record.distribution != "connected":
                # a peer sends only what may leave it; anything else is not taken in
                raise InvalidInputError(f"entry {index}: distribution {record.distribution!r}, not 'connected'")
            labels = downgraded(Labels("connected", (), record.tlp, record.handling, record.reason,
                                       record.expires_on), link.allow)
            entity = clean_entity(record.ref, record.data)
        except InvalidInputError as error:
            refused.append(str(error)[:300])
            continue
        incoming = _Incoming(record, entity, labels, _originator(record.originator, link))
        if record.ref not in out or out[record.ref].record.version < record.version:
            out[record.ref] = incoming
    return list(out.values()), refused


def _originator(claimed: str, link: FederationLink) -> str:
    """Who an entry arriving over ``link`` is from: ``member@link``. What the peer says is only its
    claim: a name that already names a server ("customs@agency-c", forwarded by a link that allows
    ``connected``) keeps it, with the link it really came through, so no peer passes its entries
    off as another link's (or as one of this server's members, whose names have no '@')."""
    name = " ".join(claimed.split())[:200] or "unknown"
    return f"{name} via {link.name}" if "@" in name else f"{name}@{link.name}"


def receive_bundle(engine: Engine, link: FederationLink, envelope: Any, now: datetime | None = None) -> Received:
    """Verify a bundle from ``link``'s peer, then apply it; BundleRefusedError (audited, nothing stored)
    when it is not the peer's, was changed, is stale or was accepted before."""
    try:
        bundle = _open(link, envelope, now or datetime.now(UTC))
    except BundleRefusedError as error:
        raise _refuse(engine, link, str(error)) from None
    if not bundle["entries"]:
        # nothing to store: not claimed and not put on the trail, so polling a quiet link every few
        # seconds costs no rows (the request itself is audited by the service)
        return Received(bundle["bundle_id"], bundle["seq_from"], bundle["seq_to"])
    incoming, refused = _prepare(link, bundle)
    if not claim_bundle(engine, link.id, bundle["bundle_id"], bundle["seq_to"]):
        raise _refuse(engine, link, f"bundle {bundle['bundle_id']} was accepted before (a replay)")
    try:
        counts = _apply(engine, link, incoming)
    except BaseException:
        release_bundle(engine, link.id, bundle["bundle_id"])  # not taken in: the same bundle may come again
        raise
    received = Received(bundle["bundle_id"], bundle["seq_from"], bundle["seq_to"],
                        refused=len(refused) + counts[3], new=counts[0], updated=counts[1], unchanged=counts[2])
    detail = (f"bundle {received.bundle_id} from {str(bundle.get('from'))[:100]}: {received.new} new, "
              f"{received.updated} updated, {received.unchanged} unchanged, {received.refused} refused")
    if refused:
        detail += "; refused: " + "; ".join(refused[:20])
    record_sharing_events(engine, [NewEvent(None, None, _link_user(link), "received", link.name, detail)])
    return received


def _apply(engine: Engine, link: FederationLink, incoming: list[_Incoming]) -> tuple[int, int, int, int]:
    """Store what is newer than here: (new, updated, unchanged, refused)."""
    known = known_entries(engine, [i.record.ref for i in incoming])
    fresh: list[_Incoming] = []
    newer: list[_Incoming] = []
    unchanged = refused = 0
    for item in incoming:
        have = known.get(item.record.ref)
        if have is None:
            fresh.append(item)
        elif have.member_id is not None or have.link_id != link.id:
            refused += 1   # ours, or another link's: a peer never overwrites an entry it did not send
        elif item.record.version <= have.version:
            unchanged += 1
        else:
            newer.append(item)
    user = _link_user(link)
    rows = [NewEntry(ref=i.record.ref, member_id=None, originator=i.originator, schema=i.record.data.schema,
                     caption=_caption(i.entity), entity=i.entity, labels=i.labels, user=user, status=i.record.status,
                     version=i.record.version, change="synced", link_id=link.id) for i in fresh]
    new = len(rows)
    if rows:
        try:
            insert_entries(engine, rows)
        except ConflictError:  # the same entries arriving meanwhile by the other direction: one by one
            new = 0
            for row in rows:
                try:
                    insert_entry(engine, ref=row.ref, member_id=None, originator=row.originator, schema=row.schema,
                                 caption=row.caption, entity=row.entity, labels=row.labels, user=user,
                                 change="synced", status=row.status, link_id=link.id, version=row.version)
                    new += 1
                except ConflictError:
                    unchanged += 1
    updated = 0
    for item in newer:
        entry = get_entry(engine, item.record.ref)
        if entry is None or entry.version >= item.record.version:
            unchanged += 1
            continue
        try:
            update_entry(engine, entry, schema=item.record.data.schema, caption=_caption(item.entity),
                         entity=item.entity, labels=item.labels, status=item.record.status, change="synced",
                         member_id=None, user=user, version=item.record.version)
            updated += 1
        except ConflictError:
            unchanged += 1
    return new, updated, unchanged, refused


# -- both ways -----------------------------------------------------------------------------------

def _client(link: FederationLink, transport: httpx.BaseTransport | None) -> httpx.Client:
    if not link.url:
        raise InvalidInputError(f"link {link.name!r} has no URL: it can only be synced by its peer")
    headers = {"Authorization": f"Bearer {link.api_key}"} if link.api_key else {}
    return httpx.Client(base_url=link.url.rstrip("/"), headers=headers, timeout=HTTP_TIMEOUT, transport=transport)


def _answer(response: httpx.Response, what: str) -> Any:
    if response.status_code == 403:
        try:
            detail = response.json().get("detail", "")
        except ValueError:
            detail = response.text[:300]
        raise BundleRefusedError(f"{what}: the peer refused: {detail}")
    if response.status_code != 200:
        raise FetchError(f"{what}: the peer answered HTTP {response.status_code}: {response.text[:300]}")
    return response.json()


def sync(engine: Engine, link: FederationLink | str, limit: int = BUNDLE_ENTRIES,
         transport: httpx.BaseTransport | None = None) -> SyncResult:
    """Push what the peer may have from us since its checkpoint, then pull what it has for us since
    ours; each checkpoint moves only after its bundle was acknowledged (push) or stored (pull), so an
    interrupted sync resends from where it was and changes nothing twice. Push first: our own
    withdrawals reach the peer without waiting for what it sends us."""
    current = get_link(engine, link) if isinstance(link, str) else link
    result = SyncResult(current.name)
    try:
        with _client(current, transport) as client:
            _push(engine, current.name, client, limit, result)
            _pull(engine, get_link(engine, current.id), client, limit, result)
        # the holders' answers to our members' requests ride on the same sync (they build on this module)
        from jointwatch.sharing.requests_remote import pull_request_events  # noqa: PLC0415
        result.request_events = pull_request_events(engine, current, transport)
    except httpx.HTTPError as error:
        raise FetchError(f"link {current.name!r}: {type(error).__name__}: {error}") from None
    return result


def _get_capped(client: httpx.Client, path: str, params: dict[str, int]) -> httpx.Response:
    """The peer's answer, read no further than ``MAX_ANSWER_BYTES``: a peer (or whatever answers at
    its URL) cannot make a sync hold an answer of any size in memory."""
    with client.stream("GET", path, params=params) as response:
        body = bytearray()
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > MAX_ANSWER_BYTES:
                raise FetchError(f"pull: the peer's answer is over {MAX_ANSWER_BYTES:,} bytes: not read")
        # decoded already (gzip and the like): only the type goes with it
        return httpx.Response(response.status_code, content=bytes(body), request=response.request,
                              headers={"content-type": response.headers.get("content-type", "application/json")})


def _pull(engine: Engine, link: FederationLink, client: httpx.Client, limit: int, result: SyncResult) -> None:
    after = link.pulled_seq
    while True:
        response = _get_capped(client, "/federation/bundles", {"after": after, "limit": limit})
        result.bytes_received += len(response.content)
        received = receive_bundle(engine, link, _answer(response, "pull"))
        result.pulled.append(received)
        if received.seq_to <= after:
            return
        set_checkpoint(engine, link.id, pulled_seq=received.seq_to)
        after = received.seq_to


def _push(engine: Engine, name: str, client: httpx.Client, limit: int, result: SyncResult) -> None:
    while True:
        link = get_link(engine, name)
        out = outgoing_bundle(engine, link, link.pushed_seq, limit)
        if out.seq_to <= link.pushed_seq:
            return
        if out.entry_ids:
            body = json.dumps(out.envelope, ensure_ascii=False).encode("utf-8")
            response = client.post("/federation/bundles", content=body,
                                   headers={"Content-Type": "application/json"})
            result.bytes_sent += len(body)
            result.pushed.append(_answer(response, "push"))
            result.sent_entries += len(out.entry_ids)
            note_sent(engine, link, out)
        set_checkpoint(engine, link.id, pushed_seq=out.seq_to)
