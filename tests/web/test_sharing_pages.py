"""Sharing and requests in a real Chromium: a holder shares a TLP:RED entry for its own eyes,
an asker finds it blind and requests it, the holder accepts, and the asker's screening then
hits it with its handling code; a third member's user finds neither the request nor the entry.

Every test also fails if a page requested anything outside the service's origin (conftest),
and each page passes axe-core at "serious" and above."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from playwright.sync_api import expect

from jointwatch.releasability import Labels
from jointwatch.sharing import EntryInput, open_offer, share_entry
from jointwatch.store import add_console_user, get_member, read_audit
from jointwatch.web import hash_password
from tests.web.conftest import PASSWORD, Service, axe, sign_in

NAME = "Yusuf Abdelkarim Haddad"   # on no official list: only the partner entry can match it
BIRTH_DATE = "1979-03-14"
OTHER_NAME = "Khalid Ramadan Suleiman"


def test_share_discover_request_accept_and_screen(service: Service, open_console) -> None:  # type: ignore[no-untyped-def]
    engine = service.engine
    add_console_user(engine, "agency-b", "bea", "admin", hash_password(PASSWORD))

    # the holder (bob, agency-b) shares a TLP:RED entry only its own member sees
    bob = open_console(service)
    sign_in(bob, "bob")
    page = bob.page
    page.get_by_role("link", name="Sharing and requests").click()
    page.get_by_role("link", name="Share an entry").click()
    page.get_by_label("Name", exact=True).fill(NAME)
    page.get_by_label("Birth date").fill(BIRTH_DATE)
    page.get_by_label("TLP").select_option("red")
    page.get_by_label("consent-before-action").check()
    page.get_by_role("radio", name=re.compile(r"^originator")).check()
    page.get_by_label("Reason (legal basis)").fill("national investigation 2026/17, art. 3")
    axe(page)
    page.get_by_role("button", name="Share").click()
    expect(page).to_have_url(re.compile(r"/console/shared/sh-[0-9a-z-]+$"))
    entry_ref = page.url.rsplit("/", 1)[1]
    labels = page.locator("dl.labels")
    expect(labels).to_contain_text("TLP:RED")
    expect(labels).to_contain_text("consent-before-action")
    expect(labels).to_contain_text("originator")
    expect(page.locator("table.trail")).to_contain_text("shared")
    axe(page)
    # the holder's admin opens its discovery offer (an organisation's decision: MANAGE_SHARING)
    bea = open_console(service)
    sign_in(bea, "bea")
    admin = bea.page
    admin.get_by_role("link", name="Sharing and requests").click()
    admin.get_by_role("link", name="Our offer").click()
    admin.get_by_label("Keys per asker per day").fill("640")
    admin.get_by_label("Entries up to").select_option("red")
    admin.get_by_role("button", name="Open the offer").click()
    expect(admin.locator("dl.labels")).to_contain_text("640 keys per asker per UTC day")
    expect(admin.get_by_role("button", name="Close the offer")).to_be_visible()
    axe(admin)
    expect(page.get_by_role("link", name="Our offer")).to_have_count(0)   # an analyst does not set offers

    # the asker (ann, agency-a) cannot see the entry, but finds it blind
    ann = open_console(service)
    sign_in(ann, "ann")
    asker = ann.page
    asker.goto(service.origin + "/console/shared")
    expect(asker.locator(f"tr.entry[data-ref='{entry_ref}']")).to_have_count(0)
    asker.get_by_role("link", name="Blind discovery").click()
    asker.get_by_label("Name", exact=True).fill(NAME)
    asker.get_by_label("Birth date").fill(BIRTH_DATE)
    asker.get_by_role("button", name="Ask blind").click()
    hit = asker.locator("tr.answer.hit[data-holder='agency-b']")
    expect(hit).to_have_count(1)
    expect(hit.locator("td.agreed")).to_contain_text("name")
    expect(hit.locator("td.agreed")).to_contain_text("birth_year")
    assert float(hit.locator("td.strength").inner_text()) >= 0.5
    axe(asker)
    hit.get_by_role("button", name=re.compile("Open a request")).click()
    expect(asker.get_by_label("Name (as you reveal it)")).to_have_value(NAME)
    asker.get_by_label("Reason", exact=True).fill("traveller referred at Schiphol, same name and birth date")
    asker.get_by_label("Legal basis").fill("Regulation (EU) 2017/541 art. 3; national law art. 12")
    asker.get_by_label("Urgency").select_option("urgent")
    axe(asker)
    asker.get_by_role("button", name="Send request").click()
    expect(asker).to_have_url(re.compile(r"/console/requests/rq-[0-9a-z-]+$"))
    request_ref = asker.url.rsplit("/", 1)[1]
    expect(asker.locator("dd.state")).to_have_text("open")
    expect(asker.locator("table.history")).to_contain_text("opened")
    expect(asker.get_by_role("button", name="Withdraw")).to_be_visible()   # the asker's steps only
    expect(asker.get_by_role("button", name="Accept")).to_have_count(0)
    axe(asker)

    # the holder's inbox; it accepts at TLP:RED with the entry's handling code
    page.goto(service.origin + "/console/requests")
    row = page.locator(f"tr.request[data-ref='{request_ref}']")
    expect(row.locator("td.urgency")).to_have_text("urgent")
    expect(row.locator("td.state")).to_have_text("open")
    axe(page)
    row.get_by_role("link", name=request_ref).click()
    expect(page.get_by_role("link", name=entry_ref)).to_be_visible()   # the holder's entry: to the holder only
    expect(page.get_by_label("TLP for the asker")).to_have_value("red")
    expect(page.get_by_label("consent-before-action")).to_be_checked()
    axe(page)
    for width, height in ((1366, 768), (2560, 1440)):   # the widest page of these: three step forms
        page.set_viewport_size({"width": width, "height": height})
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{overflow} px wider than a {width}×{height} window"
    page.get_by_role("button", name="Accept").click()
    expect(page.locator("dd.state")).to_have_text("accepted")
    expect(page.locator("table.history")).to_contain_text("accepted")

    # the asker's screening now hits the released entry, with its handling code
    asker.goto(service.origin + "/console/requests?box=outbox")
    expect(asker.locator(f"tr.request[data-ref='{request_ref}'] td.state")).to_have_text("accepted")
    asker.get_by_role("link", name="Screening").click()
    asker.get_by_label("Name", exact=True).fill(NAME)
    asker.get_by_label("Birth date").fill(BIRTH_DATE)
    asker.get_by_role("button", name="Screen").click()
    match = asker.locator(f"tr.match[data-reference='{entry_ref}']")
    expect(match).to_contain_text("partner entry of agency-b")
    expect(match).to_contain_text("TLP:RED")
    expect(match).to_contain_text("consent-before-action")

    # the holder's trail shows the release; its offer's log names the asker and the key count, never the name
    page.goto(service.origin + f"/console/shared/{entry_ref}")
    expect(page.locator("table.trail")).to_contain_text("agency-a")
    page.goto(service.origin + "/console/shared")
    expect(page.locator(f"tr.entry[data-ref='{entry_ref}']")).to_contain_text("yours")
    axe(page)
    admin.reload()
    expect(admin.locator("table.log tr.query").first).to_contain_text("agency-a")
    expect(admin.locator("table.spend tr.spent").first).to_contain_text("agency-a")
    expect(admin.locator("main")).not_to_contain_text("Haddad")

    # a third member's user: the request and the entry are not found, as if they did not exist
    cat = open_console(service)
    sign_in(cat, "cat")
    for path in (f"/console/requests/{request_ref}", f"/console/shared/{entry_ref}"):
        response = cat.page.goto(service.origin + path)
        assert response is not None and response.status == 404, path
        expect(cat.page.get_by_role("alert")).to_contain_text("no ")
    steps = [a.action for a in read_audit(engine, get_member(engine, "agency-a").id, limit=200)]
    assert {"console.discovery.query", "console.requests.open"} <= set(steps)


def test_request_steps_sides_and_tokens(service: Service, open_console) -> None:  # type: ignore[no-untyped-def]
    """Each side sees only its own steps and may take only those; every step needs the form token;
    a request due today is flagged; ask more → answer → decline, each in the history."""
    engine = service.engine
    holder_id = get_member(engine, "agency-c").id
    share_entry(engine, holder_id, "cat", EntryInput("Person", {"name": [OTHER_NAME], "birthDate": ["1985"]}),
                Labels("originator", (), "amber", (), "case 2026/88"))
    open_offer(engine, holder_id)
    bob = open_console(service)
    sign_in(bob, "bob")
    asker = bob.page
    asker.goto(service.origin + "/console/discover")
    asker.get_by_label("Name", exact=True).fill(OTHER_NAME)
    asker.get_by_role("button", name="Ask blind").click()
    hit = asker.locator("tr.answer.hit[data-holder='agency-c']")
    hit.get_by_role("button", name=re.compile("Open a request")).click()
    asker.get_by_label("Reason", exact=True).fill("a payment held: same name")
    asker.get_by_label("Legal basis").fill("AMLD art. 53")
    asker.get_by_label("Urgency").select_option("immediate")
    asker.get_by_label("Deadline").fill(datetime.now(UTC).date().isoformat())
    asker.get_by_role("button", name="Send request").click()
    expect(asker.locator("dd.state")).to_have_text("open")
    ref = asker.url.rsplit("/", 1)[1]
    csrf = asker.locator("input[name=csrf]").first.get_attribute("value")
    assert csrf
    url = f"{service.origin}/console/requests/{ref}"
    assert asker.request.post(f"{url}/withdraw", form={"reason": "no token"}).status == 403
    assert asker.request.post(f"{url}/accept", form={"csrf": csrf}).status == 403   # the holder's step
    assert asker.request.post(f"{url}/explode", form={"csrf": csrf}).status == 422   # no such step

    cat = open_console(service)
    sign_in(cat, "cat")
    holder = cat.page
    holder.goto(service.origin + "/console/requests")
    row = holder.locator(f"tr.request[data-ref='{ref}']")
    expect(row.locator(".flag")).to_have_text("due soon")
    row.get_by_role("link", name=ref).click()
    expect(holder.get_by_role("button", name="Withdraw")).to_have_count(0)   # the asker's step
    holder.get_by_label("Question").fill("Which payment, and which account?")
    holder.get_by_role("button", name="Ask more").click()
    expect(holder.locator("dd.state")).to_have_text("more info requested")

    asker.reload()
    asker.get_by_label("Answer", exact=True).fill("SEPA transfer of 12 May to account NL00TEST0123456789")
    asker.get_by_role("button", name="Answer").click()
    expect(asker.locator("dd.state")).to_have_text("open")
    axe(asker)

    holder.reload()
    expect(holder.locator("table.history")).to_contain_text("SEPA transfer of 12 May")
    holder.get_by_label("Reason").fill("the entry concerns another person")
    holder.get_by_role("button", name="Decline").click()
    expect(holder.locator("dd.state")).to_have_text("declined")
    expect(holder.get_by_role("button", name="Accept")).to_have_count(0)   # a decided request takes no step
    history = holder.locator("table.history tr.event td:nth-child(2)")
    expect(history).to_have_text(["opened", "more info requested", "answered", "declined"])
    asker.goto(service.origin + "/console/requests?box=outbox&state=declined")
    expect(asker.locator(f"tr.request[data-ref='{ref}'] td.state")).to_have_text("declined")
