"""Entity pages and lists in a real Chromium: QDi.354's statements with their provenance, the
partner entry a partner released to the viewer's member (and only to it) with its evidence and
map, the lists in the store, and the diff of two real OFAC SDN versions checked against the two
files themselves.

Every test also fails if a page requested anything outside the service's origin (conftest),
and each page passes axe-core at "serious" and above."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import Engine

from jointwatch.errors import NotFoundError
from jointwatch.releasability import Labels
from jointwatch.sharing import EntryInput, add_evidence, share_entry, withdraw_entry
from jointwatch.sources import open_list
from jointwatch.store import StoredEntry, StoredEvidence, add_member, get_member, load_list, open_engine
from tests.conftest import OFAC_2023_03, OFAC_2023_06, UN_FILE
from tests.web.conftest import USERS, Service, axe, serve_console, sign_in, with_users
from tests.web.screenshots import LISTED_NAME, take_entity_lists

ENTITY = "/console/entities/un_sc/QDi.354"
SLOW = 180_000  # the first screening of UN + OFAC builds the index (ms)


def _listings(path: Path) -> dict[str, dict[str, list[str]]]:
    """Each reference of an OFAC file with its listed entity's properties, read by the parser alone."""
    return {r.reference: r.main.to_dict()["properties"] for r in open_list(path, "ofac-sdn").records}


@pytest.fixture(scope="module")
def ofac_service(web_tmp: Path) -> Iterator[Service]:
    """A service of its own with UN and the two OFAC SDN versions (the session's service keeps one list)."""
    engine = with_users(open_engine(str(web_tmp / "ofac.db"), create=True), USERS)
    load_list(engine, open_list(UN_FILE, "un"))
    for path in (OFAC_2023_03, OFAC_2023_06):
        load_list(engine, open_list(path, "ofac-sdn"))
    yield from serve_console(engine)
    engine.dispose()


@pytest.fixture(scope="module")
def expected_diff() -> tuple[list[str], list[str], dict[str, set[str]]]:
    """Added and removed references, and the changed properties of references in both, from the files."""
    before, after = _listings(OFAC_2023_03), _listings(OFAC_2023_06)
    changed = {}
    for ref in before.keys() & after.keys():
        fields = {p for p in before[ref].keys() | after[ref].keys()
                  if sorted(before[ref].get(p, [])) != sorted(after[ref].get(p, []))}
        if fields:
            changed[ref] = fields
    return sorted(after.keys() - before.keys()), sorted(before.keys() - after.keys()), changed


def test_entity_page_shows_every_statement_with_its_provenance(service: Service, open_console) -> None:  # type: ignore[no-untyped-def]
    watched = open_console(service)
    sign_in(watched, "ann")
    page = watched.page
    page.get_by_label("Name", exact=True).fill(LISTED_NAME)
    page.get_by_role("button", name="Screen").click()
    row = page.locator("tr.match[data-reference='QDi.354']")
    row.get_by_role("link", name="QDi.354").click()
    expect(page).to_have_url(service.origin + ENTITY)
    expect(page.locator("h1")).to_contain_text(LISTED_NAME)
    statements = page.locator("table.statements")

    def values(prop: str) -> list[str]:
        return statements.locator(f"tr.statement[data-prop='{prop}'] td.value").all_inner_texts()

    assert set(values("name")) == {LISTED_NAME, "طارق بن الطاھر بن الفالح العوني الحرزي"}
    assert values("weakAlias") == ["Abou Omar Al Tounisi"]
    assert values("birthDate") == ["1982-05-03"]
    assert values("nationality") == ["tn"]
    nationality = statements.locator("tr.statement[data-prop='nationality']")
    expect(nationality).to_contain_text("Tunisia")   # as written
    expect(nationality.locator("td.source")).to_have_text("un_sc")
    expect(nationality.locator("td.versions")).to_contain_text("2026-02-27-")
    expect(page.locator("dl.labels")).to_contain_text("listed in the newest version")
    expect(page.locator("#changes + p")).to_contain_text("Only one version of un_sc is loaded")
    expect(page.locator("nav a[aria-current='page']")).to_have_text("Lists")
    axe(page)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{overflow} px wider than a 1366×768 window"


def test_an_unknown_listing_is_not_found(service: Service, open_console) -> None:  # type: ignore[no-untyped-def]
    watched = open_console(service)
    sign_in(watched, "ann")
    for path in ("/console/entities/un_sc/QDi.999999", "/console/entities/us_ofac_sdn/QDi.354",
                 "/console/entities/un_sc/un-sc-QDi.354"):   # an entity id is not a reference
        answer = watched.page.goto(service.origin + path)
        assert answer is not None and answer.status == 404, path
        expect(watched.page.locator("main")).to_contain_text("no listing")
    axe(watched.page)
    answer = watched.page.goto(service.origin + "/console/lists/no_such_source/diff")
    assert answer is not None and answer.status == 404
    # one UN version: nothing before it to compare with, said on the diff's own form
    answer = watched.page.goto(service.origin + "/console/lists/un_sc/diff")
    assert answer is not None and answer.status == 404
    expect(watched.page.get_by_role("alert")).to_contain_text("has no version before")
    expect(watched.page.get_by_label("From")).to_be_visible()
    axe(watched.page)


def png_of(size: tuple[int, int] = (120, 80)) -> bytes:
    from PIL import Image  # noqa: PLC0415

    out = io.BytesIO()
    Image.new("RGB", size, (40, 90, 160)).save(out, "PNG")
    return out.getvalue()


def released_entry(engine: Engine) -> tuple[StoredEntry, StoredEvidence]:
    """agency-b shares QDi.354's listed name with agency-a alone (TLP:AMBER, consent before action),
    with a photograph its world file places: the 120×80 image's centre pixel (59.5, 39.5) at
    36.405 N, 10.595 E, near Tunis."""
    try:
        agency_b = get_member(engine, "agency-b")
    except NotFoundError:
        agency_b = add_member(engine, "agency-b")
    agency_a = get_member(engine, "agency-a")
    entry = share_entry(engine, agency_b.id, "bob", EntryInput("Person", {"name": [LISTED_NAME],
                                                                         "birthDate": ["1982-05-03"]}),
                        Labels("members", (agency_a.id,), "amber", ("consent-before-action",),
                               "joint investigation 2026/4"))
    evidence = add_evidence(engine, entry.ref, agency_b.id, "bob", "overflight.png", png_of(),
                            description="overflight of the address", world_file=b"0.01\n0\n0\n-0.01\n10.0\n36.8\n")
    return entry, evidence


def test_partner_entries_only_where_released(service: Service, open_console) -> None:  # type: ignore[no-untyped-def]
    engine = service.engine
    entry, evidence = released_entry(engine)
    try:
        ann = open_console(service)
        sign_in(ann, "ann")
        page = ann.page
        page.goto(service.origin + ENTITY)
        partner = page.locator(f"section.partner[data-ref='{entry.ref}']")
        expect(partner).to_contain_text("TLP:AMBER", timeout=30_000)
        expect(partner).to_contain_text("consent-before-action")
        expect(partner).to_contain_text("agency-b")
        item = partner.locator(f"li.evidence-item[data-evidence='{evidence.ref}']")
        expect(item).to_contain_text("overflight.png")
        thumb = item.locator("img.thumb")
        expect(thumb).to_be_visible()
        assert page.evaluate("img => img.naturalWidth", thumb.element_handle()) == 120
        expect(item.locator("figcaption")).to_have_text("36.4050° N, 10.5950° E")
        marker = item.locator("svg circle.marker")
        assert float(marker.get_attribute("cx") or 0) == pytest.approx(190.595)
        assert float(marker.get_attribute("cy") or 0) == pytest.approx(53.595)
        axe(page)
        thumbnail_url = f"{service.origin}/console/evidence/{evidence.ref}/thumbnail"

        # agency-c's analyst: no partner entry, and the thumbnail is "not found"
        cat = open_console(service)
        sign_in(cat, "cat")
        cat.page.goto(service.origin + ENTITY)
        expect(cat.page.locator("#partners + p")).to_contain_text("No partner entry released to agency-c")
        expect(cat.page.locator(f"section.partner[data-ref='{entry.ref}']")).to_have_count(0)
        answer = cat.page.goto(thumbnail_url)
        assert answer is not None and answer.status == 404
        # agency-a's screener sees the entry's labels (as screening shows them), not its evidence
        sam = open_console(service)
        sign_in(sam, "sam")
        sam.page.goto(service.origin + ENTITY)
        expect(sam.page.locator(f"section.partner[data-ref='{entry.ref}']")).to_contain_text("TLP:AMBER")
        expect(sam.page.locator("li.evidence-item")).to_have_count(0)
        answer = sam.page.goto(thumbnail_url)
        assert answer is not None and answer.status == 403
    finally:
        # other tests screen this name
        withdraw_entry(engine, entry.ref, get_member(engine, "agency-b").id, "bob", "test over")


def test_lists_and_the_diff_of_two_versions(ofac_service: Service, open_console, expected_diff) -> None:  # type: ignore[no-untyped-def]
    added, removed, changed = expected_diff
    watched = open_console(ofac_service)
    sign_in(watched, "sam")   # a screener may read the lists, as GET /lists allows
    page = watched.page
    page.get_by_role("link", name="Lists").click()
    un = page.locator("section.source[data-source='un_sc']")
    expect(un.locator("tr.version")).to_have_count(1)
    expect(un.locator("tr.version").first).to_contain_text("2026-02-27-")
    expect(un).to_contain_text("current")
    ofac = page.locator("section.source[data-source='us_ofac_sdn']")
    expect(ofac.locator("tr.version")).to_have_count(2)
    expect(ofac.locator("tr.version").nth(0)).to_contain_text("2023-06-05")   # newest first
    expect(ofac.locator("tr.version").nth(1)).to_contain_text("2023-03-01")
    axe(page)

    ofac.get_by_role("link", name="What changed in the newest version").click()
    expect(page.locator("p.summary")).to_contain_text(
        f"{len(added)} added, {len(removed)} removed")
    rows = page.locator("table.diff tr.listing")
    expect(rows).to_have_count(min(100, len(added)))
    expect(rows.first).to_have_attribute("data-reference", added[0])
    axe(page)
    last_page = page.locator("nav.pages a").last
    last_page.click()
    expect(page.locator(f"tr.listing[data-reference='{added[-1]}']")).to_have_count(1)

    page.get_by_role("link", name=f"removed ({len(removed)})").click()
    expect(page.locator(f"tr.listing[data-reference='{removed[0]}']")).to_have_count(1)

    page.get_by_role("link", name="changed (").click()
    # a listing whose listed entity's own properties differ between the files: the diff names them
    ref, fields = sorted(changed.items())[0]
    row = page.locator(f"tr.listing[data-reference='{ref}']")
    for name in fields:
        expect(row.locator("ul.field-changes")).to_contain_text(f"{name}:")
    axe(page)

    row.get_by_role("link", name=ref).click(timeout=SLOW)   # its partner entries: the first screening of OFAC
    expect(page).to_have_url(f"{ofac_service.origin}/console/entities/us_ofac_sdn/{ref}")
    change = page.locator("table.changes tr.change")
    expect(change).to_have_count(1)
    expect(change).to_contain_text("2023-03-01")
    expect(change).to_contain_text("2023-06-05")
    for name in fields:
        expect(change.locator("ul.field-changes")).to_contain_text(f"{name}:")
    axe(page)
    for width, height in ((1366, 768), (2560, 1440)):
        page.set_viewport_size({"width": width, "height": height})
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{overflow} px wider than a {width}×{height} window"


def test_lists_page_of_an_empty_store(empty_service: Service, open_console) -> None:  # type: ignore[no-untyped-def]
    watched = open_console(empty_service)
    sign_in(watched, "eve")
    watched.page.get_by_role("link", name="Lists").click()
    expect(watched.page.locator("main")).to_contain_text("The store holds no lists yet")
    axe(watched.page)


def test_screenshots_of_the_entity_and_lists_pages(service: Service, open_console, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    watched = open_console(service)
    sign_in(watched, "ann")
    shots = take_entity_lists(watched.page, service.origin, tmp_path, service.engine)
    assert [p.name for p in shots] == ["console-entity.png", "console-lists.png"]
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in shots)
