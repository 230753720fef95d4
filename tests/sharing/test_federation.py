"""Federation between two jointwatch servers, each agency its own store (issue 16, item 5).

The rules first, in one process over two stores (signed bundles, verify-before-store, replay,
MISP's downgrade, what may travel, idempotence); then the whole of it with two real
`jointwatch serve` processes on loopback: an entry shared 'connected' on A hits in /match on B
with its originator and handling code, its edit and its withdrawal follow, and a tampered or
replayed bundle is refused and audited.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from jointwatch.cli import app as cli_app
from jointwatch.errors import BundleRefusedError
from jointwatch.releasability import Labels
from jointwatch.sharing import (
    EntryInput,
    canonical,
    edit_entry,
    note_sent,
    outgoing_bundle,
    receive_bundle,
    rotate_signing_key,
    share_entry,
    signing_key,
    withdraw_entry,
)
from jointwatch.sharing.signing import sign
from jointwatch.store import (
    FederationLink,
    add_link,
    add_member,
    create_key,
    get_entry,
    get_link,
    list_signing_keys,
    load_list,
    open_engine,
    sharing_generation,
)
from tests.conftest import UN_FILE
from tests.serving import free_port

BIRTH = "1976-05-17"
REASON = "Europol SIENA 2026/214, art. 3 EU 2017/541"


def _person(name: str, passport: str = "K1234567") -> EntryInput:
    return EntryInput("Person", {"name": [name], "birthDate": [BIRTH], "nationality": ["sy"],
                                 "passportNumber": [passport]})


def _labels(distribution: str = "connected", audience: tuple[int, ...] = ()) -> Labels:
    return Labels(distribution, audience, "amber", ("consent-before-action",), REASON)


def _events(engine: Engine, action: str) -> list[Any]:
    from sqlalchemy import select

    from jointwatch.store.schema import sharing_events
    with engine.connect() as connection:
        return list(connection.execute(select(sharing_events).where(sharing_events.c.action == action)))


# -- one process, two stores ------------------------------------------------------------------

class Pair:
    """Two stores linked both ways (no URLs: bundles are handed over by the test)."""

    def __init__(self, folder: Path, allow_on_b: str = "server") -> None:
        self.a = open_engine(str(folder / "a.db"), create=True)
        self.b = open_engine(str(folder / "b.db"), create=True)
        self.a_member = add_member(self.a, "border-police").id
        a_key, b_key = signing_key(self.a), signing_key(self.b)
        self.a_to_b, _ = add_link(self.a, "agency-b", None, {b_key.key_id: b_key.public_key})
        self.b_from_a, _ = add_link(self.b, "agency-a", None, {a_key.key_id: a_key.public_key}, allow_on_b)

    def share(self, name: str, distribution: str = "connected") -> str:
        audience = (self.a_member,) if distribution == "members" else ()
        return share_entry(self.a, self.a_member, "officer", _person(name), _labels(distribution, audience)).ref

    def send(self, after: int = 0) -> dict[str, str]:
        return outgoing_bundle(self.a, self.a_to_b, after).envelope


@pytest.fixture
def pair(tmp_path: Path) -> Pair:
    return Pair(tmp_path)


def test_a_connected_entry_arrives_downgraded_with_its_originator_and_handling(pair: Pair) -> None:
    ref = pair.share("Abu Harith al-Tunisi")
    out = outgoing_bundle(pair.a, pair.a_to_b, 0)
    received = receive_bundle(pair.b, pair.b_from_a, out.envelope)
    note_sent(pair.a, pair.a_to_b, out)     # what sync and GET /federation/bundles do once it went
    assert (received.new, received.updated, received.unchanged) == (1, 0, 0)
    entry = get_entry(pair.b, ref)
    assert entry is not None and entry.member_id is None and entry.link_id == pair.b_from_a.id
    assert entry.originator == "border-police@agency-a"
    assert entry.labels.distribution == "server"            # MISP: connected arrives as this server only
    assert entry.labels.handling == ("consent-before-action",) and entry.labels.tlp == "amber"
    assert entry.entity["properties"]["passportNumber"] == ["K1234567"]
    [event] = _events(pair.b, "received")
    assert event.counterpart == "agency-a" and "1 new" in event.detail
    sent = [e for e in _events(pair.a, "sent") if e.entry_id is not None]
    assert [e.counterpart for e in sent] == ["agency-b"]      # the originator sees where its entry went


def test_only_connected_entries_travel(pair: Pair) -> None:
    pair.share("Abu Connected Example")
    for distribution in ("originator", "members", "server"):
        pair.share(f"Abu {distribution.capitalize()} Example", distribution)
    out = outgoing_bundle(pair.a, pair.a_to_b, 0)
    records = json.loads(out.envelope["bundle"])["entries"]
    assert [r["properties"]["name"] for r in records] == [["Abu Connected Example"]]
    assert [r["jointwatch"]["distribution"] for r in records] == ["connected"]


def test_an_entry_received_as_server_goes_no_further_and_connected_goes_on(tmp_path: Path) -> None:
    for allow, travels in (("server", False), ("connected", True)):
        (tmp_path / allow).mkdir()
        pair = Pair(tmp_path / allow, allow_on_b=allow)
        ref = pair.share("Abu Onward Example")
        receive_bundle(pair.b, pair.b_from_a, pair.send())
        c_key = rotate_signing_key(open_engine(str(tmp_path / allow / "c.db"), create=True))
        b_to_c, _ = add_link(pair.b, "agency-c", None, {c_key.key_id: c_key.public_key})
        onward = json.loads(outgoing_bundle(pair.b, b_to_c, 0).envelope["bundle"])["entries"]
        assert [r["id"] for r in onward] == ([ref] if travels else [])
        # and never back over the link it came through
        assert json.loads(outgoing_bundle(pair.b, get_link(pair.b, "agency-a"), 0).envelope["bundle"])["entries"] == []


def test_edits_and_withdrawals_follow_after_the_checkpoint_and_retries_change_nothing(pair: Pair) -> None:
    ref = pair.share("Abu Edited Example")
    first = outgoing_bundle(pair.a, pair.a_to_b, 0)
    receive_bundle(pair.b, pair.b_from_a, first.envelope)
    edit_entry(pair.a, ref, pair.a_member, "officer", "second passport",
               _person("Abu Edited Example", "N7654321"))
    edited = outgoing_bundle(pair.a, pair.a_to_b, first.seq_to)
    assert [r["jointwatch"]["version"] for r in json.loads(edited.envelope["bundle"])["entries"]] == [2]
    assert receive_bundle(pair.b, pair.b_from_a, edited.envelope).updated == 1
    # a retry from an older checkpoint (the acknowledgement was lost): a new bundle, nothing changes
    generation = sharing_generation(pair.b)
    again = receive_bundle(pair.b, pair.b_from_a, pair.send(0))
    assert (again.new, again.updated, again.unchanged) == (0, 0, 1)
    assert sharing_generation(pair.b) == generation
    withdraw_entry(pair.a, ref, pair.a_member, "officer", "arrested")
    assert receive_bundle(pair.b, pair.b_from_a, pair.send(edited.seq_to)).updated == 1
    entry = get_entry(pair.b, ref)
    assert entry is not None and (entry.version, entry.status) == (3, "withdrawn")
    assert outgoing_bundle(pair.a, pair.a_to_b, edited.seq_to + 1).entry_ids == ()


def test_an_entry_narrowed_after_it_was_sent_is_withdrawn_at_the_peer_without_its_new_content(pair: Pair) -> None:
    ref = pair.share("Abu Narrowed Example")
    pair.share("Abu Never Sent Example")
    first = outgoing_bundle(pair.a, pair.a_to_b, 0)
    receive_bundle(pair.b, pair.b_from_a, first.envelope)
    note_sent(pair.a, pair.a_to_b, first)
    never = pair.share("Abu Narrowed Before Sync Example")
    edit_entry(pair.a, never, pair.a_member, "officer", "not for other servers after all",
               labels=_labels("server"))
    edit_entry(pair.a, ref, pair.a_member, "officer", "new source: this server only",
               _person("Abu Narrowed Secret-Name", "S0000001"), _labels("server"))
    out = outgoing_bundle(pair.a, pair.a_to_b, first.seq_to)
    records = json.loads(out.envelope["bundle"])["entries"]
    assert [r["id"] for r in records] == [ref]
    assert "Secret" not in out.envelope["bundle"] and "S0000001" not in out.envelope["bundle"]
    assert records[0]["jointwatch"]["status"] == "withdrawn" and records[0]["jointwatch"]["version"] == 2
    assert receive_bundle(pair.b, pair.b_from_a, out.envelope).updated == 1
    entry = get_entry(pair.b, ref)
    assert entry is not None and entry.status == "withdrawn"
    assert entry.entity["properties"]["name"] == ["Abu Narrowed Example"]
    assert get_entry(pair.b, never) is None


def _refused(pair: Pair, envelope: Any, why: str) -> None:
    generation, before = sharing_generation(pair.b), len(_events(pair.b, "bundle refused"))
    with pytest.raises(BundleRefusedError, match=why):
        receive_bundle(pair.b, pair.b_from_a, envelope)
    assert sharing_generation(pair.b) == generation           # nothing stored
    refusals = _events(pair.b, "bundle refused")
    assert len(refusals) == before + 1 and refusals[-1].counterpart == "agency-a"


def test_tampered_replayed_stale_and_foreign_bundles_are_refused_audited_and_change_nothing(pair: Pair) -> None:
    pair.share("Abu Tampered Example")
    envelope = pair.send()
    text = envelope["bundle"]
    at = text.index("Tampered")
    _refused(pair, {**envelope, "bundle": text[:at] + "X" + text[at + 1:]}, "does not verify")
    signature = bytearray(envelope["signature"].encode())
    signature[5] = ord("A") if signature[5] != ord("A") else ord("B")
    _refused(pair, {**envelope, "signature": signature.decode()}, "does not verify")
    receive_bundle(pair.b, pair.b_from_a, envelope)
    _refused(pair, envelope, "replay")
    # signed by a key the link does not have
    stranger = rotate_signing_key(pair.b)
    bundle = json.loads(text) | {"key_id": stranger.key_id, "bundle_id": "f" * 32}
    _refused(pair, {"bundle": canonical(bundle).decode(), "signature": sign(stranger, canonical(bundle))},
             "unknown key")
    # the peer's own key, but made long ago (or a replay of an old bundle under a new id)
    old = json.loads(text) | {"bundle_id": "e" * 32,
                              "created": (datetime.now(UTC) - timedelta(hours=2)).isoformat(timespec="seconds")}
    a_key = signing_key(pair.a)
    _refused(pair, {"bundle": canonical(old).decode(), "signature": sign(a_key, canonical(old))}, "outside")
    # signed, but not the canonical text (spaces): what is read must be what was signed
    loose = json.dumps(json.loads(text) | {"bundle_id": "d" * 32})
    _refused(pair, {"bundle": loose, "signature": sign(a_key, loose.encode())}, "canonical")


def test_a_peer_never_overwrites_an_entry_it_did_not_send(pair: Pair) -> None:
    b_member = add_member(pair.b, "customs").id
    mine = share_entry(pair.b, b_member, "officer", _person("Abu Local Example"), _labels("server"))
    a_key = signing_key(pair.a)
    record = {"id": mine.ref, "schema": "Person", "properties": {"name": ["Someone Else"]},
              "jointwatch": {"originator": "x", "version": 9, "status": "withdrawn", "distribution": "connected",
                             "tlp": "amber", "handling": [], "reason": "r"}}
    bundle = {"bundle_id": "c" * 32, "from": "a", "key_id": a_key.key_id,
              "created": datetime.now(UTC).isoformat(timespec="seconds"), "seq_from": 0, "seq_to": 1,
              "entries": [record]}
    received = receive_bundle(pair.b, pair.b_from_a, {"bundle": canonical(bundle).decode(),
                                                      "signature": sign(a_key, canonical(bundle))})
    assert received.refused == 1 and received.new == received.updated == 0
    kept = get_entry(pair.b, mine.ref)
    assert kept is not None and (kept.version, kept.status) == (1, "active")


def test_an_entry_this_server_cannot_read_is_refused_alone_and_the_rest_arrives(pair: Pair) -> None:
    good = pair.share("Abu Readable Example")
    a_key = signing_key(pair.a)
    bundle = json.loads(pair.send()["bundle"])
    bad = {"id": "sh-unreadable", "schema": "Person", "properties": {"name": ["X"], "birthDate": ["yesterday"]},
           "jointwatch": {"originator": "x", "version": 1, "status": "active", "distribution": "connected",
                          "tlp": "amber", "handling": [], "reason": "r"}}
    server_only = json.loads(json.dumps(bundle["entries"][0]))
    server_only["id"], server_only["jointwatch"]["distribution"] = "sh-serveronly", "server"
    bundle["entries"] += [bad, server_only]
    received = receive_bundle(pair.b, pair.b_from_a, {"bundle": canonical(bundle).decode(),
                                                      "signature": sign(a_key, canonical(bundle))})
    assert (received.new, received.refused) == (1, 2)
    assert get_entry(pair.b, good) is not None
    assert get_entry(pair.b, "sh-unreadable") is None and get_entry(pair.b, "sh-serveronly") is None
    [event] = _events(pair.b, "received")
    assert "birthDate" in event.detail and "not 'connected'" in event.detail


def test_a_rotated_key_is_kept_and_the_link_takes_the_new_one(pair: Pair) -> None:
    old = signing_key(pair.a)
    new = rotate_signing_key(pair.a)
    assert signing_key(pair.a).key_id == new.key_id
    assert [k.key_id for k in list_signing_keys(pair.a) if k.retired_at is not None] == [old.key_id]
    pair.share("Abu Rotated Example")
    with pytest.raises(BundleRefusedError, match="unknown key"):
        receive_bundle(pair.b, pair.b_from_a, pair.send())
    result = CliRunner().invoke(cli_app, ["share", "links", "keys", "agency-a", "--peer-key",
                                          f"{new.key_id}={new.public_key}", "--db", str(pair.b.url.database)])
    assert result.exit_code == 0, result.output
    assert receive_bundle(pair.b, get_link(pair.b, "agency-a"), pair.send()).new == 1


# -- two real servers -------------------------------------------------------------------------

class Server:
    def __init__(self, db: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = db.with_suffix(".log")
        command = [str(Path(sys.executable).parent / "jointwatch"), "serve", "--db", str(db), "--port",
                   str(self.port), "--max-list-age", "0", "--rate-per-second", "0"]
        self.process = subprocess.Popen(command, env=env, stdout=self.log.open("wb"), stderr=subprocess.STDOUT)

    def wait(self, timeout: float = 45.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text(errors="replace")[-2000:]
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise AssertionError(f"serve did not start: {self.log.read_text(errors='replace')[-2000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture(scope="module")
def un_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("federation")
    engine = open_engine(str(folder / "template.db"), create=True)
    from jointwatch.sources import open_list
    load_list(engine, open_list(UN_FILE, "un"))
    engine.dispose()
    return folder / "template.db"


@pytest.fixture
def servers(un_template: Path, tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    env = {**os.environ, "JOINTWATCH_CACHE": str(tmp_path / "cache")}
    for name in ("a.db", "b.db"):
        shutil.copy(un_template, tmp_path / name)
    started = [Server(tmp_path / "a.db", env), Server(tmp_path / "b.db", env)]
    try:
        for server in started:
            server.wait()
        yield started[0], started[1]
    finally:
        for server in started:
            server.stop()


def _cli(*args: str) -> str:
    result = CliRunner().invoke(cli_app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_two_servers_share_edit_and_withdraw_an_entry_and_refuse_tampered_and_replayed_bundles(
        servers: tuple[Server, Server], tmp_path: Path) -> None:
    server_a, server_b = servers
    a_db, b_db = str(tmp_path / "a.db"), str(tmp_path / "b.db")
    a, b = open_engine(a_db), open_engine(b_db)
    police = add_member(a, "border-police").id
    customs = add_member(b, "customs").id
    b_screener = create_key(b, customs, "screener-1", "screener")[1]

    # keys exchanged out of band; each side links the other
    a_key = json.loads(_cli("share", "keys", "show", "--db", a_db, "--json"))[0]
    b_key = json.loads(_cli("share", "keys", "show", "--db", b_db, "--json"))[0]
    published = httpx.get(f"{server_a.url}/federation/keys", timeout=30).json()   # public: no key needed
    assert [(k["key_id"], k["public_key"], k["current"]) for k in published] == [
        (a_key["key_id"], a_key["public_key"], True)]
    a_to_b_key = _cli("share", "links", "add", "agency-a", "--peer-key", f"{a_key['key_id']}={a_key['public_key']}",
                      "--db", b_db).strip()     # B prints the key A must present to it
    b_to_a_key = _cli("share", "links", "add", "agency-b", "--url", server_b.url, "--api-key", a_to_b_key,
                      "--peer-key", f"{b_key['key_id']}={b_key['public_key']}", "--db", a_db).strip()

    name = "Abu Khalid al-Federati"
    ref = share_entry(a, police, "officer-7", _person(name), _labels("connected")).ref
    kept_home = [share_entry(a, police, "officer-7", _person(f"Abu {d.capitalize()} al-Bayti"),
                             _labels(d, (police,) if d == "members" else ())).ref for d in ("server", "members")]

    def hits(subject: str) -> list[dict[str, Any]]:
        answer = httpx.post(f"{server_b.url}/match", json={"name": subject, "birth_date": BIRTH},
                            headers={"Authorization": f"Bearer {b_screener}"}, timeout=30)
        assert answer.status_code == 200, answer.text
        return [m for m in answer.json()["matches"] if m["source"] == "shared"]

    said = json.loads(_cli("share", "links", "sync", "agency-b", "--db", a_db, "--json"))
    assert said["sent"] == 1 and said["bytes_sent"] > 0
    [hit] = hits(name)
    assert hit["reference"] == ref
    assert hit["shared"]["originator"] == "border-police@agency-a"
    assert hit["shared"]["handling"] == ["consent-before-action"] and hit["shared"]["version"] == 1
    arrived = get_entry(b, ref)
    assert arrived is not None and arrived.labels.distribution == "server"
    for other, subject in zip(kept_home, ("Abu Server al-Bayti", "Abu Members al-Bayti"), strict=True):
        assert get_entry(b, other) is None and hits(subject) == []

    edit_entry(a, ref, police, "officer-7", "a second passport", _person(name, "N7654321"))
    _cli("share", "links", "sync", "agency-b", "--db", a_db)
    [hit] = hits(name)
    assert hit["shared"]["version"] == 2
    [listed] = json.loads(_cli("share", "links", "list", "--db", a_db, "--json"))
    assert listed["name"] == "agency-b" and listed["pushed_seq"] > 0 and listed["allow"] == "server"

    # a bundle as A's server signs it (pulled with the key B would use), handed to B: once, then replayed
    pulled = httpx.get(f"{server_a.url}/federation/bundles", params={"after": 0},
                       headers={"Authorization": f"Bearer {b_to_a_key}"}, timeout=30)
    assert pulled.status_code == 200, pulled.text
    envelope = pulled.json()
    push = {"Authorization": f"Bearer {a_to_b_key}"}
    generation = sharing_generation(b)
    text = envelope["bundle"]
    at = text.index("Federati")
    tampered = {**envelope, "bundle": text[:at] + "G" + text[at + 1:]}
    refused = httpx.post(f"{server_b.url}/federation/bundles", json=tampered, headers=push, timeout=30)
    assert refused.status_code == 403 and refused.json()["type"].endswith("bundle-refused"), refused.text
    first = httpx.post(f"{server_b.url}/federation/bundles", json=envelope, headers=push, timeout=30)
    assert first.status_code == 200 and first.json()["unchanged"] == 1, first.text
    replayed = httpx.post(f"{server_b.url}/federation/bundles", json=envelope, headers=push, timeout=30)
    assert replayed.status_code == 403 and "replay" in replayed.json()["detail"], replayed.text
    assert sharing_generation(b) == generation
    assert len(_events(b, "bundle refused")) == 2
    still = get_entry(b, ref)
    assert still is not None and still.version == 2 and "Abu Khalid al-Federati" in still.entity["properties"]["name"]
    # the screener key is no peer: 403 on the federation routes
    assert httpx.get(f"{server_b.url}/federation/bundles",
                     headers={"Authorization": f"Bearer {b_screener}"}, timeout=30).status_code == 403

    withdraw_entry(a, ref, police, "officer-7", "arrested; entry no longer needed")
    _cli("share", "links", "sync", "agency-b", "--db", a_db)
    assert hits(name) == []
    gone = get_entry(b, ref)
    assert gone is not None and gone.status == "withdrawn" and gone.version == 3
    assert isinstance(get_link(b, "agency-a"), FederationLink)
