"""TAXII 2.1 as OpenCTI or MISP would pull it: ``taxii2-client`` against a real ``jointwatch serve``
process on a loopback port, with HTTP Basic credentials (the API key as the password).

Discovery, API root, the collections per audience, objects paged with ``limit``/``next``,
``added_after``, the manifest; and the leak property: no member receives, from any collection,
an entry it may not pass on."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import stix2
from sqlalchemy import Engine
from taxii2client.v21 import ApiRoot, Collection, Server, as_pages

from jointwatch.releasability import Labels
from jointwatch.sharing import EXTENSION_ID, EntryInput, edit_entry, exportable, share_entry, withdraw_entry
from jointwatch.store import (
    add_member,
    create_group,
    create_key,
    get_entry,
    open_engine,
    set_group_member,
    sharing_events_of,
)
from tests.serving import free_port

REASON = "UNSCR 1373 op. 2(c)"
BIN = Path(sys.executable).parent


@dataclass
class Service:
    url: str
    engine: Engine
    keys: dict[str, str]           # member name -> analyst key
    screener_key: str
    members: dict[str, int]
    refs: dict[str, str]


def _wait(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            urllib.request.urlopen(url + "/health", timeout=5).close()
            return
        except urllib.error.HTTPError:
            return                     # up, only not healthy (no lists loaded): TAXII does not need them
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"jointwatch serve did not start: {log.read_text(errors='replace')[-2000:]}")


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    tmp = tmp_path_factory.mktemp("taxii")
    db = tmp / "t.db"
    engine = open_engine(str(db), create=True)
    members = {name: add_member(engine, name).id for name in ("police-a", "service-b", "agency-c")}
    keys = {name: create_key(engine, member_id, "analyst1", "analyst")[1] for name, member_id in members.items()}
    screener_key = create_key(engine, members["service-b"], "robot", "screener")[1]
    a, b = members["police-a"], members["service-b"]
    group = create_group(engine, "neighbours", a)
    set_group_member(engine, group.id, b, True)

    def person(name: str, **extra: list[str]) -> EntryInput:
        return EntryInput("Person", {"name": [name], **extra})

    refs = {
        "group": share_entry(engine, a, "o1", person("Group Person", birthDate=["1980-04-12"]),
                             Labels("group", (group.id,), "amber", ("consent-before-action",), REASON)).ref,
        "red": share_entry(engine, a, "o1", person("Red Person"), Labels("members", (b,), "red", (), REASON)).ref,
        "to_b": share_entry(engine, a, "o1", person("Named Person"),
                            Labels("members", (b,), "green", (), REASON)).ref,
        "nfd": share_entry(engine, a, "o1", person("Nfd Person"),
                           Labels("server", (), "amber", ("no-further-dissemination",), REASON)).ref,
        "own_a": share_entry(engine, a, "o1", person("Own Person"), Labels("originator", (), "amber", (), REASON)).ref,
        "own_b": share_entry(engine, b, "o2", EntryInput("Company", {"name": ["B Trading LLC"]}),
                             Labels("originator", (), "amber", (), REASON)).ref,
        "vessel": share_entry(engine, a, "o1", EntryInput("Vessel", {"name": ["MV Example Star"]}),
                              Labels("connected", (), "clear", (), REASON)).ref,
    }
    for i in range(7):
        refs[f"server{i}"] = share_entry(engine, a, "o1", EntryInput("Organization", {"name": [f"Server Org {i}"]}),
                                         Labels("server", (), "green", (), REASON)).ref
    withdrawn = share_entry(engine, a, "o1", person("Gone Person"), Labels("server", (), "green", (), REASON))
    withdraw_entry(engine, withdrawn.ref, a, "o1", "delisted")
    refs["withdrawn"] = withdrawn.ref
    port = free_port()
    log = tmp / "serve.log"
    env = {**os.environ, "JOINTWATCH_CACHE": str(tmp / "cache")}
    with log.open("wb") as out:
        process = subprocess.Popen([str(BIN / "jointwatch"), "serve", "--db", str(db), "--host", "127.0.0.1",
                                    "--port", str(port), "--rate-per-second", "0"],
                                   stdout=out, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(url, process, log)
        yield Service(url, engine, keys, screener_key, members, refs)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        engine.dispose()


def _root(service: Service, member: str) -> ApiRoot:
    server = Server(f"{service.url}/taxii2/", user="anyone", password=service.keys[member])
    assert server.title == "jointwatch"
    (root,) = server.api_roots
    assert root.url == f"{service.url}/taxii2/api/"
    return root


def _pull(collection: Collection, per_request: int = 0, **filters: object) -> list[dict[str, object]]:
    objects: list[dict[str, object]] = []
    for envelope in as_pages(collection.get_objects, per_request=per_request, **filters):
        objects.extend(envelope.get("objects", []))
    return objects


def _refs(objects: list[dict[str, object]]) -> set[str]:
    return {o["extensions"][EXTENSION_ID]["ref"] for o in objects  # type: ignore[index]
            if EXTENSION_ID in o.get("extensions", {})}  # type: ignore[operator]


def test_discovery_collections_and_paged_objects(service: Service) -> None:
    root = _root(service, "service-b")
    assert "application/taxii+json;version=2.1" in root.versions
    by_title = {c.title: c for c in root.collections}
    assert set(by_title) == {"group neighbours", "server", "mine"}
    assert all(c.can_read and not c.can_write for c in root.collections)
    envelopes = list(as_pages(by_title["server"].get_objects, per_request=4))
    assert len(envelopes) > 3 and all(len(e["objects"]) == 4 for e in envelopes[:-1])
    objects = [o for e in envelopes for o in e["objects"]]
    bundle = stix2.parse({"type": "bundle", "id": "bundle--0e9f8d4c-1d7b-4c5e-9f6a-2b3c4d5e6f70",
                          "objects": objects}, allow_custom=True)
    assert {o.type for o in bundle.objects} >= {"marking-definition", "extension-definition", "identity",
                                                "infrastructure"}
    refs = _refs(objects)
    assert refs == {service.refs["vessel"], service.refs["withdrawn"], *(service.refs[f"server{i}"] for i in range(7))}
    gone = next(o for o in objects if o.get("extensions", {}).get(EXTENSION_ID, {}).get("ref")
                == service.refs["withdrawn"])
    assert gone["revoked"] is True
    assert _refs(_pull(by_title["group neighbours"])) == {service.refs["group"]}
    assert _refs(_pull(by_title["mine"])) == {service.refs["own_b"]}
    manifest = by_title["server"].get_manifest()
    assert {m["media_type"] for m in manifest["objects"]} == {"application/stix+json;version=2.1"}
    only = _pull(by_title["server"], **{"type": "infrastructure"})
    assert [o["type"] for o in only] == ["infrastructure"]
    # what a pull passed on is on the entry's trail, for its originator to see
    vessel = get_entry(service.engine, service.refs["vessel"])
    assert vessel is not None
    trail = [(e.action, e.counterpart, e.member_id) for e in sharing_events_of(service.engine, [vessel.id])]
    assert ("exported", "taxii server", service.members["service-b"]) in trail


def test_added_after_gives_only_what_changed(service: Service) -> None:
    root = _root(service, "service-b")
    server = next(c for c in root.collections if c.title == "server")
    response = requests.get(server.objects_url, auth=("x", service.keys["service-b"]),
                            headers={"Accept": "application/taxii+json;version=2.1"}, timeout=30)
    assert response.headers["Content-Type"] == "application/taxii+json;version=2.1"
    last = response.headers["X-TAXII-Date-Added-Last"]
    time.sleep(0.01)
    edit_entry(service.engine, service.refs["server3"], service.members["police-a"], "o1", "new alias",
               data=EntryInput("Organization", {"name": ["Server Org 3"], "alias": ["SO3"]}))
    changed = _pull(server, added_after=last)
    assert [o["extensions"][EXTENSION_ID]["ref"] for o in changed] == [service.refs["server3"]]  # type: ignore[index]
    assert changed[0]["extensions"][EXTENSION_ID]["aliases"] == ["SO3"]  # type: ignore[index]


def test_no_member_receives_what_it_may_not_pass_on(service: Service) -> None:
    for member in ("police-a", "service-b", "agency-c"):
        root = _root(service, member)
        allowed = {e.ref for e in exportable(service.engine, service.members[member])}
        received: set[str] = set()
        for collection in root.collections:
            received |= _refs(_pull(collection, per_request=5))
        assert received <= allowed, member
    assert service.refs["red"] not in allowed and service.refs["nfd"] not in allowed  # agency-c, and for b:
    b_received: set[str] = set()
    for collection in _root(service, "service-b").collections:
        b_received |= _refs(_pull(collection))
    assert not b_received & {service.refs["red"], service.refs["nfd"], service.refs["own_a"]}
    # agency-c is in no group: the group's collection is not there, and its id answers 404
    titles = {c.title for c in _root(service, "agency-c").collections}
    assert titles == {"server", "mine"}
    group_id = next(c.id for c in _root(service, "service-b").collections if c.title == "group neighbours")
    answer = requests.get(f"{service.url}/taxii2/api/collections/{group_id}/objects/",
                          auth=("x", service.keys["agency-c"]), timeout=30)
    missing = requests.get(f"{service.url}/taxii2/api/collections/00000000-0000-4000-8000-000000000000/objects/",
                           auth=("x", service.keys["agency-c"]), timeout=30)
    assert answer.status_code == missing.status_code == 404 and answer.json()["detail"].startswith("no collection")


def test_keys_and_rights(service: Service) -> None:
    url = f"{service.url}/taxii2/"
    assert requests.get(url, auth=("x", "wrong"), timeout=30).status_code == 401
    assert requests.get(url, timeout=30).status_code == 401
    assert requests.get(url, auth=("x", service.screener_key), timeout=30).status_code == 403
    bearer = {"Authorization": f"Bearer {service.keys['agency-c']}"}
    assert requests.get(url, headers=bearer, timeout=30).status_code == 200
    # Basic is for TAXII clients only: elsewhere it is no key at all
    assert requests.get(f"{service.url}/shared/entries", auth=("x", service.keys["agency-c"]),
                        timeout=30).status_code == 401
    exported = requests.get(f"{service.url}/shared/export?format=stix", headers=bearer, timeout=30)
    assert exported.status_code == 200
    assert _refs(exported.json()["objects"]) == {e.ref for e in exportable(service.engine,
                                                                          service.members["agency-c"])}


def test_import_over_the_api(service: Service) -> None:
    bearer = {"Authorization": f"Bearer {service.keys['agency-c']}"}
    body = b'{"id": "ext-1", "schema": "Person", "properties": {"name": ["Api Imported"], "birthDate": ["1975"]}}\n'
    url = f"{service.url}/shared/import?format=ftm&distribution=server&tlp=green&name=partner.ftm"
    first = requests.post(url, data=body, headers=bearer, timeout=30)
    assert first.status_code == 200, first.text
    assert len(first.json()["added"]) == 1
    again = requests.post(url, data=body, headers=bearer, timeout=30).json()
    assert again["added"] == [] and again["unchanged"] == 1
    bad = requests.post(url, data=body + b"{nope\n", headers=bearer, timeout=30)
    assert bad.status_code == 422 and "partner.ftm line 2" in bad.json()["detail"]
