"""The console in a real Chromium: sign in, screen, read the explanation, decide, sign out;
forms without their token refused; members isolated; roles as in the API; fail closed.

Every test also fails if a page requested anything outside the service's origin (conftest),
and the main pages pass axe-core at "serious" and above."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect

from jointwatch.screening import Query, prepare
from jointwatch.store import (
    count_decisions,
    decisions_page,
    get_member,
    list_decisions,
    read_audit,
    record_decision,
)
from tests.web.conftest import PASSWORD, Service, Watched, axe, sign_in
from tests.web.screenshots import LISTED_NAME, take

# LISTED_NAME: QDi.354 in the UN list of 2026-02-27, TARAK BEN TAHER BEN FALEH OUNI HARZI, born 1982-05-03 in Tunis


def _screen(watched: Watched, name: str, birth_date: str = "", countries: str = "") -> None:
    page = watched.page
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Birth date").fill(birth_date)
    page.get_by_label("Countries").fill(countries)
    page.get_by_role("button", name="Screen").click()


def test_sign_in_screen_decide_and_sign_out(service: Service, open_console) -> None:  # type: ignore[no-untyped-def]
    watched = open_console(service)
    page = watched.page
    page.goto(service.origin + "/console/screen")
    expect(page).to_have_url(re.compile(r"/console/login$"))  # no session: to the sign-in page
    axe(page)

    sign_in(watched, "ann", "not the password at all")
    expect(page.get_by_role("alert")).to_contain_text("The user name or password is not right")
    expect(page).to_have_url(re.compile(r"/console/login$"))

    sign_in(watched, "ann")
    expect(page).to_have_url(re.compile(r"/console/screen$"))
    expect(page.get_by_role("banner")).to_contain_text("ann · agency-a · analyst")

    _screen(watched, LISTED_NAME, "1982-05-03", "TN")
    row = page.locator("tr.match[data-reference='QDi.354']")
    expect(row).to_be_visible()
    expect(row.locator("td.reference")).to_have_text("QDi.354")
    expect(row.locator("td.source")).to_have_text("un_sc")
    expect(row.locator("td.version")).to_have_text(re.compile(r"2026-02-27"))
    words = row.locator("table.words tr.word")
    expect(words.filter(has_text="harzi").first).to_be_visible()  # the word-by-word explanation
    expect(row.locator("ul.qualifiers")).to_contain_text("birth date: match")
    expect(page.locator("p.versions")).to_contain_text("un_sc")
    axe(page)

    row.get_by_label("true match").check()
    row.get_by_label("Reason").fill("same birth date and nationality; passport seen")
    row.get_by_role("button", name="Decide").click()
    expect(row.get_by_role("status")).to_contain_text("Decided: true match for un_sc QDi.354")

    page.get_by_role("link", name="Decisions").click()
    decision = page.locator("tr.decision").filter(has_text="QDi.354")
    expect(decision).to_contain_text("passport seen")
    expect(decision).to_contain_text("ann")
    axe(page)

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/console/login\?reason=signed_out$"))
    expect(page.get_by_role("alert")).to_contain_text("You are signed out")
    page.goto(service.origin + "/console/decisions")
    expect(page).to_have_url(re.compile(r"/console/login$"))  # the session ended on the server

    member = get_member(service.engine, "agency-a")
    actions = [(a.action, a.status) for a in read_audit(service.engine, member.id) if a.user == "ann"]
    for expected in [("console.sign_in", 401), ("console.sign_in", 200), ("console.screen", 200),
                     ("console.decision.create", 201), ("console.decision.read", 200), ("console.sign_out", 200)]:
        assert expected in actions, f"{expected} not audited: {actions}"


def test_a_form_without_its_token_is_refused(service: Service, open_console) -> None:  # type: ignore[no-untyped-def]
    watched = open_console(service)
    sign_in(watched, "ann")
    expect(watched.page).to_have_url(re.compile(r"/console/screen$"))
    request = watched.context.request  # the browser's own cookies
    for form in ({"name": LISTED_NAME}, {"name": LISTED_NAME, "csrf": "forged"}):
        answer = request.post(service.origin + "/console/screen", form=form, max_redirects=0)
        assert answer.status == 403, form
        assert "security token" in answer.text()
    answer = request.post(service.origin + "/console/logout", form={}, max_redirects=0)
    assert answer.status == 403
    # the session lives on: the refusals changed nothing
    watched.page.goto(service.origin + "/console/screen")
    expect(watched.page).to_have_url(re.compile(r"/console/screen$"))


def test_a_member_sees_only_its_own_decisions(service: Service, open_console) -> None:  # type: ignore[no-untyped-def]
    subject = prepare(Query(name="Tarak Ben Taher Harzi", birth_date="1982"))
    agency_a = get_member(service.engine, "agency-a")
    record_decision(service.engine, agency_a.id, "ann", subject.identity(), subject.name, subject.birth_date,
                    "QDi.354", "un_sc", "false_positive", "agency-a's own customer, not the listed man")
    watched = open_console(service)
    sign_in(watched, "bob")
    page = watched.page
    page.get_by_role("link", name="Decisions").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Decisions of agency-b")
    expect(page.locator("main")).not_to_contain_text("agency-a's own customer")
    # agency-a's false positive suppresses the match for agency-a only
    page.get_by_role("link", name="Screening").click()
    _screen(watched, "Tarak Ben Taher Harzi", "1982")
    expect(page.locator("tr.match[data-reference='QDi.354']")).to_be_visible()
    assert not list_decisions(service.engine, get_member(service.engine, "agency-b").id)


def test_a_screener_screens_but_may_not_decide(service: Service, open_console) -> None:  # type: ignore[no-untyped-def]
    watched = open_console(service)
    sign_in(watched, "sam")
    page = watched.page
    expect(page.get_by_role("link", name="Decisions")).to_have_count(0)
    _screen(watched, LISTED_NAME)
    expect(page.locator("tr.match[data-reference='QDi.354']")).to_be_visible()
    expect(page.get_by_role("button", name="Decide")).to_have_count(0)
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    answer = watched.context.request.post(service.origin + "/console/decisions", max_redirects=0, form={
        "csrf": csrf or "", "name": LISTED_NAME, "reference": "QDi.354", "verdict": "true_positive", "reason": "x"})
    assert answer.status == 403
    assert "may not decide" in answer.text()


def test_screening_refuses_without_lists(empty_service: Service, open_console) -> None:  # type: ignore[no-untyped-def]
    watched = open_console(empty_service)
    sign_in(watched, "eve")
    _screen(watched, LISTED_NAME)
    alert = watched.page.locator("#results").get_by_role("alert")
    expect(alert).to_contain_text("Screening is not possible: no list is loaded")
    expect(watched.page.locator("tr.match")).to_have_count(0)


def test_keyboard_alone_signs_in_and_screens(service: Service, open_console) -> None:  # type: ignore[no-untyped-def]
    watched = open_console(service)
    page = watched.page
    page.goto(service.origin + "/console/login")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()  # the first stop
    page.keyboard.press("Tab")
    expect(page.get_by_label("User name")).to_be_focused()
    page.keyboard.type("ann")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/console/screen$"))
    page.get_by_label("Name", exact=True).focus()
    page.keyboard.type(LISTED_NAME)
    page.keyboard.press("Enter")
    expect(page.locator("tr.match[data-reference='QDi.354']")).to_be_visible()


def test_pages_fit_a_small_and_a_large_screen(service: Service, open_console) -> None:  # type: ignore[no-untyped-def]
    watched = open_console(service)
    sign_in(watched, "ann")
    page = watched.page
    _screen(watched, LISTED_NAME, "1982-05-03")
    expect(page.locator("tr.match").first).to_be_visible()
    for width, height in ((1366, 768), (2560, 1440)):
        page.set_viewport_size({"width": width, "height": height})
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{overflow} px wider than a {width}×{height} window"


def test_screenshots_of_the_main_pages(service: Service, open_console, tmp_path: Path) -> None:  # type: ignore
    shots = take(open_console(service).page, service.origin, tmp_path)
    assert [p.name for p in shots] == ["console-sign-in.png", "console-screening.png", "console-decisions.png"]
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in shots)


def test_decisions_page_by_page_and_withdrawn(service: Service, open_console) -> None:  # type: ignore[no-untyped-def]
    agency_c = get_member(service.engine, "agency-c")
    for n in range(55):
        subject = prepare(Query(name=f"Karim Testperson{n}"))
        record_decision(service.engine, agency_c.id, "cat", subject.identity(), subject.name, None, "QDi.354",
                        "un_sc", "false_positive", f"customer {n}, born elsewhere")
    watched = open_console(service)
    sign_in(watched, "cat")
    page = watched.page
    page.get_by_role("link", name="Decisions").click()
    expect(page.locator("main")).to_contain_text("55 decisions, newest first")
    expect(page.locator("tr.decision")).to_have_count(50)
    expect(page.locator("tr.decision").first).to_contain_text("customer 54,")
    page.get_by_role("link", name="Older").click()
    expect(page.locator("tr.decision")).to_have_count(5)
    expect(page.locator("tr.decision").last).to_contain_text("customer 0,")
    axe(page)
    page.get_by_role("link", name="Newest").click()
    newest = page.locator("tr.decision").first
    number = newest.get_attribute("data-decision")
    newest.get_by_role("button", name=f"Withdraw decision {number}").click()
    expect(page.locator("main")).to_contain_text("54 decisions, newest first")
    expect(page.locator("tr.decision").first).to_contain_text("customer 53,")
    # another member's user cannot withdraw it: not found, as a decision that does not exist
    other = open_console(service)
    sign_in(other, "bob")
    csrf = other.page.locator("input[name=csrf]").first.get_attribute("value") or ""
    oldest = decisions_page(service.engine, agency_c.id, 1, None)[0].id
    answer = other.context.request.post(f"{service.origin}/console/decisions/{oldest}/withdraw",
                                        form={"csrf": csrf}, max_redirects=0)
    assert answer.status == 404
    assert count_decisions(service.engine, agency_c.id) == 54
