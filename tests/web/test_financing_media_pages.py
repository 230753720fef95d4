"""Financing and media in a real Chromium.

Financing: an analyst uploads a small simulated transaction file (one planted network: donors in
several countries, collectors, mules, a hawala-like broker pair, the designated DSG-N1), traces it,
and reads the graph (DSG-N1 and its collectors), the funding map (the countries the library's own
trace finds), a typology finding (the broker pair's netting); clicking an account in the graph lists
its flows and a flow follows the money on. Media: another member banks a scikit-image photograph at
TLP:GREEN and one at TLP:RED; the analyst's upload of the first matches it with its method and
labels beside the upload's thumbnail, the second shows only as a reference to ask about; a dispute
takes a reason and lists the item as disputed. Each page passes axe-core; forms without their token,
a screener's trace and another member's item are refused.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from jointwatch.network import SimulationSettings, TraceSettings, analyse, simulate
from tests.web.conftest import Service, axe, sign_in

DESIGNATED = "DSG-N1"


@pytest.fixture(scope="module")
def transactions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """A small simulated file (2,000 payments, one planted network) and its truth."""
    out = tmp_path_factory.mktemp("trace")
    summary = simulate(out, SimulationSettings(transactions=2000, networks=1, donors=12, countries=6, days=60,
                                               seed=7), "csv", None)
    truth = json.loads(Path(str(summary["truth"])).read_text(encoding="utf-8"))
    return {"path": Path(str(summary["transactions"])), "network": truth["networks"][0]}


def fits(page: Page) -> None:
    """No page wider than its window, at 1366×768 and at 2560×1440."""
    for width, height in ((1366, 768), (2560, 1440)):
        page.set_viewport_size({"width": width, "height": height})
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.set_viewport_size({"width": 1366, "height": 768})


def run_trace(page: Page, origin: str, path: Path) -> None:
    page.goto(origin + "/console/financing")
    page.get_by_label("Transaction file").set_input_files(str(path))
    page.get_by_label("Designated accounts").fill(DESIGNATED)
    page.get_by_role("button", name="Trace").click()
    expect(page).to_have_url(re.compile(r"/console/financing/trace$"))


def test_trace_graph_map_findings_and_follow_the_money(service: Service, open_console, transactions) -> None:  # type: ignore[no-untyped-def]
    path, network = transactions["path"], transactions["network"]
    assert isinstance(path, Path) and isinstance(network, dict)
    ann = open_console(service)
    violations: list[str] = []
    ann.page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    sign_in(ann, "ann")
    page = ann.page
    page.get_by_role("link", name="Financing").click()
    expect(page.get_by_role("heading", name="Financing")).to_be_visible()
    axe(page)
    run_trace(page, service.origin, path)

    # the graph's data: the designated account, its collectors and mules, as the library traced them
    graph = json.loads(page.locator("#flow-data").text_content() or "{}")
    roles = {n["id"]: n["role"] for n in graph["nodes"]}
    assert roles[DESIGNATED] == "designated"
    assert roles["COL-N1-0"] == "collector"
    assert {"HWX-N1", "HWY-N1"} <= set(roles)
    assert graph["designated"] == [DESIGNATED]
    donors = {d["account"] for d in network["donors"]}
    assert donors & {n["id"] for n in graph["nodes"] if n["role"] == "originator"}
    expect(page.locator("#flow-graph[data-ready='true']")).to_have_count(1)

    # the map: exactly the countries the library's own trace credits, filled by attribute (no inline style)
    expected = analyse(path, [DESIGNATED], TraceSettings())
    funded = {c.country for c in expected.trace.countries if c.country != "??"}
    shown = set(page.locator("figure.funding-map g.funded").evaluate_all(
        "gs => gs.map(g => g.classList[0])"))
    assert shown == funded and "gb" in shown
    assert page.locator("figure.funding-map g.funded[style]").count() == 0
    assert page.locator("figure.funding-map g.gb.funded").get_attribute("fill")
    expect(page.locator("table.countries tr.country[data-country='gb']")).to_contain_text("GB")

    # a typology finding: the hawala-like broker pair netting
    netting = page.locator("table.findings tr.finding[data-typology='broker_netting']")
    expect(netting.first).to_contain_text("HWX-N1")

    # click the designated account in the graph: its flows in (from its mules) are listed
    cy_box = page.locator("#flow-graph").bounding_box()
    assert cy_box
    at = page.evaluate(f"(() => window.jointwatchFlowGraph.getElementById('{DESIGNATED}').renderedPosition())()")
    page.mouse.click(cy_box["x"] + at["x"], cy_box["y"] + at["y"])
    expect(page.locator(f"#flow-flows .flow-account[data-account='{DESIGNATED}']")).to_be_visible()
    senders = page.locator("#flow-flows table.flows-in tr.flow")
    expect(senders.first).to_be_visible()
    mules = set(senders.evaluate_all("rows => rows.map(r => r.dataset.account)"))
    assert set(network["mules"]) & mules
    before = page.evaluate("window.jointwatchFlowGraph.nodes().length")
    # follow the money upstream: a mule's own senders join the graph and the panel
    mule = sorted(set(network["mules"]) & mules)[0]
    page.locator(f"#flow-flows table.flows-in tr.flow[data-account='{mule}'] button").click()
    expect(page.locator(f"#flow-flows .flow-account[data-account='{mule}']")).to_be_visible()
    expect(page.locator("#flow-flows table.flows-in tr.flow").first).to_be_visible()
    assert page.evaluate("window.jointwatchFlowGraph.nodes().length") > before
    assert page.evaluate(f"window.jointwatchFlowGraph.getElementById('{mule}').selected()")
    # and from the keyboard: the account list does the same
    page.get_by_label("Account").select_option("COL-N1-0")
    expect(page.locator("#flow-flows .flow-account[data-account='COL-N1-0']")).to_be_visible()
    axe(page)
    fits(page)
    assert not violations, violations

    # the trace is the member's: open again from the form page; another member has none
    page.goto(service.origin + "/console/financing")
    page.get_by_role("link", name=path.name).click()
    expect(page).to_have_url(re.compile(r"/console/financing/trace$"))
    bob = open_console(service)
    sign_in(bob, "bob")
    response = bob.page.goto(service.origin + "/console/financing/trace")
    assert response is not None and response.status == 404


def test_trace_refusals(service: Service, open_console, transactions) -> None:  # type: ignore[no-untyped-def]
    path = transactions["path"]
    assert isinstance(path, Path)
    ann = open_console(service)
    sign_in(ann, "ann")
    page = ann.page
    # a form without its token
    upload = {"name": "t.csv", "mimeType": "text/csv", "buffer": path.read_bytes()}
    response = page.request.post(service.origin + "/console/financing",
                                 multipart={"designated": DESIGNATED, "transactions": upload})
    assert response.status == 403
    # an account that is not in the file: the library's refusal, on the form
    page.goto(service.origin + "/console/financing")
    page.get_by_label("Transaction file").set_input_files(str(path))
    page.get_by_label("Designated accounts").fill("NOT-THERE")
    page.get_by_role("button", name="Trace").click()
    expect(page.locator("p.error")).to_contain_text("none of the designated accounts")
    expect(page.locator("p.error")).not_to_contain_text("/tmp")
    # a screener may screen, not trace
    sam = open_console(service)
    sign_in(sam, "sam")
    expect(sam.page.get_by_role("link", name="Financing")).to_have_count(0)
    response = sam.page.goto(service.origin + "/console/financing")
    assert response is not None and response.status == 403
