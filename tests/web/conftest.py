"""Real services and a real Chromium for the console's browser tests.

Two services run for the session, each uvicorn in a thread on a free loopback port, as
`jointwatch serve` builds them (``create_app`` + ``mount_console``): one over a store with
the real UN list, one over an empty store (screening must refuse). The browser is Debian's
Chromium driven by Playwright (never `playwright install`). Every page is watched: a request
to anywhere but the service's own origin is blocked and fails the test (the console must work
air-gapped), and ``axe`` runs the vendored axe-core in the page.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect, sync_playwright
from sqlalchemy import Engine

from jointwatch.api import ServiceSettings, create_app
from jointwatch.sources import open_list
from jointwatch.store import add_console_user, add_member, load_list, open_engine
from jointwatch.web import hash_password, mount_console
from tests.conftest import UN_FILE
from tests.serving import serving

# how long an action or an assertion waits (ms): the first screening of a service builds its index, which on a
# loaded 2-core runner took more than Playwright's 5 s default for assertions (a CI run beside two benchmarks)
PATIENCE = 15_000
expect.set_options(timeout=PATIENCE)

CHROMIUM = Path(os.environ.get("JOINTWATCH_TEST_CHROMIUM", "/usr/bin/chromium"))
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
PASSWORD = "correct horse battery staple"
# (user, member, role) on the service with lists; "-e" users on the empty one
USERS = [("ann", "agency-a", "analyst"), ("sam", "agency-a", "screener"), ("bob", "agency-b", "analyst"),
         ("cat", "agency-c", "analyst")]


@dataclass
class Service:
    """A running service: its origin and store."""

    origin: str
    engine: Engine


def serve_console(engine: Engine) -> Iterator[Service]:
    """The service with its console over ``engine`` on a free loopback port, until closed."""
    with serving(mount_console(create_app(engine, ServiceSettings()))) as origin:
        yield Service(origin, engine)


def with_users(engine: Engine, users: list[tuple[str, str, str]]) -> Engine:
    hashed = hash_password(PASSWORD)  # one scrypt for every user: the tests need no distinct salts
    for member in sorted({m for _, m, _ in users}):
        add_member(engine, member)
    for user, member, role in users:
        add_console_user(engine, member, user, role, hashed)
    return engine


@pytest.fixture(scope="session")
def web_tmp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    tmp = tmp_path_factory.mktemp("web")
    old = os.environ.get("JOINTWATCH_CACHE")
    os.environ["JOINTWATCH_CACHE"] = str(tmp / "cache")  # the index cache stays out of the user's home
    yield tmp
    if old is None:
        os.environ.pop("JOINTWATCH_CACHE", None)
    else:
        os.environ["JOINTWATCH_CACHE"] = old


@pytest.fixture(scope="session")
def service(web_tmp: Path) -> Iterator[Service]:
    engine = with_users(open_engine(str(web_tmp / "un.db"), create=True), USERS)
    load_list(engine, open_list(UN_FILE, "un"))
    yield from serve_console(engine)
    engine.dispose()


@pytest.fixture(scope="session")
def empty_service(web_tmp: Path) -> Iterator[Service]:
    engine = with_users(open_engine(str(web_tmp / "empty.db"), create=True), [("eve", "agency-e", "analyst")])
    yield from serve_console(engine)
    engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One Chromium a module: Playwright's sync API runs an event loop in this thread while it is
    open, so it must close before another file's test calls ``anyio.run`` in the same worker."""
    if not CHROMIUM.exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: apt-get install chromium chromium-driver (.ci/run does)")
    with sync_playwright() as playwright:
        # --no-sandbox: CI runs as root, where Chromium's sandbox cannot start
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield browser
        browser.close()


@dataclass
class Watched:
    """A browser context on one service, with every request outside its origin noted (and blocked)."""

    context: BrowserContext
    page: Page
    origin: str
    foreign: list[str] = field(default_factory=list)


@pytest.fixture
def open_console(browser: Browser) -> Iterator[Callable[[Service], Watched]]:
    """``open_console(service)``: a fresh browser context (1366×768, no cookies) on the service."""
    opened: list[Watched] = []

    def open_on(service: Service) -> Watched:
        context = browser.new_context(viewport={"width": 1366, "height": 768})
        foreign: list[str] = []

        def guard(route: Route) -> None:
            url = route.request.url
            if url == service.origin or url.startswith(service.origin + "/"):
                route.continue_()
            else:
                foreign.append(url)
                route.abort()

        context.route("**/*", guard)  # before the page opens: nothing it loads escapes the guard
        watched = Watched(context, context.new_page(), service.origin, foreign)
        watched.page.set_default_timeout(PATIENCE)
        opened.append(watched)
        return watched

    yield open_on
    for watched in opened:
        watched.context.close()
    foreign = [url for watched in opened for url in watched.foreign]
    assert not foreign, f"the console requested something outside its origin: {foreign}"


def sign_in(watched: Watched, user: str, password: str = PASSWORD) -> None:
    page = watched.page
    page.goto(watched.origin + "/console/")
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def axe(page: Page) -> None:
    """Run axe-core in the page; fail on any violation of impact "serious" or "critical"."""
    # evaluated over the DevTools protocol, so the console's CSP (scripts from itself only) stays on
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    bad = [{"id": v["id"], "impact": v["impact"], "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5]}
           for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, json.dumps(bad, indent=1)
