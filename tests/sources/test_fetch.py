"""Tests of the official list downloader against a real HTTP server on 127.0.0.1.

The server serves files from the test's temporary folder with ETag and Last-Modified, answers
304 to matching conditional requests, and can be told to fail (500s, a fixed status, a body
cut short, no Content-Length). No test reaches beyond 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import json
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from jointwatch.errors import DownloadError, FetchError
from jointwatch.sources.fetch import (
    MAX_BYTES,
    META_NAME,
    FetchResult,
    SourceEntry,
    SourceFile,
    default_cache_dir,
    fetch_source,
    local_source,
    official_sources,
)
from jointwatch.sources.ofac_csv import parse_ofac_sdn
from jointwatch.sources.uk import parse_uk_list

TEST_SECONDS = 30
XML = b"<CONSOLIDATED_LIST><INDIVIDUALS/></CONSOLIDATED_LIST>\n"


@dataclass
class ServerState:
    """What the test server serves and how it misbehaves; requests are recorded."""

    root: Path
    fail_500: int = 0  # answer 500 to this many requests first
    status: int | None = None  # answer every request with this status
    truncate: bool = False  # announce the full Content-Length, send half, close
    omit_length: bool = False  # no Content-Length: body delimited by closing the connection
    validators: bool = True  # send ETag and Last-Modified, honour conditional requests
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def make_handler(state: ServerState) -> type[BaseHTTPRequestHandler]:
    """A request handler class serving ``state.root`` as ``state`` says."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - keep output quiet
            return

        def _plain(self, status: int) -> None:
            body = f"status {status}\n".encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            with state.lock:
                state.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                failing = state.fail_500 > 0
                state.fail_500 -= 1 if failing else 0
            if failing:
                return self._plain(500)
            if state.status:
                return self._plain(state.status)
            path = state.root / self.path.split("?")[0].lstrip("/")
            if not path.is_file():
                return self._plain(404)
            body = path.read_bytes()
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            mtime = int(path.stat().st_mtime)
            since = self.headers.get("If-Modified-Since")
            match = self.headers.get("If-None-Match")
            fresh = match == etag if match else _not_modified_since(since, mtime)
            if state.validators and fresh:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return None
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            if state.validators:
                self.send_header("ETag", etag)
                self.send_header("Last-Modified", formatdate(mtime, usegmt=True))
            if state.omit_length:
                self.send_header("Connection", "close")
                self.close_connection = True
            else:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if state.truncate:
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                return None
            self.wfile.write(body)
            return None

    return Handler


def _not_modified_since(since: str | None, mtime: int) -> bool:
    """Whether an If-Modified-Since value is at or after the file's modification time."""
    return since is not None and parsedate_to_datetime(since).timestamp() >= mtime


class QuietServer(ThreadingHTTPServer):
    """A threading server that does not print the resets of clients that hang up early."""

    def handle_error(self, request: object, client_address: object) -> None:
        return


@dataclass
class Served:
    """A running test server: its base URL, the folder it serves and its state."""

    base: str
    root: Path
    state: ServerState

    def put(self, name: str, content: bytes) -> str:
        """Publish a file on the server and return its URL."""
        (self.root / name).write_bytes(content)
        return f"{self.base}/{name}"


@pytest.fixture(autouse=True)
def _bounded() -> Iterator[None]:
    """Fail any test of this module that runs longer than TEST_SECONDS."""

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"test ran longer than {TEST_SECONDS} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, TEST_SECONDS)
    yield
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """A ThreadingHTTPServer on 127.0.0.1 (free port) serving ``tmp_path/www``."""
    root = tmp_path / "www"
    root.mkdir()
    state = ServerState(root)
    server = QuietServer(("127.0.0.1", 0), make_handler(state))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield Served(f"http://127.0.0.1:{server.server_address[1]}", root, state)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    """An HTTP client with short timeouts that ignores proxy settings of the environment."""
    with httpx.Client(timeout=httpx.Timeout(5.0), trust_env=False) as http:
        yield http


def entry(*files: tuple[str, str], source: str = "un_sc", fmt: str = "un") -> SourceEntry:
    """A registry entry for the given (url, filename) pairs."""
    return SourceEntry(source, fmt, tuple(SourceFile(name, url) for url, name in files))


def fetch(e: SourceEntry, cache: Path, client: httpx.Client, max_bytes: int = MAX_BYTES) -> FetchResult:
    """fetch_source without waiting between retries."""
    return fetch_source(e, cache, client, max_bytes=max_bytes, backoff=0.0)


def meta(cache: Path, source: str = "un_sc") -> dict:
    """The per-file records of a source's sidecar."""
    return json.loads((cache / source / META_NAME).read_text(encoding="utf-8"))["files"]


def leftovers(cache: Path) -> list[Path]:
    """Temporary download files left in the cache."""
    return list(cache.rglob("*.part"))


def test_first_fetch_downloads_and_writes_meta(served: Served, tmp_path: Path, monkeypatch) -> None:
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    url = served.put("consolidated.xml", XML)
    cache = tmp_path / "cache"
    seen: list[tuple[int, int | None]] = []
    result = fetch_source(entry((url, "consolidated.xml")), cache, progress=lambda n, t: seen.append((n, t)))
    assert result.statuses == {"consolidated.xml": 200}
    assert result.changed and result.bytes_downloaded == len(XML)
    assert (result.source, result.format) == ("un_sc", "un")
    assert result.path == cache / "un_sc" / "consolidated.xml"
    assert result.path.read_bytes() == XML
    record = meta(cache)["consolidated.xml"]
    assert record["etag"].startswith('"') and record["last_modified"].endswith("GMT")
    assert record["sha256"] == hashlib.sha256(XML).hexdigest() and record["url"] == url
    assert seen[-1] == (len(XML), len(XML))
    assert served.state.requests[0][1].get("if-none-match") is None
    assert not leftovers(cache)


def test_second_fetch_is_conditional_and_keeps_the_file(served: Served, tmp_path: Path, client) -> None:
    url = served.put("consolidated.xml", XML)
    cache = tmp_path / "cache"
    first = fetch(entry((url, "consolidated.xml")), cache, client)
    before = first.path.stat()
    second = fetch(entry((url, "consolidated.xml")), cache, client)
    headers = served.state.requests[-1][1]
    assert headers["if-none-match"] == meta(cache)["consolidated.xml"]["etag"]
    assert "if-modified-since" in headers
    assert second.statuses == {"consolidated.xml": 304}
    assert not second.changed and second.bytes_downloaded == 0
    after = second.path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert second.path.read_bytes() == XML


def test_tampered_cached_copy_is_downloaded_again(served: Served, tmp_path: Path, client) -> None:
    url = served.put("consolidated.xml", XML)
    cache = tmp_path / "cache"
    first = fetch(entry((url, "consolidated.xml")), cache, client)
    first.path.write_bytes(b"<edited by hand/>")
    again = fetch(entry((url, "consolidated.xml")), cache, client)
    assert "if-none-match" not in served.state.requests[-1][1]
    assert again.statuses == {"consolidated.xml": 200} and again.path.read_bytes() == XML
    assert not again.changed  # the same list as last downloaded, now restored


def test_changed_file_on_server_is_downloaded(served: Served, tmp_path: Path, client) -> None:
    url = served.put("consolidated.xml", XML)
    cache = tmp_path / "cache"
    fetch(entry((url, "consolidated.xml")), cache, client)
    new = XML.replace(b"<INDIVIDUALS/>", b"<INDIVIDUALS><INDIVIDUAL/></INDIVIDUALS>")
    served.put("consolidated.xml", new)
    result = fetch(entry((url, "consolidated.xml")), cache, client)
    assert result.statuses == {"consolidated.xml": 200} and result.changed
    assert result.path.read_bytes() == new
    assert meta(cache)["consolidated.xml"]["sha256"] == hashlib.sha256(new).hexdigest()


def test_same_content_without_validators_is_not_a_change(served: Served, tmp_path: Path, client) -> None:
    served.state.validators = False
    url = served.put("consolidated.xml", XML)
    cache = tmp_path / "cache"
    fetch(entry((url, "consolidated.xml")), cache, client)
    again = fetch(entry((url, "consolidated.xml")), cache, client)
    assert again.statuses == {"consolidated.xml": 200}
    assert not again.changed and again.bytes_downloaded == len(XML)


def test_500_twice_then_200_succeeds_after_retries(served: Served, tmp_path: Path, client) -> None:
    url = served.put("consolidated.xml", XML)
    served.state.fail_500 = 2
    result = fetch(entry((url, "consolidated.xml")), tmp_path / "cache", client)
    assert result.statuses == {"consolidated.xml": 200} and result.path.read_bytes() == XML
    assert len(served.state.requests) == 3
    assert not leftovers(tmp_path / "cache")


def test_persistent_500_gives_up_after_three_retries(served: Served, tmp_path: Path, client) -> None:
    url = served.put("consolidated.xml", XML)
    served.state.fail_500 = 100
    with pytest.raises(DownloadError) as caught:
        fetch(entry((url, "consolidated.xml")), tmp_path / "cache", client)
    assert len(served.state.requests) == 4
    assert caught.value.status == 500 and "HTTP 500" in str(caught.value) and url in str(caught.value)


def test_404_names_the_url_and_keeps_the_cached_file(served: Served, tmp_path: Path, client) -> None:
    url = served.put("consolidated.xml", XML)
    cache = tmp_path / "cache"
    fetch(entry((url, "consolidated.xml")), cache, client)
    sidecar = (cache / "un_sc" / META_NAME).read_bytes()
    served.state.status = 404
    count = len(served.state.requests)
    with pytest.raises(DownloadError) as caught:
        fetch(entry((url, "consolidated.xml")), cache, client)
    message = str(caught.value)
    assert "un_sc" in message and url in message and "404" in message
    assert caught.value.status == 404 and caught.value.url == url
    assert len(served.state.requests) == count + 1  # a 4xx is never retried
    assert (cache / "un_sc" / "consolidated.xml").read_bytes() == XML
    assert (cache / "un_sc" / META_NAME).read_bytes() == sidecar


def test_truncated_body_keeps_the_old_cached_file(served: Served, tmp_path: Path, client) -> None:
    url = served.put("consolidated.xml", XML)
    cache = tmp_path / "cache"
    fetch(entry((url, "consolidated.xml")), cache, client)
    served.put("consolidated.xml", XML * 200)
    served.state.truncate = True
    with pytest.raises(FetchError) as caught:
        fetch(entry((url, "consolidated.xml")), cache, client)
    assert url in str(caught.value) and "connection error" in str(caught.value)
    assert (cache / "un_sc" / "consolidated.xml").read_bytes() == XML
    assert not leftovers(cache)


@pytest.mark.parametrize("omit_length", [False, True], ids=["announced", "streamed"])
def test_size_limit_exceeded(served: Served, tmp_path: Path, client, omit_length: bool) -> None:
    served.state.omit_length = omit_length
    url = served.put("consolidated.xml", XML * 100)
    with pytest.raises(FetchError) as caught:
        fetch(entry((url, "consolidated.xml")), tmp_path / "cache", client, max_bytes=1000)
    assert url in str(caught.value) and "limit of 1000" in str(caught.value)
    assert len(served.state.requests) == 1
    assert not (tmp_path / "cache" / "un_sc" / "consolidated.xml").exists()
    assert not leftovers(tmp_path / "cache")


def test_body_without_content_length_is_read_to_the_end(served: Served, tmp_path: Path, client) -> None:
    served.state.omit_length = True
    url = served.put("consolidated.xml", XML * 50)
    result = fetch(entry((url, "consolidated.xml")), tmp_path / "cache", client)
    assert result.path.read_bytes() == XML * 50


def _ofac(served: Served) -> SourceEntry:
    names = ("sdn.csv", "alt.csv", "add.csv")
    urls = [served.put(name.upper(), f'1,"ROW OF {name}"\r\n'.encode()) for name in names]
    return entry(*zip(urls, names, strict=True), source="us_ofac_sdn", fmt="ofac-sdn")


def test_ofac_triplet_lands_in_one_folder(served: Served, tmp_path: Path, client) -> None:
    cache = tmp_path / "cache"
    result = fetch(_ofac(served), cache, client)
    assert result.path == cache / "us_ofac_sdn" and result.format == "ofac-sdn"
    saved = sorted(p.name for p in result.path.iterdir() if p.name != META_NAME)
    assert saved == ["add.csv", "alt.csv", "sdn.csv"]
    assert result.statuses == {"sdn.csv": 200, "alt.csv": 200, "add.csv": 200}
    assert (result.path / "alt.csv").read_bytes() == b'1,"ROW OF alt.csv"\r\n'


def test_ofac_triplet_is_replaced_all_or_nothing(served: Served, tmp_path: Path, client) -> None:
    cache = tmp_path / "cache"
    e = _ofac(served)
    fetch(e, cache, client)
    served.put("SDN.CSV", b'2,"NEW ROW"\r\n')
    (served.root / "ALT.CSV").unlink()
    with pytest.raises(FetchError, match="ALT.CSV"):
        fetch(e, cache, client)
    assert (cache / "us_ofac_sdn" / "sdn.csv").read_bytes() == b'1,"ROW OF sdn.csv"\r\n'
    assert not leftovers(cache)
    served.put("ALT.CSV", b'1,"ROW OF alt.csv"\r\n')
    result = fetch(e, cache, client)  # the next run is still conditional for the unchanged files
    assert result.statuses == {"sdn.csv": 200, "alt.csv": 304, "add.csv": 304} and result.changed
    assert (cache / "us_ofac_sdn" / "sdn.csv").read_bytes() == b'2,"NEW ROW"\r\n'


def test_fetched_paths_are_what_the_loaders_take(served: Served, tmp_path: Path, client) -> None:
    cache = tmp_path / "cache"
    uk_xml = (Path(__file__).parent.parent / "fixtures" / "uk_sanctions_sample.xml").read_bytes()
    uk = entry((served.put("UK-Sanctions-List.xml", uk_xml), "UK-Sanctions-List.xml"),
               source="uk_sanctions", fmt="uk")
    assert list(parse_uk_list(fetch(uk, cache, client).path).records)
    rows = {"SDN.CSV": b'36,"AEROCARIBBEAN AIRLINES",-0-,"CUBA",-0-,-0-,-0-,-0-,-0-,-0-,-0-,-0-\r\n\x1a',
            "ALT.CSV": b'36,12,"aka","AERO-CARIBBEAN",-0-\r\n\x1a',
            "ADD.CSV": b'36,25,-0-,"Havana","Cuba",-0-\r\n\x1a'}
    urls = [(served.put(name, row), name.lower()) for name, row in rows.items()]
    result = fetch(entry(*urls, source="us_ofac_sdn", fmt="ofac-sdn"), cache, client)
    records = list(parse_ofac_sdn(result.path).records)
    assert [r.reference for r in records] == ["36"]


def test_token_in_the_url_is_masked_in_errors_and_the_sidecar(served: Served, tmp_path: Path, client) -> None:
    served.state.status = 403
    url = f"{served.base}/content?token=PERSONAL-SECRET"
    with pytest.raises(FetchError) as caught:
        fetch(entry((url, "eu_fsf.xml"), source="eu_fsf", fmt="eu"), tmp_path / "cache", client)
    assert "PERSONAL-SECRET" not in str(caught.value) and "token=%2A%2A%2A" in str(caught.value)
    assert "403" in str(caught.value)
    served.state.status = None
    served.put("content", XML)
    fetch(entry((url, "eu_fsf.xml"), source="eu_fsf", fmt="eu"), tmp_path / "cache", client)
    assert "PERSONAL-SECRET" not in (tmp_path / "cache" / "eu_fsf" / META_NAME).read_text()
    again = fetch(entry((url, "eu_fsf.xml"), source="eu_fsf", fmt="eu"), tmp_path / "cache", client)
    assert again.statuses == {"eu_fsf.xml": 304}


def test_registry_lists_the_official_sources() -> None:
    entries = {e.source: e for e in official_sources(environ={})}
    assert set(entries) == {"un_sc", "us_ofac_sdn", "us_ofac_cons", "eu_fsf", "uk_sanctions"}
    cons = [f.filename for f in entries["us_ofac_cons"].files]
    assert cons == ["cons_prim.csv", "cons_alt.csv", "cons_add.csv"]
    for e in entries.values():
        assert e.documented_at and e.documented_at.startswith("https://")
        assert all(f.url is None or f.url.startswith("https://") for f in e.files)
    assert entries["eu_fsf"].skip_reason and "JOINTWATCH_EU_FSF_URL" in entries["eu_fsf"].skip_reason
    assert all(e.skip_reason is None for name, e in entries.items() if name != "eu_fsf")


def test_eu_source_without_its_url_is_skipped_not_fetched(tmp_path: Path, client) -> None:
    eu = {e.source: e for e in official_sources(environ={})}["eu_fsf"]
    with pytest.raises(FetchError, match="JOINTWATCH_EU_FSF_URL is not set"):
        fetch_source(eu, tmp_path / "cache", client)
    configured = {e.source: e for e in official_sources(environ={"JOINTWATCH_EU_FSF_URL": " http://x/y "})}
    assert configured["eu_fsf"].files[0].url == "http://x/y" and configured["eu_fsf"].skip_reason is None


def test_unsafe_names_are_refused() -> None:
    with pytest.raises(ValueError, match="unsafe"):
        SourceEntry.from_mapping({"source": "x", "format": "un", "files": [{"url": "u", "filename": "../x"}]})


def test_local_source_in_a_source_subfolder(tmp_path: Path) -> None:
    (tmp_path / "un_sc").mkdir()
    (tmp_path / "un_sc" / "consolidated.xml").write_bytes(XML)
    result = local_source(entry(("unused", "consolidated.xml")), tmp_path)
    assert result.path == tmp_path / "un_sc" / "consolidated.xml"
    assert result.changed and result.bytes_downloaded == 0


def test_local_source_flat_folder_and_triplet(tmp_path: Path) -> None:
    for name in ("sdn.csv", "alt.csv", "add.csv", "consolidated.xml"):
        (tmp_path / name).write_bytes(b"x")
    sdn = entry(("u", "sdn.csv"), ("u", "alt.csv"), ("u", "add.csv"), source="us_ofac_sdn", fmt="ofac-sdn")
    assert local_source(sdn, tmp_path).path == tmp_path
    assert local_source(entry(("u", "consolidated.xml")), tmp_path).path == tmp_path / "consolidated.xml"


def test_local_source_missing_files_lists_what_was_looked_for(tmp_path: Path) -> None:
    (tmp_path / "SDN.CSV").write_bytes(b"x")
    sdn = entry(("u", "sdn.csv"), ("u", "alt.csv"), source="us_ofac_sdn", fmt="ofac-sdn")
    with pytest.raises(FetchError) as caught:
        local_source(sdn, tmp_path)
    message = str(caught.value)
    assert str(tmp_path / "us_ofac_sdn" / "sdn.csv") in message and str(tmp_path / "alt.csv") in message
    assert f"rename {tmp_path / 'SDN.CSV'} to sdn.csv" in message
    with pytest.raises(FetchError, match="not a folder"):
        local_source(sdn, tmp_path / "nowhere")


def test_default_cache_dir(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("JOINTWATCH_CACHE", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"
    monkeypatch.delenv("JOINTWATCH_CACHE")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / ".cache" / "jointwatch"
