"""The HTML report opened in a real headless Chromium, offline: the graph and the map must render."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

from jointwatch.network.analysis import analyse
from jointwatch.network.engines import DuckDBEngine
from jointwatch.network.report import write_report
from tests.network.conftest import tx, write_transactions
from tests.network.test_trace import CHAIN

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _dump_dom(page: Path, profile: Path) -> str:
    assert CHROMIUM, "chromium is needed for the report test (apt-get install chromium; see .ci/run)"
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
         "--virtual-time-budget=10000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_report_renders_graph_and_map_offline(tmp_path: Path, duck: DuckDBEngine) -> None:
    rows = [*CHAIN, tx("d4", 1, 80, "D4", "M2", "ma", "tr")]
    path = write_transactions(tmp_path / "chain.csv", rows)
    analysis = analyse(path, ["T"], engine=duck, typologies=True)
    page = tmp_path / "report.html"
    write_report(analysis, page, tmp_path / "report.json")
    text = page.read_text(encoding="utf-8")
    assert "https://" not in re.sub(r"<script>.*?</script>", "", text, flags=re.S)  # nothing fetched
    dom = _dump_dom(page, tmp_path / "profile")
    graph = dom[dom.index('id="flow-graph"'):dom.index('id="funding-map"')]
    # plotly drew its SVG, with one marker per account: D1, D2, D3, D4, C, M, M2, T
    assert 'class="main-svg"' in graph
    assert len(re.findall(r'class="point"', graph)) == 8
    funded = re.findall(r'<g class="([a-z]{2}) country map-element funded" data-usd="([0-9.]+)"', dom)
    # M2 paid 100 out of D3's 60 and D4's 80, first in first out: D3 60, D4 40
    assert sorted(funded) == [("de", "100.00"), ("fr", "100.00"), ("gb", "60.00"), ("ma", "40.00")]
    # D1's 100 came into C first: first in first out credits it whole, last in first out nothing (C's
    # 200 out is D2's 300, in last), proportional 50 (a quarter of C's 400)
    assert "funded" in dom and ("<title>DE: 100.00 USD (first in, first out; between 0.00 – 100.00 by the methods) "
                                "from 1 originators, 1 payments</title>") in dom
    assert "<h2>Countries (first in, first out)</h2>" in dom and "<th>between (fifo, lifo, proportional)</th>" in dom
    assert "<td>DE</td><td>100.00</td><td>0.00 – 100.00</td>" in dom
    assert (tmp_path / "report.json").stat().st_size > 0


def test_report_screenshot_is_not_blank(tmp_path: Path, duck: DuckDBEngine) -> None:
    path = write_transactions(tmp_path / "chain.csv", CHAIN)
    page = tmp_path / "report.html"
    write_report(analyse(path, ["T"], engine=duck), page)
    shot = tmp_path / "shot.png"
    assert CHROMIUM
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run",
                    f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=10000",
                    "--window-size=1200,1600", f"--screenshot={shot}", page.as_uri()],
                   capture_output=True, timeout=120, check=True)
    # a rendered page with a graph and a filled map compresses far worse than a blank one
    assert shot.stat().st_size > 50_000


# Account ids and holder names come from the transaction file: whoever wrote it controls them.
HOSTILE_ACCOUNT = "M</script><script>document.title='INJECTED'</script><!--"  # the issue's, minus a blocking alert
HOSTILE_HOLDER = "</script><script>document.body.dataset.injected='holder'</script> & <b>Co</b>\u2028"


def _cell_texts(dom: str) -> list[str]:
    """The text of every table cell of a DOM dump, as a reader sees it."""
    from html.parser import HTMLParser

    cells: list[str] = []

    class Cells(HTMLParser):
        inside = False

        def handle_starttag(self, tag: str, attrs: object) -> None:
            if tag == "td":
                self.inside = True
                cells.append("")

        def handle_endtag(self, tag: str) -> None:
            self.inside = self.inside and tag != "td"

        def handle_data(self, data: str) -> None:
            if self.inside:
                cells[-1] += data

    Cells(convert_charrefs=True).feed(dom)
    return cells


def test_hostile_account_ids_and_names_are_shown_not_run(tmp_path: Path, duck: DuckDBEngine) -> None:
    rows = [{**tx("d1", 1, 100, HOSTILE_ACCOUNT, "C", "de", "tr"), "sender_name": HOSTILE_HOLDER},
            *[r for r in CHAIN if r["id"] != "d1"]]
    path = write_transactions(tmp_path / "chain.csv", rows)
    page = tmp_path / "report.html"
    write_report(analyse(path, ["T"], engine=duck), page)
    text = page.read_text(encoding="utf-8")
    # the figure's data sits in a <script> block: nothing in it may close the block or open a comment
    figure = text[text.index("const figure = ") + len("const figure = "):]
    figure = figure[:figure.index(";\nPlotly.newPlot")]
    assert "<" not in figure and ">" not in figure and "\u2028" not in figure
    hover = json.loads(figure)["data"][1]["text"]
    assert any(html.unescape(h).startswith(HOSTILE_ACCOUNT + "<br>") for h in hover)  # plotly shows it as text
    dom = _dump_dom(page, tmp_path / "profile")
    assert "<title>jointwatch network trace</title>" in dom and "INJECTED" not in dom.split("</title>")[0]
    assert "data-injected" not in dom
    # the graph script still ran (one marker per account), so the data did not break out of its block
    graph = dom[dom.index('id="flow-graph"'):dom.index('id="funding-map"')]
    assert len(re.findall(r'class="point"', graph)) == 7
    cells = _cell_texts(dom)
    assert HOSTILE_ACCOUNT in cells and HOSTILE_HOLDER in cells
