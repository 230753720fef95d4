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

import io
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from jointwatch import media
from jointwatch.errors import InvalidInputError, MessageFormatError
from jointwatch.network import SimulationSettings, TraceSettings, analyse, simulate
from tests.network.conftest import tx, write_transactions
from tests.web.conftest import Service, axe, sign_in

DESIGNATED = "DSG-N1"
LISTED_NAME = "TARAK BEN TAHER BEN FALEH OUNI HARZI"  # QDi.354 in the UN list of 2026-02-27


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


def test_trace_screens_holders(service: Service, open_console, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """As `network trace --screen`: an account whose holder is QDi.354's listed name is designated by
    the service's screener, with no account id given, and its funders traced."""
    rows = [tx("h1", 1, 900, "D1", "ACC-H", "de", "tn"), tx("h2", 2, 400, "D2", "ACC-H", "fr", "tn"),
            tx("h3", 3, 50, "D3", "D4", "gb", "gb")]
    for row in rows[:2]:
        row["receiver_name"] = LISTED_NAME
    path = write_transactions(tmp_path / "holders.csv", rows)
    ann = open_console(service)
    sign_in(ann, "ann")
    page = ann.page
    page.goto(service.origin + "/console/financing")
    page.get_by_label("Transaction file").set_input_files(str(path))
    page.get_by_label("Also designate accounts whose holder name matches the lists").check()
    page.get_by_role("button", name="Trace").click()
    expect(page).to_have_url(re.compile(r"/console/financing/trace$"))
    match = page.locator("table.holder-matches tr.holder-match[data-account='ACC-H']")
    expect(match).to_have_attribute("data-reference", "QDi.354")
    expect(match).to_contain_text("un_sc")
    expect(page.get_by_role("heading", name="Funding of ACC-H")).to_be_visible()
    shown = set(page.locator("figure.funding-map g.funded").evaluate_all("gs => gs.map(g => g.classList[0])"))
    assert shown == {"de", "fr"}
    axe(page)


def test_trace_by_another_attribution_method(service: Service, open_console, transactions) -> None:  # type: ignore[no-untyped-def]
    path = transactions["path"]
    assert isinstance(path, Path)
    ann = open_console(service)
    sign_in(ann, "ann")
    page = ann.page
    page.goto(service.origin + "/console/financing")
    page.get_by_label("Transaction file").set_input_files(str(path))
    page.get_by_label("Designated accounts").fill(DESIGNATED)
    page.get_by_label("Attribution method").select_option("lifo")
    page.get_by_role("button", name="Trace").click()
    expect(page).to_have_url(re.compile(r"/console/financing/trace$"))
    # the method on every figure, and each country between the lowest and highest of the methods
    expect(page.get_by_role("heading", name="Funding by country (last in, first out)")).to_be_visible()
    expect(page.locator("dl.trace-summary")).to_contain_text("last in, first out")
    expected = analyse(path, [DESIGNATED], TraceSettings(method="lifo"))
    top = expected.trace.countries[0]
    row = page.locator(f"table.countries tr.country[data-country='{top.country}']")
    expect(row).to_contain_text(f"{top.amount:,.2f}")
    expect(row.locator("td.between")).to_have_text(f"{top.low:,.2f} – {top.high:,.2f}")
    axe(page)


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
    # what a browser's date and number fields would not send: refused by the library's checks, never a crash
    token = page.locator("input[name='csrf']").first.get_attribute("value") or ""
    for name, value in (("since", "2024-01-01'; --"), ("lookback_days", "nan"), ("hops", "-1"),
                        ("method", "fifo'; --")):
        sent = page.request.post(service.origin + "/console/financing", multipart={
            "csrf": token, "designated": DESIGNATED, "transactions": upload, name: value})
        assert sent.status == InvalidInputError.http_status, (name, sent.status)
        assert "class=\"error\"" in sent.text()
    # a file that is not a transaction file
    sent = page.request.post(service.origin + "/console/financing", multipart={
        "csrf": token, "designated": DESIGNATED,
        "transactions": {"name": "x.csv", "mimeType": "text/csv", "buffer": b"\x00\xff garbage\n1,2\n"}})
    # refused where it breaks the format: the engine's reader names no line (docs/network.md, "Bad input")
    assert sent.status == MessageFormatError.http_status and "x.csv, line 2: 2 fields where the header has 1" \
        in sent.text()
    assert "jointwatch-trace-" not in sent.text()
    sent = page.request.post(service.origin + "/console/financing", multipart={
        "csrf": token, "designated": DESIGNATED,
        "transactions": {"name": "x.exe", "mimeType": "application/octet-stream", "buffer": b"MZ"}})
    assert sent.status == InvalidInputError.http_status and ".csv or .parquet" in sent.text()
    # a screener may screen, not trace
    sam = open_console(service)
    sign_in(sam, "sam")
    expect(sam.page.get_by_role("link", name="Financing")).to_have_count(0)
    response = sam.page.goto(service.origin + "/console/financing")
    assert response is not None and response.status == 403


def photo(name: str, fmt: str = "PNG") -> bytes:
    """One of scikit-image's sample photographs (bundled: no download) as an image file's bytes."""
    import skimage.data  # noqa: PLC0415 - the media tests' own photographs
    from PIL import Image  # noqa: PLC0415

    image = Image.fromarray(np.asarray(getattr(skimage.data, name)())).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, fmt, **({"quality": 85} if fmt == "JPEG" else {}))
    return buffer.getvalue()


def bank(engine: Engine, member: str, name: str, tlp: str, group: str) -> int:
    """``member`` banks photograph ``name`` through the library, as POST /media/items/upload does."""
    hashed = media.hash_media(photo(name), name, for_bank=True)
    signature = hashed.signature.to_bytes() if hashed.signature else None
    done = media.contribute(engine, member, "bob", hashed.hashes, media.make_labels("propaganda", group, tlp),
                            signature, origin="test")
    return done.item.id


@pytest.fixture(scope="module")
def banked(service: Service) -> dict[str, int]:
    """agency-b's items: the coffee photograph at TLP:GREEN, the rocket at TLP:RED."""
    pytest.importorskip("pdqhash")  # the media extra
    return {"green": bank(service.engine, "agency-b", "coffee", "green", "Group Green"),
            "red": bank(service.engine, "agency-b", "rocket", "red", "Group Red")}


def upload(page: Page, origin: str, folder: Path, name: str) -> None:
    """Match a JPEG re-encoding of photograph ``name`` (a copy a reviewer would meet: not the banked bytes)."""
    path = folder / f"{name}.jpg"
    path.write_bytes(photo(name, "JPEG"))
    page.goto(origin + "/console/media")
    page.get_by_label("Image or file").set_input_files(str(path))
    page.get_by_role("button", name="Match").click()
    expect(page.get_by_role("heading", name=f"Matches of {name}.jpg")).to_be_visible()


def test_media_match_hidden_and_dispute(service: Service, open_console, banked, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ann = open_console(service)
    violations: list[str] = []
    ann.page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    sign_in(ann, "ann")
    page = ann.page
    page.get_by_role("link", name="Media").click()
    expect(page.get_by_role("heading", name="Media", exact=True)).to_be_visible()
    axe(page)

    # the GREEN item of another member: matched by PDQ, its labels beside the upload's thumbnail
    upload(page, service.origin, tmp_path, "coffee")
    row = page.locator(f"tr.media-match[data-item='{banked['green']}']")
    expect(row).to_have_count(1)
    assert row.get_attribute("data-method") in ("pdq", "pdq-canonical", "orb")
    expect(row.locator("td.method")).to_contain_text(re.compile("PDQ|signature"))
    expect(row).to_contain_text("Group Green")
    expect(row).to_contain_text("TLP:GREEN")
    expect(row).to_contain_text("agency-b")
    thumb = page.get_by_role("img", name="The uploaded image, coffee.jpg, blurred and greyscale")
    expect(thumb).to_be_visible()
    assert (thumb.get_attribute("src") or "").startswith("data:image/png;base64,")
    expect(page.locator("li.hidden-match")).to_have_count(0)
    axe(page)
    fits(page)

    # the RED item: only a reference to ask about, never its labels or number
    upload(page, service.origin, tmp_path, "rocket")
    expect(page.locator("tr.media-match")).to_have_count(0)
    hidden = page.locator("li.hidden-match")
    expect(hidden).to_have_count(1)
    expect(hidden).to_contain_text("ask its contributor")
    expect(page.locator("main")).not_to_contain_text("Group Red")
    assert f"/media/items/{banked['red']}" not in page.content()
    hidden.get_by_label("Question to the contributor").fill("Which release is this from? Case 2026/41.")
    hidden.get_by_role("button", name="Ask").click()
    expect(page.get_by_role("status")).to_contain_text("went to the item's contributor")
    response = page.goto(service.origin + f"/console/media/items/{banked['red']}")
    assert response is not None and response.status == 404

    # dispute the GREEN item with a reason: listed as disputed, and it no longer matches for agency-a
    page.goto(service.origin + f"/console/media/items/{banked['green']}")
    expect(page.locator("dd.item-status")).to_have_text("active")
    axe(page)
    page.get_by_label("Reason").fill("a coffee cup: not terrorist content")
    page.get_by_role("button", name="Dispute").click()
    expect(page.locator("dd.item-status")).to_have_text("disputed")
    expect(page.locator("table.media-history")).to_contain_text("a coffee cup: not terrorist content")
    page.get_by_role("link", name="Back to media").click()
    expect(page.locator(f"tr.media-dispute[data-item='{banked['green']}']")).to_have_count(1)
    upload(page, service.origin, tmp_path, "coffee")
    expect(page.locator(f"tr.media-match[data-item='{banked['green']}']")).to_have_count(0)
    assert not violations, violations

    # another member (agency-c) still matches it: a dispute is agency-a's
    cat = open_console(service)
    sign_in(cat, "cat")
    upload(cat.page, service.origin, tmp_path, "coffee")
    expect(cat.page.locator(f"tr.media-match[data-item='{banked['green']}']")).to_have_count(1)


def _pixels(uri: str) -> np.ndarray:
    """The pixels of a ``data:image/…;base64,`` URI, as RGB."""
    import base64  # noqa: PLC0415

    from PIL import Image  # noqa: PLC0415

    assert re.match(r"data:image/(png|jpeg);base64,", uri), uri[:40]
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))).convert("RGB"), dtype=float)


def _sharpness(pixels: np.ndarray) -> float:
    """Mean absolute difference between neighbouring pixels: high for a sharp picture, low for a blurred one."""
    grey = pixels.mean(axis=2)
    return float(np.abs(np.diff(grey, axis=1)).mean() + np.abs(np.diff(grey, axis=0)).mean())


def test_upload_thumbnail_blurred_until_revealed_and_the_reveal_audited(  # type: ignore[no-untyped-def]
        service: Service, open_console, banked, tmp_path: Path) -> None:
    from jointwatch.store import get_member, read_audit  # noqa: PLC0415

    ann = open_console(service)
    sign_in(ann, "ann")
    page = ann.page
    item = bank(service.engine, "agency-b", "chelsea", "green", "Group Cat")   # not disputed by anyone
    upload(page, service.origin, tmp_path, "chelsea")
    member = get_member(service.engine, "agency-a")
    before = [a for a in read_audit(service.engine, member.id) if a.action == "console.media.reveal"]

    # by default: greyscale (every pixel's R = G = B) and blurred, and no way to the full picture in the page
    blurred = page.get_by_role("img", name="The uploaded image, chelsea.jpg, blurred and greyscale")
    expect(blurred).to_be_visible()
    grey = _pixels(blurred.get_attribute("src") or "")
    assert np.array_equal(grey[..., 0], grey[..., 1]) and np.array_equal(grey[..., 1], grey[..., 2])
    assert "data:image/png;base64," not in (page.locator("form.inline-form input[name=preview]").get_attribute("value")
                                            or "")
    axe(page)

    # shown in full only when asked: the colour picture replaces it in place, much sharper
    page.get_by_role("button", name="Show in full").click()
    full = page.get_by_role("img", name="The uploaded image, chelsea.jpg, in full")
    expect(full).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("blurred and greyscale"))).to_have_count(0)
    colour = _pixels(full.get_attribute("src") or "")
    assert np.abs(colour[..., 0] - colour[..., 2]).mean() > 5          # colour again
    assert _sharpness(colour) > 3 * _sharpness(grey)
    axe(page)

    # audited: who, when, which upload and which matched item
    after = [a for a in read_audit(service.engine, member.id) if a.action == "console.media.reveal"]
    assert len(after) == len(before) + 1
    row = next(a for a in after if a not in before)
    assert row.user == "ann" and row.status == 200 and row.at is not None
    assert f"#{item}" in row.result_summary and "sha256:" in row.result_summary

    # the sealed picture is this session's: another user, or an altered form, cannot open it
    upload(page, service.origin, tmp_path, "chelsea")
    form = {name: page.locator(f"form.inline-form input[name={name}]").get_attribute("value") or ""
            for name in ("csrf", "preview", "sha256", "items", "filename")}
    cat = open_console(service)
    sign_in(cat, "cat")
    cat.page.goto(service.origin + "/console/media")
    theirs = dict(form, csrf=cat.page.locator("form.media-form input[name=csrf]").get_attribute("value") or "")
    refused = cat.page.request.post(service.origin + "/console/media/reveal", form=theirs)
    assert refused.status == 422
    altered = dict(form, items="")   # claiming no item was matched: the seal binds the items
    assert page.request.post(service.origin + "/console/media/reveal", form=altered).status == 422
    refusals = [a for a in read_audit(service.engine, member.id) if a.action == "console.media.reveal"
                and a.status == 422]
    assert refusals


def test_media_refusals(service: Service, open_console, banked, tmp_path: Path,  # type: ignore[no-untyped-def]
                        monkeypatch: pytest.MonkeyPatch) -> None:
    ann = open_console(service)
    sign_in(ann, "ann")
    page = ann.page
    # forms without their token: an upload and a dispute
    image = {"name": "coffee.jpg", "mimeType": "image/jpeg", "buffer": photo("coffee", "JPEG")}
    assert page.request.post(service.origin + "/console/media/match", multipart={"file": image}).status == 403
    assert page.request.post(service.origin + f"/console/media/items/{banked['green']}/dispute",
                             form={"reason": "no token"}).status == 403
    # a screener matches but may not dispute (the API's DECIDE right)
    sam = open_console(service)
    sign_in(sam, "sam")
    expect(sam.page.get_by_role("link", name="Media")).to_have_count(1)
    upload(sam.page, service.origin, tmp_path, "rocket")
    expect(sam.page.locator("li.hidden-match")).to_have_count(1)
    expect(sam.page.get_by_role("button", name="Ask")).to_have_count(0)
    sam.page.goto(service.origin + f"/console/media/items/{banked['green']}")
    expect(sam.page.get_by_role("button", name="Dispute")).to_have_count(0)
    token = sam.page.locator("input[name='csrf']").first.get_attribute("value")
    refused = sam.page.request.post(service.origin + f"/console/media/items/{banked['green']}/dispute",
                                    form={"csrf": token or "", "reason": "screener"})
    assert refused.status == 403
    # without the media extra the page says so (the library's MissingExtraError), never a 500
    monkeypatch.setitem(sys.modules, "pdqhash", None)
    page.get_by_role("link", name="Media").click()
    path = tmp_path / "coffee.jpg"
    path.write_bytes(photo("coffee", "JPEG"))
    page.get_by_label("Image or file").set_input_files(str(path))
    page.get_by_role("button", name="Match").click()
    expect(page.locator("p.error")).to_contain_text("'media' extra")
