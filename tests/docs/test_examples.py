"""Every command shown in README.md and docs/*.md runs as written, in the order shown.

Each page runs in a working folder of its own, through a real shell with the installed
`jointwatch` on PATH, in a temporary tree where `../shared/data` is the real data (a symlink),
so the paths the docs use resolve as they do from a checkout:

- README.md starts from nothing, as a first run does: its own `lists load` lines build the
  store.
- Every other page starts from a copy of a store built once per session from
  `../shared/data`: UN 2026-02-27, OFAC SDN 2023-03-01 and 2023-06-05.
- The working folder holds the small input files the pages name (`customers.csv`,
  `sltd.csv`, `mt103.fin` …: tests/fixtures/docs/; `flight.edi`, `pacs008.xml`,
  `incoming/`, `swift/`: the real samples; `propaganda/`, `uploads/`, `photo.jpg`: scikit-image's sample photographs).
- Each `jointwatch serve` line starts a service in the background, on a free loopback port of
  its own in place of the port the docs give it (`--port N`, or 8000 without one), so a page
  may start several, such as two agencies' servers on 8000 and 8001. In every later command
  `127.0.0.1:N` and `localhost:N` become that service's real port (in `curl` lines, and in a
  URL one server is told to reach another by). A second `serve` on a port the page already
  serves replaces the first, as a reader stops one before starting another. All are stopped
  when the page ends.
- A `NAME=value` line (`KEY=$(jointwatch keys create …)`) sets NAME for the commands after it.

What each command must exit with and print is written in the docs (tests/docs/examples.py);
the commands that cannot run here are listed there, each with its reason.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from jointwatch.screening import open_screener
from jointwatch.sources import open_list
from jointwatch.store import load_list, open_engine
from tests.conftest import DATA, FIXTURES, OFAC_2023_03, OFAC_2023_06, REPO, UN_FILE
from tests.docs.examples import Example, output_matches, read_examples, skip_reason, split_chain, split_comment
from tests.serving import free_port

PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
FRESH = {"README.md"}  # pages that start from no store at all
COMMAND_TIMEOUT = 300  # seconds; a hang fails the page instead of stalling CI
SERVICE_START_TIMEOUT = 180
DEFAULT_PORT = 8000  # `jointwatch serve` without --port
_PORT_OPTION = re.compile(r"\s--port(?:\s+|=)(\d+)(?=\s|$)")
_LOOPBACK = re.compile(r"\b(?:127\.0\.0\.1|localhost):(\d+)(?!\d)")
WORKERS = min(2, os.cpu_count() or 1)
BIN = Path(sys.executable).parent

# the real files the pages name, by the name they use
SAMPLES = {
    "flight.edi": DATA / "travel" / "paxlst" / "loader_airline2.edi",
    "pacs008.xml": FIXTURES / "payments" / "pacs008_sample.xml",
    "incoming/pacs008.xml": FIXTURES / "payments" / "pacs008_sample.xml",
    "incoming/pain001.xml": FIXTURES / "payments" / "pain001_sample.xml",
    "swift/mt103.fin": FIXTURES / "payments" / "mt103_sample.fin",
}


@dataclass
class Tree:
    """The temporary tree: `shared` (→ the real data), the shared caches, the sample photographs."""

    root: Path
    photos: dict[str, bytes] = field(default_factory=dict)


def _photos() -> dict[str, bytes]:
    """Sample photographs (shipped in scikit-image) as files a page banks, matches and hashes."""
    import io

    import numpy as np
    import skimage.data as data
    from PIL import Image, ImageOps

    def png(image: Image.Image, fmt: str = "PNG") -> bytes:
        buffer = io.BytesIO()
        image.save(buffer, fmt)
        return buffer.getvalue()

    astronaut, coffee, rocket = (Image.fromarray(np.asarray(getattr(data, n)())).convert("RGB")
                                 for n in ("astronaut", "coffee", "rocket"))
    w, h = astronaut.size
    return {
        "propaganda/poster.png": png(astronaut),
        "propaganda/banner.png": png(coffee),
        "uploads/repost.jpg": png(ImageOps.mirror(astronaut.crop((0, 0, w, h * 9 // 10))), "JPEG"),
        "uploads/holiday.jpg": png(rocket, "JPEG"),
        "photo.jpg": png(coffee, "JPEG"),
        "upload.jpg": png(astronaut, "JPEG"),
    }


@pytest.fixture(scope="session")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Tree:
    root = tmp_path_factory.mktemp("docs")
    (root / "shared").symlink_to(DATA.parent, target_is_directory=True)
    for name in ("home", "cache"):
        (root / name).mkdir()
    return Tree(root, _photos())


def _build_store(tree: Tree) -> Path:
    """The store the pages other than README start from: UN and two OFAC SDN versions."""
    store = tree.root / "store" / "jointwatch.db"
    store.parent.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JOINTWATCH_CACHE", str(tree.root / "cache"))
        engine = open_engine(str(store), create=True)
        for path, fmt in ((UN_FILE, "un"), (OFAC_2023_03, "ofac-sdn"), (OFAC_2023_06, "ofac-sdn")):
            load_list(engine, open_list(path, fmt))
        open_screener(engine)  # builds the index once and caches it for every page's commands
        engine.dispose()
    return store


def _environment(tree: Tree) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOINTWATCH_") and k != "COLUMNS"}
    env.update(PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}", HOME=str(tree.root / "home"),
               JOINTWATCH_CACHE=str(tree.root / "cache"), NO_COLOR="1", PYTHONUNBUFFERED="1")
    return env


def _working_folder(tree: Tree, page: Path, store: Path | None) -> Path:
    folder = tree.root / page.stem.lower()
    shutil.copytree(FIXTURES / "docs", folder)
    for name, source in SAMPLES.items():
        (folder / name).parent.mkdir(exist_ok=True)
        (folder / name).symlink_to(source)
    for name, content in tree.photos.items():
        (folder / name).parent.mkdir(exist_ok=True)
        (folder / name).write_bytes(content)
    if store is not None:
        shutil.copy(store, folder / "jointwatch.db")
    return folder


class Page:
    """Runs one page's examples in order in its folder, and collects what went wrong."""

    def __init__(self, tree: Tree, page: Path, store: Path | None) -> None:
        self.folder = _working_folder(tree, page, store)
        self.env = _environment(tree)
        # the services the page started: the port the docs give each → (its real port, its process)
        self.services: dict[int, tuple[int, subprocess.Popen[bytes]]] = {}
        self.failures: list[str] = []
        self.skipped: list[str] = []
        self.seconds: list[tuple[float, str]] = []  # printed (pytest -s) to see where the time goes

    def run_all(self, examples: list[Example]) -> Page:
        """Run the examples in order (a failure does not stop the page: all are reported)."""
        try:
            for example in examples:
                try:
                    self.run(example)
                except subprocess.TimeoutExpired:
                    self.failures.append(f"{example.where}: `{example.command}` ran over {COMMAND_TIMEOUT} s")
        finally:
            self.stop()
        return self

    def run(self, example: Example) -> None:
        started = time.monotonic()
        self._run(example)
        self.seconds.append((time.monotonic() - started, f"{example.where}: {example.command[:100]}"))

    def _run(self, example: Example) -> None:
        if example.python:
            done = subprocess.run([str(BIN / "python"), "-"], input=example.command, cwd=self.folder, env=self.env,
                                  capture_output=True, text=True, timeout=COMMAND_TIMEOUT)
            self._check(example, done)
            return
        reason = skip_reason(example.command, bool(self.services))
        if reason:
            self.skipped.append(f"{example.where}: {example.command} ({reason})")
            return
        command = example.command
        if command.startswith("jointwatch serve"):
            self._start_service(example)
            return
        command = self._real_ports(command)
        name = example.assigned
        script = command if name is None else f'{command}\nrc=$?\nprintf "\\0%s" "${name}"\nexit $rc'
        done = subprocess.run(["bash", "-c", script], cwd=self.folder, env=self.env, capture_output=True, text=True,
                              timeout=COMMAND_TIMEOUT)
        if name is not None:
            done.stdout, _, value = done.stdout.rpartition("\0")
            self.env[name] = value
        self._check(example, done)

    def _check(self, example: Example, done: subprocess.CompletedProcess[str]) -> None:
        said = f"\n    stdout: {done.stdout[-1500:]!r}\n    stderr: {done.stderr[-1500:]!r}"
        if done.returncode != example.exit_code:
            self.failures.append(f"{example.where}: `{example.command}` exited {done.returncode}, the docs say "
                                 f"{example.exit_code}{said}")
            return
        for line in example.output:
            if not output_matches(line, done.stdout):
                self.failures.append(f"{example.where}: `{example.command}` did not print {line!r}{said}")
        if example.command.startswith("curl "):
            problem = _http_problem(done.stdout)
            if problem:
                self.failures.append(f"{example.where}: `{example.command}` answered {problem}{said}")

    def _real_ports(self, command: str) -> str:
        return real_ports(command, {docs: real for docs, (real, _) in self.services.items()})

    def _start_service(self, example: Example) -> None:
        docs_port, command = served_port(example.command)
        self._stop(docs_port)
        port = free_port()
        log_path = self.folder / f"serve-{docs_port}.log"
        with log_path.open("wb") as log:
            service = subprocess.Popen(["bash", "-c", f"exec {command} --port {port}"], cwd=self.folder,
                                       env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.services[docs_port] = (port, service)
        deadline = time.monotonic() + SERVICE_START_TIMEOUT
        while time.monotonic() < deadline:
            if service.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        self.failures.append(f"{example.where}: `{example.command}` did not start: "
                             f"{log_path.read_text(errors='replace')[-2000:]}")
        self._stop(docs_port)

    def _stop(self, docs_port: int) -> None:
        served = self.services.pop(docs_port, None)
        service = served[1] if served else None
        if service is not None and service.poll() is None:
            service.send_signal(signal.SIGTERM)
            try:
                service.wait(timeout=40)
            except subprocess.TimeoutExpired:
                service.kill()
                service.wait()

    def stop(self) -> None:
        """Stop every service the page started."""
        for docs_port in list(self.services):
            self._stop(docs_port)


def served_port(command: str) -> tuple[int, str]:
    """The port a `jointwatch serve` line gives (8000 without --port), and the line without it."""
    given = _PORT_OPTION.search(command)
    return (int(given.group(1)) if given else DEFAULT_PORT), _PORT_OPTION.sub("", command)


def real_ports(command: str, ports: dict[int, int]) -> str:
    """The command with `127.0.0.1:N` / `localhost:N` of each served docs port N made its real port."""
    def real(m: re.Match[str]) -> str:
        port = ports.get(int(m.group(1)))
        return m.group(0) if port is None else f"127.0.0.1:{port}"
    return _LOOPBACK.sub(real, command)


def _http_problem(printed: str) -> str | None:
    """The HTTP error a curl got (curl -s exits 0 on a 404), or None."""
    if printed.startswith("HTTP/"):
        status = int(printed.split()[1])
        return f"HTTP {status}" if status >= 400 else None
    try:
        body = json.loads(printed)
    except ValueError:
        return None
    if isinstance(body, dict) and isinstance(body.get("status"), int) and body["status"] >= 400:
        return f"HTTP {body['status']}: {body.get('title')} {body.get('detail') or ''}"
    return None


@pytest.fixture(scope="session")
def page_runs(request: pytest.FixtureRequest, tree: Tree) -> dict[str, Page]:
    """Every selected page run, two at a time (each page's commands in order, in its own folder).

    Most of the time is the start of a `jointwatch` process, one core's work: two pages side by
    side keep both cores of a CI machine busy.
    """
    selected = [Path(str(item.callspec.params["page"])) for item in request.session.items
                if isinstance(item, pytest.Function) and item.originalname == "test_page_examples_run_as_written"]

    def run(page: Path, store: Future[Path] | None) -> Page:
        return Page(tree, page, store.result() if store else None).run_all(read_examples(page)[0])

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        # README (the longest) starts at once, while the store the other pages need is built
        runs = {page.name: pool.submit(run, page, None) for page in selected if page.name in FRESH}
        store = pool.submit(_build_store, tree)
        runs |= {page.name: pool.submit(run, page, store) for page in selected if page.name not in FRESH}
        return {name: done.result() for name, done in runs.items()}


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_page_examples_run_as_written(page: Path, page_runs: dict[str, Page]) -> None:
    _, problems = read_examples(page)
    assert not problems, "\n".join(problems)
    runner = page_runs[page.name]
    for seconds, what in sorted(runner.seconds, reverse=True)[:8]:
        print(f"{seconds:6.1f} s  {what}")
    for skipped in runner.skipped:
        print(f"not run: {skipped}")
    assert not runner.failures, f"{len(runner.failures)} example(s) of {page.name} fail:\n" + "\n".join(
        runner.failures)


def test_every_page_with_commands_runs_some() -> None:
    """A page that shows jointwatch commands has examples the test runs (not all skipped)."""
    for page in PAGES:
        examples, _ = read_examples(page)
        shown = [e for e in examples if e.command.startswith("jointwatch ")]
        run = [e for e in shown if skip_reason(e.command, service_started=True) is None]
        assert not shown or run, f"{page.name}: every jointwatch command is skipped"


# how the examples are read (one line each: line, expected)
COMMENT_CASES = [
    ('jointwatch screen "A #1" --dob 1982   # exit 8: held', ('jointwatch screen "A #1" --dob 1982', "exit 8: held")),
    ("curl -d '{\"a\": \"#\"}' x", ("curl -d '{\"a\": \"#\"}' x", "")),
    ("jointwatch media list --status disputed", ("jointwatch media list --status disputed", "")),
]
CHAIN_CASES = [
    ("a && b", ["a", "b"]),
    ("jointwatch media export bank.csv ; jointwatch media import p.txt", ["jointwatch media export bank.csv",
                                                                          "jointwatch media import p.txt"]),
    ("KEY=$(jointwatch keys create -m X | tail -n 1; true)", ["KEY=$(jointwatch keys create -m X | tail -n 1; true)"]),
    ("echo 'a; b' && c", ["echo 'a; b'", "c"]),
]


SERVE_CASES = [
    ("jointwatch serve", (8000, "jointwatch serve")),
    ("jointwatch serve --db agency-b.db --port 8001", (8001, "jointwatch serve --db agency-b.db")),
    ("jointwatch serve --port=8002 --db b.db", (8002, "jointwatch serve --db b.db")),
]


@pytest.mark.parametrize(("line", "expected"), SERVE_CASES)
def test_served_port(line: str, expected: tuple[int, str]) -> None:
    assert served_port(line) == expected


def test_real_ports_replace_only_served_ports() -> None:
    command = ("jointwatch share links add b --url http://127.0.0.1:8001 && curl -s localhost:8000/health "
               "http://127.0.0.1:80010/x http://127.0.0.1:9000/")
    assert real_ports(command, {8000: 41000, 8001: 41001}) == (
        "jointwatch share links add b --url http://127.0.0.1:41001 && curl -s 127.0.0.1:41000/health "
        "http://127.0.0.1:80010/x http://127.0.0.1:9000/")


@pytest.mark.parametrize(("line", "expected"), COMMENT_CASES)
def test_split_comment(line: str, expected: tuple[str, str]) -> None:
    assert split_comment(line) == expected


@pytest.mark.parametrize(("line", "expected"), CHAIN_CASES)
def test_split_chain(line: str, expected: list[str]) -> None:
    assert split_chain(line) == expected


def test_console_block_output_and_exit_marker(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("```console\n$ jointwatch payments screen a.xml \\\n    b.fin   # exit 8: one held\n"
                    "hold  p1  …  QDi.354\n$ jointwatch lists show\n```\n\n```\njointwatch screen X\n```\n",
                    encoding="utf-8")
    examples, problems = read_examples(page)
    assert [(e.line, e.command, e.exit_code, e.output) for e in examples] == [
        (2, "jointwatch payments screen a.xml b.fin", 8, ["hold  p1  …  QDi.354"]),
        (5, "jointwatch lists show", 0, []),
    ]
    assert problems and "page.md:9" in problems[0]
    assert output_matches("hold p1 … QDi.354", "│ hold │ p1 │ Harzi │ QDi.354 │")
    assert not output_matches("hold p1 … QDi.354", "hold p1\nQDi.354")
