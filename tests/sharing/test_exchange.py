"""Partner entries out and in as FtM JSON lines and STIX 2.1 bundles, read back with the real
libraries (``followthemoney``, ``stix2``): what may be passed on leaves, nothing else; imports are
all or nothing and idempotent; bad files are refused naming the place of the fault."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import stix2
from followthemoney import model
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from jointwatch.cli import app as cli_app
from jointwatch.errors import InvalidInputError
from jointwatch.releasability import Labels
from jointwatch.sharing import (
    EXTENSION_ID,
    TLP2_IDS,
    EntryInput,
    ImportChoice,
    collection_objects,
    collections_for,
    edit_entry,
    exportable,
    ftm_lines,
    import_items,
    load_page,
    read_ftm_lines,
    read_stix_bundle,
    select_page,
    share_entry,
    stix_bundle,
    visible_entries,
    withdraw_entry,
)
from jointwatch.sharing.stix import HANDLING_IDS, stix_id
from jointwatch.store import add_member, create_group, entry_history, get_entry, open_engine, set_group_member
from jointwatch.store.schema import shared_entries, sharing_events

PERSON = EntryInput("Person", {"name": ["Abu Example Al-Test"], "alias": ["Abu Ex"], "birthDate": ["1980-04-12"],
                               "nationality": ["sy"], "passportNumber": ["N1234567"],
                               "address": ["12 Rue Exemple, Damascus"]}, ("un_sc:QDi.999",))
ORG = EntryInput("Organization", {"name": ["Example Relief Front"], "country": ["iq"]})
VESSEL = EntryInput("Vessel", {"name": ["MV Example Star"], "imoNumber": ["IMO9074729"], "flag": ["pa"]})
REASON = "UNSCR 1373 op. 2(c); national designation 2026/17"


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return open_engine(str(tmp_path / "x.db"), create=True)


@pytest.fixture
def members(engine: Engine) -> dict[str, int]:
    return {name: add_member(engine, name).id for name in ("police-a", "service-b", "agency-c", "outsider-d")}


@pytest.fixture
def shared(engine: Engine, members: dict[str, int]) -> dict[str, str]:
    """Entries of police-a under every kind of label."""
    a, b = members["police-a"], members["service-b"]
    group = create_group(engine, "neighbours", a)
    set_group_member(engine, group.id, b, True)
    refs = {
        "person": share_entry(engine, a, "o1", PERSON, Labels("members", (b,), "amber", ("consent-before-action",),
                                                                REASON)).ref,
        "org": share_entry(engine, a, "o1", ORG, Labels("group", (group.id,), "green", (), REASON)).ref,
        "vessel": share_entry(engine, a, "o1", VESSEL, Labels("server", (), "clear", (), REASON)).ref,
        "red": share_entry(engine, a, "o1", EntryInput("Person", {"name": ["Red Only"]}),
                           Labels("members", (b,), "red", (), REASON)).ref,
        "nfd": share_entry(engine, a, "o1", EntryInput("Person", {"name": ["Not Further"]}),
                           Labels("server", (), "amber", ("no-further-dissemination",), REASON)).ref,
        "mine_b": share_entry(engine, b, "o2", EntryInput("Company", {"name": ["B Trading LLC"]}),
                              Labels("originator", (), "amber", (), REASON)).ref,
    }
    withdrawn = share_entry(engine, a, "o1", EntryInput("Person", {"name": ["Gone Person"]}),
                            Labels("server", (), "green", (), REASON))
    withdraw_entry(engine, withdrawn.ref, a, "o1", "delisted")
    refs["withdrawn"] = withdrawn.ref
    return refs


def _count(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(shared_entries)).scalar_one())


# -- export: what may be passed on, and nothing else -------------------------------------------------

def test_export_holds_exactly_what_the_member_may_pass_on(engine: Engine, members: dict[str, int],
                                                          shared: dict[str, str]) -> None:
    b_refs = {e.ref for e in exportable(engine, members["service-b"])}
    # red and no-further-dissemination stay with the recipient; its own entry always goes
    assert b_refs == {shared["person"], shared["org"], shared["vessel"], shared["withdrawn"], shared["mine_b"]}
    assert {e.ref for e in exportable(engine, members["service-b"], mine_only=True)} == {shared["mine_b"]}
    assert {e.ref for e in exportable(engine, members["agency-c"])} == {shared["vessel"], shared["withdrawn"]}
    # the originator passes on its own, whatever the labels
    assert shared["red"] in {e.ref for e in exportable(engine, members["police-a"])}


def test_ftm_lines_are_read_back_by_followthemoney(engine: Engine, members: dict[str, int],
                                                   shared: dict[str, str]) -> None:
    lines = list(ftm_lines(exportable(engine, members["service-b"])))
    proxies = {}
    for line in lines:
        record = json.loads(line)
        proxy = model.get_proxy(record)
        proxies[proxy.id] = (proxy, record)
    person, record = proxies[shared["person"]]
    assert person.schema.name == "Person"
    assert person.get("birthDate") == ["1980-04-12"] and person.get("passportNumber") == ["N1234567"]
    assert person.get("nationality") == ["sy"]
    assert record["listings"] == ["un_sc:QDi.999"]
    assert record["jointwatch"]["handling"] == ["consent-before-action"]
    assert proxies[shared["vessel"]][0].get("imoNumber") == ["IMO9074729"]
    assert proxies[shared["withdrawn"]][1]["jointwatch"]["status"] == "withdrawn"
    assert "audience" not in record["jointwatch"]   # member and group ids mean nothing elsewhere


def test_stix_bundle_is_valid_stix_with_extension_markings_and_revocation(engine: Engine, members: dict[str, int],
                                                                          shared: dict[str, str]) -> None:
    text = stix_bundle(exportable(engine, members["service-b"]))
    bundle = stix2.parse(text, allow_custom=True)
    objects = {o.id: o for o in bundle.objects}
    extension = objects[EXTENSION_ID]
    assert extension.type == "extension-definition" and extension.extension_types == ["property-extension"]
    assert extension.schema.startswith("https://")
    for level, marking_id in TLP2_IDS.items():
        assert objects[marking_id].name == f"TLP:{level.upper()}"
    person = objects[stix_id("identity", shared["person"])]
    assert person.identity_class == "individual" and person.name == "Abu Example Al-Test"
    assert TLP2_IDS["amber"] in person.object_marking_refs
    assert HANDLING_IDS["consent-before-action"] in person.object_marking_refs
    assert objects[HANDLING_IDS["consent-before-action"]].definition_type == "statement"
    data = person.extensions[EXTENSION_ID]
    assert data["birth_dates"] == ["1980-04-12"] and data["id_numbers"] == ["N1234567"]
    assert data["nationalities"] == ["sy"] and data["aliases"] == ["Abu Ex"]
    assert data["schema"] == "Person" and data["originator"] == "police-a"
    assert person.external_references[0].external_id == "QDi.999"
    assert objects[person.created_by_ref].name == "police-a"
    assert objects[stix_id("identity", shared["org"])].identity_class == "organization"
    vessel = objects[stix_id("infrastructure", shared["vessel"])]
    assert vessel.infrastructure_types == ["vessel"]
    gone = objects[stix_id("identity", shared["withdrawn"])]
    assert gone.revoked is True and gone.modified > gone.created
    assert stix_id("identity", shared["red"]) not in objects and stix_id("identity", shared["nfd"]) not in objects
    # ids follow the ref: a re-export after an edit updates the same object
    edit_entry(engine, shared["person"], members["police-a"], "o1", "new passport",
               data=EntryInput("Person", {**PERSON.properties, "passportNumber": ["N7654321"]}, PERSON.listings))
    again = {o.id: o for o in stix2.parse(stix_bundle(exportable(engine, members["service-b"])),
                                          allow_custom=True).objects}
    assert again[person.id].modified > person.modified and again[person.id].created == person.created


# -- import --------------------------------------------------------------------------------------------

def test_stix_round_trip_keeps_names_birth_dates_documents_and_labels(engine: Engine, members: dict[str, int],
                                                                      shared: dict[str, str]) -> None:
    text = stix_bundle(exportable(engine, members["service-b"]))
    stix2.parse(text, allow_custom=True)
    items, skipped = read_stix_bundle(text.encode(), "b.json")
    assert skipped["marking-definition"] >= 5 and skipped["extension-definition"] == 1
    c = members["agency-c"]
    report = import_items(engine, c, "o3", items, ImportChoice(), "b.json")
    assert len(report.added) == 4 and report.skipped == {"withdrawn at the source": 1}
    mine = {e.entity["properties"]["name"][0]: e for e in visible_entries(engine, c, mine_only=True)}
    person = mine["Abu Example Al-Test"]
    assert person.member_id == c and person.originator == "agency-c"
    assert person.entity["properties"]["birthDate"] == ["1980-04-12"]
    assert person.entity["properties"]["passportNumber"] == ["N1234567"]
    assert person.entity["listings"] == ["un_sc:QDi.999"]
    assert person.labels.distribution == "originator"        # the importer's default
    assert person.labels.tlp == "amber" and person.labels.handling == ("consent-before-action",)
    assert person.labels.reason == REASON
    assert mine["MV Example Star"].entity["properties"]["imoNumber"] == ["IMO9074729"]
    assert mine["Example Relief Front"].labels.tlp == "green"
    history = entry_history(engine, person.id)
    assert history[0].change == "imported" and "police-a" in history[0].note and shared["person"] in history[0].note
    # the same file again changes nothing; a changed one makes one new version
    again = import_items(engine, c, "o3", items, ImportChoice(), "b.json")
    assert again.added == [] and again.updated == [] and again.unchanged == 4
    edit_entry(engine, shared["person"], members["police-a"], "o1", "new passport",
               data=EntryInput("Person", {**PERSON.properties, "passportNumber": ["N7654321"]}, PERSON.listings))
    withdraw_entry(engine, shared["vessel"], members["police-a"], "o1", "sold")
    items2, _ = read_stix_bundle(stix_bundle(exportable(engine, members["service-b"])).encode(), "b2.json")
    third = import_items(engine, c, "o3", items2, ImportChoice(), "b2.json")
    assert third.updated == [person.ref] and len(third.withdrawn) == 1 and third.unchanged == 2
    assert get_entry(engine, person.ref).entity["properties"]["passportNumber"] == ["N7654321"]  # type: ignore[union-attr]
    assert get_entry(engine, third.withdrawn[0]).status == "withdrawn"  # type: ignore[union-attr]


def test_ftm_round_trip_and_importer_labels(engine: Engine, members: dict[str, int], shared: dict[str, str]) -> None:
    data = "".join(ftm_lines(exportable(engine, members["service-b"]))).encode()
    items = read_ftm_lines(data, "b.ftm")
    c = members["agency-c"]
    before = _count(engine)
    # what came under TLP:AMBER stays in the importer's organisation: not shared on to the whole server
    with pytest.raises(InvalidInputError, match="TLP:AMBER"):
        import_items(engine, c, "o3", items, ImportChoice("server", (), "green", ("info-only",), "our basis"), "b.ftm")
    assert _count(engine) == before  # all or nothing
    report = import_items(engine, c, "o3", items,
                          ImportChoice("originator", (), "green", ("info-only",), "our basis"), "b.ftm")
    assert len(report.added) == 4
    mine = {e.caption: e for e in visible_entries(engine, c) if e.member_id == c}
    assert set(mine) == {"Abu Example Al-Test", "Example Relief Front", "MV Example Star", "B Trading LLC"}
    assert not [e for e in visible_entries(engine, members["outsider-d"]) if e.member_id == c]
    # the record's TLP is a floor and its handling codes stay: an importer tightens, never loosens
    assert mine["Abu Example Al-Test"].labels.tlp == "amber"
    assert mine["Abu Example Al-Test"].labels.handling == ("info-only", "consent-before-action")
    assert mine["MV Example Star"].labels.tlp == "green"   # a TLP:CLEAR record, made stricter
    assert all(e.labels.reason == "our basis" for e in mine.values())
    # what came under TLP:GREEN or CLEAR may be shared on to the server
    community = [i for i in read_ftm_lines(data, "b.ftm") if i.record.tlp in ("clear", "green")]
    d = members["outsider-d"]
    shared_on = import_items(engine, d, "o4", community, ImportChoice("server", (), None, None, "our basis"), "b.ftm")
    assert len(shared_on.added) == 2
    # importing an entry of one's own export back makes a separate entry, never touches the original
    assert get_entry(engine, shared["mine_b"]).version == 1  # type: ignore[union-attr]


def test_foreign_stix_identity_becomes_an_entry(engine: Engine, members: dict[str, int]) -> None:
    person = stix2.v21.Identity(name="Foreign Person", identity_class="individual",
                                object_marking_refs=[stix2.TLP_GREEN.id])
    author = stix2.v21.Identity(name="Some CERT", identity_class="organization")
    report_obj = stix2.v21.Identity(name="Listed Org", identity_class="organization", created_by_ref=author.id)
    bundle = stix2.v21.Bundle(objects=[person, author, report_obj, stix2.TLP_GREEN])
    items, _ = read_stix_bundle(bundle.serialize().encode(), "f.json")
    assert {i.record.data.properties["name"][0] for i in items} == {"Foreign Person", "Listed Org"}
    report = import_items(engine, members["agency-c"], "o3", items, ImportChoice(), "f.json")
    assert len(report.added) == 2
    tlps = {e.caption: e.labels.tlp for e in visible_entries(engine, members["agency-c"], mine_only=True)}
    assert tlps == {"Foreign Person": "green", "Listed Org": "amber"}


@pytest.mark.parametrize(("content", "fault"), [
    (b"not json\n", "f.ftm line 2: not JSON"),
    (b'{"id": "x", "schema": "Spaceship", "properties": {"name": ["A"]}}\n', "f.ftm line 2: schema"),
    (b'{"id": "x", "schema": "Person", "properties": {"name": "A", "birthDate": ["yesterday"]}}\n',
     "f.ftm line 2: properties.birthDate"),
    (b'{"id": "x", "schema": "Person", "properties": {"name": ["' + b"A" * 5000 + b'"]}}\n',
     "f.ftm line 2: properties.name"),
    (b"[1, 2]\n", "f.ftm line 2: not a JSON object"),
    (b'{"id": "x", "schema": "Person", "properties": {"name": ["A"]}, "jointwatch": {"tlp": "purple"}}\n',
     "f.ftm line 2: jointwatch labels"),
    (b"[" * 100000 + b"]" * 100000 + b"\n", "f.ftm line 2: not JSON"),
    (b'{"id": "x", "schema": "Person", "properties": {"name": ["A"]}, "jointwatch": {"tlp": "red"}}\n',
     "f.ftm line 2: received under TLP:RED"),
    (b'{"id": "ok", "schema": "Person", "properties": {"name": ["Again"]}}\n', "f.ftm line 2: entity 'ok'"),
])
def test_bad_ftm_lines_are_refused_naming_the_line(engine: Engine, members: dict[str, int], content: bytes,
                                                   fault: str) -> None:
    good = b'{"id": "ok", "schema": "Person", "properties": {"name": ["Good One"]}, "jointwatch": {"tlp": "green"}}\n'
    with pytest.raises(InvalidInputError) as error:
        items = read_ftm_lines(good + content, "f.ftm")
        import_items(engine, members["agency-c"], "u", items, ImportChoice("server"), "f.ftm")
    assert fault in str(error.value)
    assert _count(engine) == 0   # the good line before it was not stored either


@pytest.mark.parametrize(("objects", "fault"), [
    ([{"type": "identity", "spec_version": "2.1", "id": "identity--1", "name": "X"}], "object 0"),
    ([{"type": "identity", "spec_version": "2.1", "id": "identity--a1b2c3d4-0000-4000-8000-000000000001",
       "created": "2026-01-01T00:00:00Z", "modified": "2026-01-01T00:00:00Z", "name": "X",
       "identity_class": "individual",
       "extensions": {EXTENSION_ID: {"extension_type": "property-extension", "ref": "r1", "schema": "Robot",
                                     "properties": {"name": ["X"]}}}}], "object 0: schema"),
    ([{"type": "identity", "spec_version": "2.1", "id": "identity--a1b2c3d4-0000-4000-8000-000000000002",
       "created": "2026-01-01T00:00:00Z", "modified": "2026-01-01T00:00:00Z", "name": "",
       "identity_class": "individual"}], "object 0"),
])
def test_bad_stix_is_refused_naming_the_object(engine: Engine, members: dict[str, int], objects: list[object],
                                               fault: str) -> None:
    good = stix2.v21.Identity(name="Good One", identity_class="individual")
    bundle = {"type": "bundle", "id": "bundle--a1b2c3d4-0000-4000-8000-000000000009",
              "objects": [json.loads(good.serialize()), *objects]}
    with pytest.raises(InvalidInputError) as error:
        items, _ = read_stix_bundle(json.dumps(bundle).encode(), "s.json")
        import_items(engine, members["agency-c"], "u", items, ImportChoice(), "s.json")
    assert "s.json" in str(error.value) and fault.replace("object 0", "object 1") in str(error.value)
    assert _count(engine) == 0
    with pytest.raises(InvalidInputError, match="not a STIX 2.1 bundle"):
        read_stix_bundle(b'{"type": "identity"}', "s.json")
    with pytest.raises(InvalidInputError, match="s.json: not JSON"):
        read_stix_bundle(b"\xff\xfe", "s.json")


# -- the CLI -------------------------------------------------------------------------------------------

def test_cli_export_and_import(tmp_path: Path, engine: Engine, members: dict[str, int],
                               shared: dict[str, str]) -> None:
    runner = CliRunner()
    db = str(tmp_path / "x.db")
    out = tmp_path / "b.stix.json"
    result = runner.invoke(cli_app, ["share", "export", "--format", "stix", "--output", str(out),
                                     "--member", "service-b", "--db", db])
    assert result.exit_code == 0, result.output
    stix2.parse(out.read_text(), allow_custom=True)
    ftm = tmp_path / "b.ftm.json"
    result = runner.invoke(cli_app, ["share", "export", "--output", str(ftm), "--member", "service-b", "--db", db])
    assert result.exit_code == 0, result.output
    assert len(ftm.read_text().splitlines()) == 5
    result = runner.invoke(cli_app, ["share", "import", str(out), "--member", "agency-c", "--tlp", "red",
                                     "--distribution", "server", "--db", db])
    assert result.exit_code == 7, result.output   # TLP:RED to a whole server: the rules forbid it
    result = runner.invoke(cli_app, ["share", "import", str(out), "--member", "agency-c", "--distribution", "server",
                                     "--tlp", "green", "--handling", "info-only", "--db", db])
    assert result.exit_code == 7 and "TLP:AMBER" in result.output  # received as amber: not on to the whole server
    result = runner.invoke(cli_app, ["share", "import", str(out), "--member", "agency-c",
                                     "--tlp", "green", "--handling", "info-only", "--db", db, "--json"])
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.output)["added"]) == 4
    result = runner.invoke(cli_app, ["share", "import", str(ftm), "--format", "ftm", "--member", "agency-c",
                                     "--db", db, "--json"])
    # the same entries by their refs, whatever the format: the new labels (the records' own) make new versions
    assert result.exit_code == 0 and json.loads(result.output)["added"] == []
    assert len(json.loads(result.output)["updated"]) == 4
    bad = tmp_path / "bad.json"
    bad.write_text('{"id": "x", "schema": "Person", "properties": {"name": ["A"]}}\n{oops\n')
    result = runner.invoke(cli_app, ["share", "import", str(bad), "--format", "ftm", "--member", "agency-c",
                                     "--db", db])
    assert result.exit_code == 7 and "line 2" in result.output
    with engine.connect() as connection:
        exported = connection.execute(select(func.count()).select_from(sharing_events)
                                      .where(sharing_events.c.action == "exported")).scalar_one()
    assert exported == 10   # two exports of five entries, on each entry's trail


def test_a_taxii_page_leaves_out_an_entry_made_stricter_while_it_was_cut(engine: Engine, members: dict[str, int],
                                                                          shared: dict[str, str]) -> None:
    b = members["service-b"]
    info = next(c for c in collections_for(engine, b) if c.kind == "server")
    objects = collection_objects(engine, b, info)
    vessel = stix_id("infrastructure", shared["vessel"])
    assert vessel in {o.id for o in objects}
    edit_entry(engine, shared["vessel"], members["police-a"], "o1", "now for the recipients' eyes only",
               labels=Labels("server", (), "amber+strict", (), REASON))
    page = load_page(engine, b, select_page(objects).objects)
    assert vessel not in {o.id for o in page} and page   # the rest of the page is sent
    assert all(o.obj["id"] == o.id for o in page)
