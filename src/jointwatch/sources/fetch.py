"""Downloading the official sanctions lists (``resources/official_lists.yml``) for
``jointwatch lists update``: conditional requests against ``<cache>/<source>/.meta.json``
(ETag, Last-Modified, SHA-256 per file), bodies streamed to temporary files that replace the
cached copies only once every file of the source is complete. See docs/official-lists.md.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jointwatch import __version__, settings
from jointwatch.errors import DownloadError, FetchError
from jointwatch.resources import load_resource
from jointwatch.sources.base import content_hash
from jointwatch.sources.recognise import recognise_folder

if TYPE_CHECKING:  # httpx is imported by the downloads only: loading a file never needs it
    import httpx

MAX_BYTES = 500 * 1024**2  # per file
TIMEOUT_SECONDS = 60.0  # read, write and pool
CONNECT_TIMEOUT_SECONDS = 10.0
RETRIES = 3  # retries after the first attempt, on connection errors and 5xx only
BACKOFF = 1.0  # seconds before the first retry, doubled each time
META_NAME = ".meta.json"
_CHUNK = 1 << 16
_SECRET_PARAMS = ("token", "key", "apikey", "api_key")

Progress = Callable[[int, int | None], None]
_Got = tuple[int, Path | None, dict[str, Any]]  # status, temporary file (None: unchanged), sidecar record


@dataclass(frozen=True)
class SourceFile:
    """One file of a source: where it is published and the name it is saved under."""

    filename: str
    url: str | None
    url_env: str | None = None


@dataclass(frozen=True)
class SourceEntry:
    """One official source of the registry: its name, loader format and files."""

    source: str
    format: str
    files: tuple[SourceFile, ...]
    documented_at: str | None = None
    title: str | None = None

    @property
    def skip_reason(self) -> str | None:
        """Why the source cannot be downloaded (an address left to an unset variable), or None."""
        for f in self.files:
            if not f.url:
                return (f"{self.source}: skipped, {f.url_env or 'its URL'} is not set; set it to the "
                        f"download address of {f.filename} (see docs/official-lists.md)")
        return None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> SourceEntry:
        """An entry from its registry mapping, ``url_env`` addresses read from ``environ``."""
        files = []
        for item in data["files"]:
            url_env = item.get("url_env")
            url = item.get("url") or (settings.environment_value(url_env, environ) if url_env else None)
            files.append(SourceFile(_safe_name(item["filename"]), url, url_env))
        return cls(_safe_name(data["source"]), str(data["format"]), tuple(files),
                   data.get("documented_at"), data.get("title"))


@dataclass
class FetchResult:
    """What an update of one source produced: the path to hand to its loader and what changed."""

    source: str
    format: str
    path: Path  # the file of a single-file source, the folder of a multi-file one (OFAC triplets)
    changed: bool  # content differs from the last successful download (SHA-256)
    bytes_downloaded: int = 0
    statuses: dict[str, int] = field(default_factory=dict)  # filename -> 200 or 304
    files: tuple[Path, ...] = ()


class _Retry(Exception):
    """A transient failure (connection error or 5xx) worth another attempt: (reason, status)."""


def official_sources(environ: Mapping[str, str] | None = None) -> list[SourceEntry]:
    """The registry of official sources, with addresses from environment variables resolved now."""
    return [SourceEntry.from_mapping(item, environ) for item in load_resource("official_lists")["sources"]]


def default_cache_dir() -> Path:
    """The download cache folder: ``$JOINTWATCH_CACHE``, else ``~/.cache/jointwatch``."""
    return settings.cache_dir()


def fetch_source(entry: SourceEntry, cache_dir: Path, client: httpx.Client | None = None, *,
                 max_bytes: int = MAX_BYTES, retries: int = RETRIES, backoff: float = BACKOFF,
                 progress: Progress | None = None) -> FetchResult:
    """The cached copy of one source brought up to date, downloading only what changed.

    A given ``client`` keeps its own timeouts, else one with TIMEOUT_SECONDS is made. Any failure raises
    FetchError naming the source, URL and HTTP status, and leaves the cached copy as it was."""
    if reason := entry.skip_reason:
        raise _error(entry, None, reason)
    folder = Path(cache_dir) / entry.source
    folder.mkdir(parents=True, exist_ok=True)
    meta = _read_meta(folder)
    import httpx  # noqa: PLC0415 - see TYPE_CHECKING above

    timeout = httpx.Timeout(TIMEOUT_SECONDS, connect=CONNECT_TIMEOUT_SECONDS)
    http = client or httpx.Client(timeout=timeout, headers={"User-Agent": f"jointwatch/{__version__}"})
    staged: list[tuple[str, Path, dict[str, Any]]] = []
    statuses: dict[str, int] = {}
    fetcher = _Fetcher(http, entry, folder, max_bytes, retries, backoff, progress)
    try:
        for f in entry.files:
            status, temp, info = fetcher.download(f, meta.get(f.filename, {}))
            statuses[f.filename] = status
            if temp is None:
                meta[f.filename] = info
            else:
                staged.append((f.filename, temp, info))
        changed = any(meta.get(name, {}).get("sha256") != info["sha256"] or not (folder / name).is_file()
                      for name, _, info in staged)
        downloaded = sum(info["size"] for _, _, info in staged)
        while staged:  # every file is complete: only now replace the cached copies
            name, temp, info = staged.pop(0)
            os.replace(temp, folder / name)
            meta[name] = info
        _write_meta(folder, meta)
    finally:
        for _, temp, _ in staged:
            temp.unlink(missing_ok=True)
        if client is None:
            http.close()
    return _result(entry, folder, changed, downloaded, statuses)


def local_source(entry: SourceEntry, from_dir: Path) -> FetchResult:
    """The files of one source in a local folder (``--from DIR``): under their official names in
    ``DIR/<source>/`` or ``DIR/``, else the newest file in ``DIR`` whose content is that list;
    a FetchError lists what was looked for when there is none."""
    from_dir = Path(from_dir)
    if not from_dir.is_dir():
        raise FetchError(f"{entry.source}: {from_dir} is not a folder")
    names = [f.filename for f in entry.files]
    folders = [from_dir / entry.source, from_dir]
    for folder in folders:
        if all((folder / name).is_file() for name in names):
            return _result(entry, folder, True, 0, {})
    # not under the official names: recognise the lists by content, newest publication first
    formats = {entry.format, *(("ofac-xml",) if entry.format == "ofac-sdn" else ())}
    for found in recognise_folder(from_dir):
        if found.format in formats:
            files = tuple(sorted(found.path.iterdir())) if found.path.is_dir() else (found.path,)
            return FetchResult(entry.source, found.format, found.path, True, 0, {}, files)
    looked = "; ".join(", ".join(str(folder / name) for name in names) for folder in folders)
    hints = _case_hints(folders, names)
    raise FetchError(f"{entry.source}: no {entry.format} list found in {from_dir}: no file under its official "
                     f"name ({looked}) and none recognised by its content"
                     + (f" ({hints})" if hints else ""))


@dataclass
class _Fetcher:
    """The downloads of one source's files into its cache folder."""

    http: httpx.Client
    entry: SourceEntry
    folder: Path
    max_bytes: int
    retries: int
    backoff: float
    progress: Progress | None

    def download(self, f: SourceFile, old: dict[str, Any]) -> _Got:
        """(status, temporary file or None when unchanged, sidecar record) for one file."""
        cached = self.folder / f.filename  # revalidated only while the cached copy is intact
        conditional = old.get("url") == _display(f.url or "") and cached.is_file()
        conditional = conditional and old.get("sha256") == content_hash([cached])
        pairs = (("If-None-Match", "etag"), ("If-Modified-Since", "last_modified"))
        headers = {name: old[key] for name, key in pairs if conditional and old.get(key)}
        for attempt in range(self.retries + 1):
            try:
                return self._attempt(f, old, headers)
            except _Retry as exc:
                reason, status = exc.args
                if attempt >= self.retries:
                    raise _error(self.entry, f.url, f"{reason} (gave up after {attempt + 1} attempts)",
                                 status) from exc
                time.sleep(self.backoff * 2**attempt)
        raise AssertionError("unreachable")

    def _attempt(self, f: SourceFile, old: dict[str, Any], headers: dict[str, str]) -> _Got:
        """One GET of one file; transient failures raise _Retry, the others FetchError."""
        import httpx  # noqa: PLC0415 - see TYPE_CHECKING above

        assert f.url is not None
        try:
            with self.http.stream("GET", f.url, headers=headers, follow_redirects=True) as resp:
                status = resp.status_code
                validators = {k: v for k, v in (("etag", resp.headers.get("ETag")),
                                                ("last_modified", resp.headers.get("Last-Modified"))) if v}
                if status == 304 and headers:
                    return 304, None, {**old, **validators, "checked_at": _now()}
                if status >= 500:
                    raise _Retry(f"HTTP {status} {resp.reason_phrase}", status)
                if status != 200:
                    raise _error(self.entry, f.url, f"HTTP {status} {resp.reason_phrase}", status)
                temp, size, sha256 = self._save(resp, f)
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            raise _error(self.entry, f.url, f"unusable URL ({exc})") from exc
        except httpx.TransportError as exc:
            raise _Retry(f"connection error ({type(exc).__name__}: {exc})", None) from exc
        now = _now()
        return 200, temp, {"url": _display(f.url), **validators, "sha256": sha256, "size": size,
                           "fetched_at": now, "checked_at": now}

    def _save(self, resp: httpx.Response, f: SourceFile) -> tuple[Path, int, str]:
        """(temporary file, size, SHA-256) of a response body streamed into the cache folder."""
        limit = self.max_bytes
        announced = resp.headers.get("Content-Length", "")
        total = int(announced) if announced.isdigit() and not resp.headers.get("Content-Encoding") else None
        if total is not None and total > limit:
            raise _error(self.entry, f.url, f"{total} bytes announced, over the limit of {limit}", 200)
        fd, name = tempfile.mkstemp(dir=self.folder, prefix=f".{f.filename}.", suffix=".part")
        temp, size, digest = Path(name), 0, hashlib.sha256()
        try:
            with os.fdopen(fd, "wb") as fh:
                for chunk in resp.iter_bytes(_CHUNK):
                    size += len(chunk)
                    if size > limit:
                        raise _error(self.entry, f.url, f"body exceeds the limit of {limit} bytes", 200)
                    digest.update(chunk)
                    fh.write(chunk)
                    if self.progress:
                        self.progress(size, total)
                fh.flush()
                os.fsync(fh.fileno())
            if size == 0:
                raise _error(self.entry, f.url, "empty response body", 200)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        return temp, size, digest.hexdigest()


def _result(entry: SourceEntry, folder: Path, changed: bool, size: int,
            statuses: dict[str, int]) -> FetchResult:
    """The FetchResult of a source whose files are all in ``folder``."""
    files = tuple(folder / f.filename for f in entry.files)
    path = files[0] if len(files) == 1 else folder
    return FetchResult(entry.source, entry.format, path, changed, size, statuses, files)


def _read_meta(folder: Path) -> dict[str, dict[str, Any]]:
    """The sidecar's per-file records; a missing or unreadable sidecar means none."""
    try:
        data = json.loads((folder / META_NAME).read_text(encoding="utf-8"))
        return {k: v for k, v in data.get("files", {}).items() if isinstance(v, dict)}
    except (OSError, ValueError, AttributeError):
        return {}


def _write_meta(folder: Path, meta: dict[str, dict[str, Any]]) -> None:
    """Replace the sidecar atomically with the given per-file records."""
    fd, name = tempfile.mkstemp(dir=folder, prefix=f"{META_NAME}.", suffix=".part")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"files": meta}, fh, indent=2, sort_keys=True)
    os.replace(name, folder / META_NAME)


def _error(entry: SourceEntry, url: str | None, reason: str, status: int | None = None) -> DownloadError:
    """A DownloadError naming the source, the URL (secrets masked) and the HTTP status."""
    return DownloadError(entry.source, _display(url) if url else None, reason, status)


def _display(url: str) -> str:
    """The URL with personal tokens in its query string masked, fit for messages and logs."""
    import httpx  # noqa: PLC0415 - see TYPE_CHECKING above

    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return url.split("?")[0] + ("?…" if "?" in url else "")
    for param in (p for p in _SECRET_PARAMS if p in parsed.params):
        parsed = parsed.copy_set_param(param, "***")
    return str(parsed)


def _case_hints(folders: list[Path], names: list[str]) -> str:
    """Advice on files present under another letter case (``SDN.CSV`` for ``sdn.csv``)."""
    hints = []
    for folder in folders:
        present = {p.name.lower(): p for p in folder.iterdir()} if folder.is_dir() else {}
        hints += [f"rename {present[n.lower()]} to {n}" for n in names
                  if not (folder / n).is_file() and n.lower() in present]
    return "; ".join(hints)


def _safe_name(name: Any) -> str:
    """A source or file name that stays inside its folder."""
    text = str(name)
    if not text or text in (".", "..") or Path(text).name != text or "\\" in text:
        raise ValueError(f"unsafe name in the list registry: {text!r}")
    return text


def _now() -> str:
    """The current time as an ISO 8601 UTC timestamp."""
    return datetime.now(UTC).isoformat(timespec="seconds")
