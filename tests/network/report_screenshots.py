"""Screenshots of the offline trace report for docs/network.md, taken in a real Chromium.

    python -m tests.network.report_screenshots      # rewrites docs/img/network-report-*.png

A set is simulated in a temporary folder (100,000 payments, 5 planted networks of 40 donors in up
to 40 countries, seed 7: the benchmark's settings at a smaller size), traced on DuckDB, and its
report opened from disk by Debian's Chromium (Playwright with ``executable_path``, never
``playwright install``) with every request that is not the file itself refused: the report must
work offline. ``tests/network/test_report.py`` runs the same ``take`` into a temporary folder.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Page, Route, sync_playwright

from jointwatch.network import SimulationSettings, analyse, simulate, write_report
from jointwatch.network.designate import designated_accounts
from tests.conftest import REPO

CHROMIUM = Path("/usr/bin/chromium")
FOLDER = REPO / "docs" / "img"


def offline(page: Page) -> list[str]:
    """Refuse every request but file:// ones; the list of what was asked for."""
    asked: list[str] = []

    def refuse(route: Route) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            asked.append(route.request.url)
            route.abort()

    page.route("**/*", refuse)
    return asked


def click_node(page: Page, node_id: str) -> None:
    """A real mouse click on a node of the report's graph, where cytoscape drew it."""
    at = page.evaluate("(id) => window.jointwatchReportGraph.getElementById(id).renderedPosition()", node_id)
    box = page.locator("#flow-graph").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + at["x"], box["y"] + at["y"])


def largest_group(page: Page, level: int) -> str:
    """The id of the drawn group at ``level`` payments with the most USD."""
    node_id: str = page.evaluate("""(level) => window.jointwatchReportGraph.nodes('.group')
        .filter((n) => n.data('level') === level).sort((a, b) => b.data('weight') - a.data('weight'))[0].id()""",
                                 level)
    return node_id


def take(page: Page, report: Path, folder: Path) -> list[Path]:
    """The graph as it opens (grouped), zoomed in, with the largest 3-payment group expanded; the map."""
    folder.mkdir(parents=True, exist_ok=True)
    asked = offline(page)
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(report.as_uri())
    page.wait_for_selector("#flow-graph[data-ready='true']")
    shots = [folder / f"network-report-{name}.png" for name in ("grouped", "grouped-zoom", "expanded", "map")]
    page.locator("#flow-graph").screenshot(path=shots[0])
    # as an analyst zooms in (the wheel): the 3-payment groups and the collectors they paid
    page.evaluate("""() => { const cy = window.jointwatchReportGraph;
        cy.fit(cy.nodes().filter((n) => n.data('level') === 2 || n.data('level') === 3), 10);
        cy.zoom({ level: cy.zoom() * 2, renderedPosition: { x: cy.width() * 0.7, y: cy.height() / 2 } }); }""")
    page.wait_for_timeout(600)  # cytoscape redraws the labels sharp a moment after a zoom
    page.locator("#flow-graph").screenshot(path=shots[1])
    page.evaluate("window.jointwatchReportGraph.fit(undefined, 30)")
    click_node(page, largest_group(page, 3))
    page.wait_for_function("document.getElementById('flow-details').textContent.includes('expanded')")
    page.wait_for_timeout(400)  # the zoom onto the expanded accounts is animated (200 ms)
    page.locator("#flow-graph").screenshot(path=shots[2])
    page.locator("#funding-map").screenshot(path=shots[3])
    assert not asked, f"the report asked for {asked}"
    return shots


def simulated_report(folder: Path) -> Path:
    """The report of the 100,000-payment set, written in ``folder``."""
    simulate(folder, SimulationSettings(transactions=100_000, networks=5, donors=40, countries=40, seed=7), "parquet")
    analysis = analyse(folder / "transactions.parquet", designated_accounts([str(folder / "designated.txt")]),
                       typologies=False)
    write_report(analysis, folder / "report.html")
    return folder / "report.html"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        report = simulated_report(Path(tmp))
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        try:
            for shot in take(browser.new_page(), report, FOLDER):
                print(shot.relative_to(REPO))
        finally:
            browser.close()


if __name__ == "__main__":
    sys.exit(main())
