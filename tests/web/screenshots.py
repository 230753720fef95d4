"""Screenshots of the console's main pages for the docs, made by the browser tests' own code.

    python -m tests.web.screenshots            # rewrites docs/img/console-*.png

A store with the real UN list and one analyst is made in a temporary folder, the service is
started on a free loopback port, and Debian's Chromium (1366×768, the smallest screen the
console must work on) signs in, screens QDi.354's listed name, decides it and opens the
decisions. ``tests/web/test_console.py`` runs the same ``take`` into a temporary folder.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright
from sqlalchemy import Engine

from jointwatch.network import SimulationSettings, simulate
from jointwatch.sources import open_list
from jointwatch.store import add_member, load_list, open_engine
from tests.conftest import REPO, UN_FILE
from tests.web.conftest import CHROMIUM, PASSWORD, serve_console, with_users

LISTED_NAME = "TARAK BEN TAHER BEN FALEH OUNI HARZI"  # QDi.354 in the UN list of 2026-02-27
FOLDER = REPO / "docs" / "img"


def take(page: Page, origin: str, folder: Path, user: str = "ann") -> list[Path]:
    """Sign in as ``user`` (an analyst), screen, decide; one PNG per main page, in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    shots = []

    def shot(name: str) -> None:
        shots.append(folder / f"console-{name}.png")
        page.screenshot(path=shots[-1], full_page=True)

    page.goto(origin + "/console/login")
    shot("sign-in")
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Name", exact=True).fill(LISTED_NAME)
    page.get_by_label("Birth date").fill("1982-05-03")
    page.get_by_label("Countries").fill("TN")
    page.get_by_role("button", name="Screen").click()
    row = page.locator("tr.match[data-reference='QDi.354']")
    expect(row).to_be_visible()
    shot("screening")
    row.get_by_label("true match").check()
    row.get_by_label("Reason").fill("same birth date and nationality; passport seen")
    row.get_by_role("button", name="Decide").click()
    expect(row.get_by_role("status")).to_be_visible()
    page.get_by_role("link", name="Decisions").click()
    expect(page.locator("tr.decision").first).to_be_visible()
    shot("decisions")
    return shots


def take_financing_media(page: Page, origin: str, folder: Path, engine: Engine) -> list[Path]:
    """Signed in as an analyst of agency-a: a trace of a small simulated file, clicked open at its
    designated account, and the match of a photograph agency-b banked at TLP:GREEN."""
    from tests.web.test_financing_media_pages import bank, photo, run_trace  # noqa: PLC0415

    shots = [folder / "console-financing.png", folder / "console-media.png"]
    with tempfile.TemporaryDirectory() as tmp:
        summary = simulate(Path(tmp), SimulationSettings(transactions=2000, networks=1, donors=12, countries=6,
                                                         days=60, seed=7), "csv", None)
        run_trace(page, origin, Path(str(summary["transactions"])))
        page.get_by_label("Account").select_option("COL-N1-0")
        expect(page.locator("#flow-flows table.flows-in")).to_be_visible()
        page.screenshot(path=shots[0], full_page=True)
        add_member(engine, "agency-b")
        bank(engine, "agency-b", "coffee", "green", "Group Green")
        upload = Path(tmp) / "coffee.jpg"
        upload.write_bytes(photo("coffee", "JPEG"))
        page.goto(origin + "/console/media")
        page.get_by_label("Image or file").set_input_files(str(upload))
        page.get_by_role("button", name="Match").click()
        expect(page.locator("tr.media-match")).to_have_count(1)
        page.screenshot(path=shots[1], full_page=True)
    return shots


def take_travel_freezes(page: Page, origin: str, folder: Path) -> list[Path]:
    """Signed in as an analyst: the real PAXLST sample with one traveller made QDi.354, screened;
    then two assets frozen against QDi.354 (one partly released) and the register's totals."""
    from tests.web.test_travel_payments_pages import PAXLST, freeze_form, listed_paxlst  # noqa: PLC0415

    shots = [folder / "console-travel.png", folder / "console-freezes.png"]
    page.goto(origin + "/console/travel")
    page.get_by_label("Passenger list or reservation message").set_input_files(
        {"name": PAXLST.name, "mimeType": "text/plain", "buffer": listed_paxlst()})
    page.get_by_role("button", name="Screen travellers").click()
    expect(page.locator("tr.traveller[data-status='hit']")).to_have_count(1)
    page.screenshot(path=shots[0], full_page=True)
    for amount, currency, country in (("25000.00", "EUR", "TN"), ("4800.50", "USD", "SY"), ("12000.00", "EUR", "DE")):
        page.goto(origin + "/console/freezes")
        freeze_form(page, amount, currency, country)
        expect(page).to_have_url(re.compile(r"/console/freezes/\d+$"))
    page.goto(origin + "/console/freezes")
    page.screenshot(path=shots[1], full_page=True)
    return shots


def take_entity_lists(page: Page, origin: str, folder: Path, engine: Engine) -> list[Path]:
    """Signed in as an analyst of agency-a: QDi.354's page with the partner entry agency-b released
    to agency-a alone (its photograph placed on the map), then the lists in the store."""
    from jointwatch.sharing import withdraw_entry  # noqa: PLC0415
    from tests.web.test_entity_pages import released_entry  # noqa: PLC0415

    shots = [folder / "console-entity.png", folder / "console-lists.png"]
    entry, _ = released_entry(engine)
    try:
        page.goto(origin + "/console/entities/un_sc/QDi.354")
        expect(page.locator("img.thumb")).to_be_visible()
        # the top of the page: the entry, its evidence and map, the first statements (the whole is ~3,700 px)
        page.screenshot(path=shots[0], full_page=True, clip={"x": 0, "y": 0, "width": 1366, "height": 1200})
    finally:  # the entry would be a partner hit in every later screening of the name
        assert entry.member_id is not None
        withdraw_entry(engine, entry.ref, entry.member_id, "bob", "screenshot taken")
    page.goto(origin + "/console/lists")
    expect(page.locator("section.source[data-source='un_sc']")).to_be_visible()
    page.screenshot(path=shots[1], full_page=True)
    return shots


def take_alerts(page: Page, origin: str, folder: Path, engine: Engine | None = None, make: bool = True) -> list[Path]:
    """Signed in as an analyst of agency-a: the alerts queue after a customer run and a held payment
    (made through the library when ``make``), then the customer alert's page with its explanation."""
    from tests.web.test_alerts_pages import make_alerts  # noqa: PLC0415

    shots = [folder / "console-alerts.png", folder / "console-alert.png"]
    if make:
        assert engine is not None
        with tempfile.TemporaryDirectory() as tmp:
            make_alerts(engine, "agency-a", Path(tmp))
    page.goto(origin + "/console/alerts")
    expect(page.locator("tr.alert-row").first).to_be_visible()
    page.screenshot(path=shots[0], full_page=True)
    customer = page.locator("tr.alert-row").filter(has=page.locator("td.origin", has_text="customer")).first
    customer.locator("td a").first.click()
    expect(page.locator("table.words")).to_be_visible()
    page.screenshot(path=shots[1], full_page=True)
    return shots


def main(folder: Path = FOLDER) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["JOINTWATCH_CACHE"] = str(Path(tmp) / "cache")
        engine = with_users(open_engine(str(Path(tmp) / "console.db"), create=True), [("ann", "agency-a", "analyst")])
        load_list(engine, open_list(UN_FILE, "un"))
        service = serve_console(engine)
        origin = next(service).origin
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
                page = browser.new_page(viewport={"width": 1366, "height": 768})
                for path in (take(page, origin, folder) + take_financing_media(page, origin, folder, engine)
                             + take_travel_freezes(page, origin, folder)):
                    print(path.relative_to(REPO) if path.is_relative_to(REPO) else path)
                for path in take_entity_lists(page, origin, folder, engine):
                    print(path.relative_to(REPO) if path.is_relative_to(REPO) else path)
                for path in take_alerts(page, origin, folder, engine):
                    print(path.relative_to(REPO) if path.is_relative_to(REPO) else path)
                browser.close()
        finally:
            service.close()  # stops the server (the generator's code after its yield)
            engine.dispose()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else FOLDER)
