"""Travel, payments and the freeze register in a real Chromium: a real passenger list uploaded and
its flight and travellers read; a payment naming QDi.354 held with that hit; an asset frozen
against QDi.354 moves the totals chart, and a partial release moves it back; another member
finds nothing; a broken file, a form without its token and a screener's freeze refused."""

from __future__ import annotations

import re
from decimal import Decimal

from playwright.sync_api import Page, expect

from jointwatch.store import alerts_page, get_member, list_assets, read_audit
from tests.conftest import REPO
from tests.web.conftest import Service, Watched, axe, sign_in
from tests.web.screenshots import LISTED_NAME

TRAVEL = REPO.parent / "shared" / "data" / "travel"
PAXLST = TRAVEL / "paxlst" / "parsers_apisMessage.txt"      # GTAS's APIS sample: AA123 ATL→ORD, AA124 ORD→JFK
MT103 = REPO / "tests" / "fixtures" / "payments" / "mt103_sample.fin"


def listed_paxlst() -> bytes:
    """The real PAXLST sample with its first traveller made QDi.354 (name and full birth date)."""
    text = PAXLST.read_text(encoding="utf-8")
    assert "NAD+FL+++CLARK:MICHAEL'" in text and "DTM+329:720907'" in text
    return (text.replace("NAD+FL+++CLARK:MICHAEL'", "NAD+FL+++HARZI:TARAK BEN TAHER BEN FALEH OUNI'")
            .replace("DTM+329:720907'", "DTM+329:820503'")).encode()


def held_mt103() -> bytes:
    """The sample's second MT103 (a donation to Raqqa), its beneficiary named as QDi.354 is listed."""
    second = MT103.read_text(encoding="utf-8").split("$\n")[1]
    assert "1/TARIQ AL HARZI" in second
    return second.replace("1/TARIQ AL HARZI", f"1/{LISTED_NAME}").encode()


def fits(page: Page) -> None:
    """Nothing wider than the window (1366×768): no sideways scrolling."""
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def freeze_form(page: Page, amount: str, currency: str, country: str) -> None:
    """Fill and send the register's form: an account of QDi.354's held in ``country``."""
    for label, value in (("Holder", LISTED_NAME), ("Account", f"{country}5904018104004942712345"),
                         ("Institution", "BIATTNTT"), ("Amount", amount), ("Currency", currency),
                         ("List", "un_sc"), ("Reference", "QDi.354"), ("Country", country),
                         ("Reason", "payment BNP-77-DON held: beneficiary is QDi.354")):
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_role("button", name="Freeze").click()


def _upload(page: Page, label: str, name: str, data: bytes, button: str) -> None:
    page.get_by_label(label).set_input_files({"name": name, "mimeType": "text/plain", "buffer": data})
    page.get_by_role("button", name=button).click()


def test_passenger_list_flight_and_travellers(service: Service, open_console) -> None:  # type: ignore[no-untyped-def]
    watched: Watched = open_console(service)
    page = watched.page
    sign_in(watched, "ann")
    page.get_by_role("link", name="Travel").click()
    expect(page).to_have_url(re.compile(r"/console/travel$"))
    axe(page)

    _upload(page, "Passenger list or reservation message", PAXLST.name, PAXLST.read_bytes(), "Screen travellers")
    flights = page.locator("tr.flight")
    expect(flights).to_have_count(2)
    expect(flights.first.locator("td.number")).to_have_text("AA123")
    expect(flights.first.locator("td.from")).to_have_text("ATL")
    expect(flights.first.locator("td.to")).to_have_text("ORD")
    expect(flights.first).to_contain_text("2007-02-19 15:40")
    michael = page.locator("tr.traveller").filter(has_text="MICHAEL CLARK")
    expect(michael).to_have_attribute("data-status", "clear")
    expect(page.locator("tr.traveller")).to_have_count(2)
    expect(page.locator("p.versions")).to_contain_text("0 hit, 0 referred, 2 clear")
    axe(page)
    fits(page)

    _upload(page, "Passenger list or reservation message", "listed.txt", listed_paxlst(), "Screen travellers")
    listed = page.locator("tr.traveller").filter(has_text="HARZI")
    expect(listed).to_have_attribute("data-status", "hit")
    expect(listed.locator("td.reasons")).to_contain_text("name and birth date match un_sc QDi.354")
    link = listed.get_by_role("link", name="un_sc QDi.354")
    expect(link).to_have_attribute("href", "/console/entities/un_sc/QDi.354")
    expect(page.locator("tr.traveller").filter(has_text="CHERYL CLARK")).to_have_attribute("data-status", "clear")
    # the hit's listed match is filed in the alerts queue, as POST /travel/screen files it
    expect(page.locator("p.alerts-filed").get_by_role("link")).to_have_attribute(
        "href", "/console/alerts?origin=traveller")
    filed = alerts_page(service.engine, get_member(service.engine, "agency-a").id, origin="traveller")
    assert any(a.reference == "QDi.354" and a.origin_ref == "AA123 2007-02-19 #1" for a in filed), filed
    axe(page)

    # cut in the middle of the message: the library names the place, nothing is screened, never a 500
    truncated = PAXLST.read_bytes()[:PAXLST.read_bytes().index(b"NAD+FL+++CLARK:CHERYL")]
    _upload(page, "Passenger list or reservation message", "cut.txt", truncated, "Screen travellers")
    error = page.get_by_role("alert")
    expect(error).to_contain_text("Nothing screened")
    expect(error).to_contain_text("cut.txt")
    expect(page.locator("tr.traveller")).to_have_count(0)
    answer = watched.context.request.post(service.origin + "/console/travel", max_redirects=0, multipart={
        "csrf": page.locator("input[name=csrf]").first.get_attribute("value") or "",
        "message": {"name": "cut.txt", "mimeType": "text/plain", "buffer": truncated}})
    assert answer.status == 422, answer.status
    assert re.search(r"segment \d+", answer.text()), answer.text()[:2000]

    # GTAS's deliberately bad reservation message: the library's reason, at its segment
    bad = TRAVEL / "pnrgov" / "parsers_pnrBadFormat.txt"
    _upload(page, "Passenger list or reservation message", bad.name, bad.read_bytes(), "Screen travellers")
    expect(page.get_by_role("alert")).to_contain_text("segment 28 (UNZ): interchange control reference")
    axe(page)

    # without the form's token: refused before anything is read
    answer = watched.context.request.post(service.origin + "/console/travel", max_redirects=0, multipart={
        "message": {"name": "p.txt", "mimeType": "text/plain", "buffer": PAXLST.read_bytes()}})
    assert answer.status == 403
    # over the service's body limit: a page saying so, nothing read
    _upload(page, "Passenger list or reservation message", "big.txt", b"UNA" + b"x" * 1_100_000, "Screen travellers")
    expect(page.get_by_role("alert")).to_contain_text("The upload is over 1,000,000 bytes")
    answer = watched.context.request.post(service.origin + "/console/travel", max_redirects=0, multipart={
        "message": {"name": "big.txt", "mimeType": "text/plain", "buffer": b"UNA" + b"x" * 1_100_000}})
    assert answer.status == 413 and "text/html" in answer.headers["content-type"]

    rows = read_audit(service.engine, get_member(service.engine, "agency-a").id)
    assert any(r.action == "console.travel.screen" and r.status == 200 and "1 hit" in r.result_summary for r in rows)


def test_payment_held_with_its_hit(service: Service, open_console) -> None:  # type: ignore[no-untyped-def]
    watched: Watched = open_console(service)
    page = watched.page
    sign_in(watched, "ann")
    page.get_by_role("link", name="Payments").click()
    expect(page).to_have_url(re.compile(r"/console/payments$"))
    axe(page)

    _upload(page, "Payment file", "held.fin", held_mt103(), "Screen payments")
    payment = page.locator("tr.payment[data-reference='BNP-77-DON']")
    expect(payment).to_have_attribute("data-decision", "hold")
    expect(payment.locator("td.decision")).to_contain_text("held")
    creditor = payment.locator("div.party[data-role='creditor']")
    hit = creditor.locator("li.hit[data-reference='QDi.354']")
    expect(hit).to_contain_text("un_sc QDi.354")
    expect(hit).to_contain_text(LISTED_NAME)
    expect(payment.get_by_role("link", name="Decide in alerts")).to_have_attribute(
        "href", "/console/alerts?origin=payment")
    expect(payment.locator("td.amount")).to_have_text("4800.50 USD")
    expect(page.locator("p.alerts-filed").get_by_role("link")).to_have_attribute(
        "href", "/console/alerts?origin=payment")
    filed = alerts_page(service.engine, get_member(service.engine, "agency-a").id, origin="payment")
    assert any(a.reference == "QDi.354" and a.subject == LISTED_NAME for a in filed), filed
    axe(page)
    fits(page)

    # its alert is where the held payment is released or rejected, in those words
    held = next(a for a in filed if a.reference == "QDi.354" and a.subject == LISTED_NAME)
    page.goto(f"{service.origin}/console/alerts/{held.id}")
    expect(page.get_by_label("false match — release the payment")).to_be_visible()
    expect(page.get_by_label("true match — reject the payment")).to_be_visible()
    page.goto(f"{service.origin}/console/payments")

    # pasted: the sample's first payment passes
    page.get_by_label("Or paste the message").fill(MT103.read_text(encoding="utf-8").split("$\n")[0])
    page.get_by_role("button", name="Screen payments").click()
    expect(page.locator("tr.payment[data-reference='NWBK230605001']")).to_have_attribute("data-decision", "pass")

    page.get_by_label("Or paste the message").fill("this is not a payment message")
    page.get_by_role("button", name="Screen payments").click()
    expect(page.get_by_role("alert")).to_contain_text("neither ISO 20022 XML")
    answer = watched.context.request.post(service.origin + "/console/payments", max_redirects=0, multipart={
        "content": "<Document"})
    assert answer.status == 403


def _bar(page: Page, by: str, label: str) -> Decimal:
    """The amount of the bar ``label`` in the EUR chart by ``by`` (0 when there is no such bar)."""
    bar = page.locator(f"figure[data-by='{by}'] svg g.bar[data-label='{label}']")
    return Decimal(bar.get_attribute("data-amount") or "0") if bar.count() else Decimal(0)


def test_freeze_totals_history_and_isolation(service: Service, open_console) -> None:  # type: ignore[no-untyped-def]
    watched: Watched = open_console(service)
    page = watched.page
    sign_in(watched, "ann")
    page.get_by_role("link", name="Payments").click()
    page.get_by_role("link", name="Freeze register").click()
    expect(page).to_have_url(re.compile(r"/console/freezes$"))
    before = _bar(page, "source", "un_sc"), _bar(page, "regime", "Al-Qaida"), _bar(page, "country", "TN")
    axe(page)

    freeze_form(page, "25000.00", "EUR", "TN")
    expect(page).to_have_url(re.compile(r"/console/freezes/\d+$"))
    asset_url = page.url
    expect(page.locator("dd.frozen-amount")).to_have_text("25,000.00 EUR")
    expect(page.locator("dl.asset-labels")).to_contain_text("regime Al-Qaida")
    expect(page.locator("tr.event")).to_have_count(1)
    axe(page)

    page.get_by_label("Amount released").fill("5000.00")
    page.get_by_label("Licence").fill("OFSI INT/2026/0001")
    page.get_by_label("Reason").fill("basic needs under licence")
    page.get_by_role("button", name="Release").click()
    expect(page.locator("dd.status")).to_have_text("partly released")
    expect(page.locator("dd.frozen-amount")).to_have_text("20,000.00 EUR")
    expect(page.locator("tr.event").nth(1)).to_contain_text("OFSI INT/2026/0001")

    page.get_by_role("link", name="Freeze register").click()
    assert _bar(page, "source", "un_sc") == before[0] + Decimal("20000.00")
    assert _bar(page, "regime", "Al-Qaida") == before[1] + Decimal("20000.00")
    assert _bar(page, "country", "TN") == before[2] + Decimal("20000.00")
    label = page.locator("figure[data-by='source'] svg g.bar[data-label='un_sc'] text.bar-amount")
    expect(label).to_have_text(f"{before[0] + Decimal('20000.00'):,.2f} EUR")
    expect(page.locator("figure[data-by='member'] svg g.bar[data-label='agency-a']")).to_have_count(1)
    expect(page.locator("tr.asset").filter(has_text=LISTED_NAME).first).to_be_visible()
    axe(page)
    fits(page)
    page.set_viewport_size({"width": 2560, "height": 1440})
    fits(page)
    page.set_viewport_size({"width": 1366, "height": 768})

    # a partial release without a licence is the library's refusal, shown on the page
    page.goto(asset_url)
    page.get_by_label("Amount released").fill("1.00")
    page.get_by_label("Reason").fill("no licence")
    page.get_by_role("button", name="Release").click()
    expect(page.get_by_role("alert")).to_contain_text("needs the licence")

    # a listing not on the register is no legal basis
    page.get_by_role("link", name="Freeze register").click()
    for label, value in (("Holder", "Someone"), ("Account", "X1"), ("Institution", "BANK"), ("Amount", "1.00"),
                         ("Currency", "EUR"), ("List", "un_sc"), ("Reference", "QDi.99999"), ("Country", "FR"),
                         ("Reason", "test")):
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_role("button", name="Freeze").click()
    expect(page.get_by_role("alert")).to_contain_text("QDi.99999")

    # another member: not found, and not in its register or totals
    other: Watched = open_console(service)
    sign_in(other, "bob")
    freezes = f"{service.origin}/console/freezes"
    for url in (asset_url, f"{freezes}/not-a-number", f"{freezes}/{'9' * 5000}"):
        answer = other.page.goto(url)
        assert answer is not None and answer.status == 404, url
    other.page.goto(service.origin + "/console/freezes")
    expect(other.page.locator("tr.asset").filter(has_text=LISTED_NAME)).to_have_count(0)
    asset_id = asset_url.rsplit("/", 1)[1]
    csrf = other.page.locator("input[name=csrf]").first.get_attribute("value") or ""
    answer = other.context.request.post(f"{asset_url}/release", max_redirects=0,
                                        form={"csrf": csrf, "reason": "steal"})
    assert answer.status == 404
    mine = list_assets(service.engine, get_member(service.engine, "agency-a").id)
    assert any(str(a.id) == asset_id and a.frozen_amount == Decimal("20000.00") for a in mine)
    theirs = list_assets(service.engine, get_member(service.engine, "agency-b").id)
    assert not any(str(a.id) == asset_id for a in theirs)

    # the form's token, and the API's right (DECIDE) for the register
    answer = watched.context.request.post(service.origin + "/console/freezes", max_redirects=0,
                                          form={"holder": "x", "amount": "1"})
    assert answer.status == 403
    screener: Watched = open_console(service)
    sign_in(screener, "sam")
    expect(screener.page.get_by_role("link", name="Travel")).to_be_visible()
    csrf = screener.page.locator("input[name=csrf]").first.get_attribute("value") or ""
    answer = screener.page.goto(service.origin + "/console/freezes")
    assert answer is not None and answer.status == 403
    answer = screener.context.request.post(service.origin + "/console/freezes", max_redirects=0,
                                           form={"csrf": csrf, "holder": "x"})
    assert answer.status == 403

