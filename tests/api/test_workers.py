"""`jointwatch serve --workers 2` as an operator runs it: two forked worker processes on one port.

Each test starts the real command on the session's UN store (SQLite, and PostgreSQL when
configured) and talks to it over HTTP, a new connection per request so that the kernel hands
requests to both workers (``GET /health`` says which worker answered):

- a key revoked (by the library, as ``jointwatch keys revoke`` does) is refused at the very
  next request by every worker, though each had it in its key cache;
- the whole service killed with SIGKILL while requests are in flight: every request that had
  been answered 200 has its audit row in the store (the answer is sent only once the row's
  batch is committed);
- a worker that dies is started again, and the service answers throughout.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from jointwatch.api import listening_socket
from jointwatch.api.models import MatchRequest
from jointwatch.store import read_audit, revoke_key, rows_about
from tests.api.conftest import make_member
from tests.serving import free_port

CLI = Path(sys.executable).parent / "jointwatch"
WORKERS = 2


@dataclass
class Service:
    process: subprocess.Popen[bytes]
    base: str

    def kill(self) -> None:
        """SIGKILL to the parent and every worker at once (its own process group)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


def _url(engine: Engine) -> str:
    if engine.dialect.name == "sqlite":
        return str(engine.url.database)
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture
def service(un_store: Engine, tmp_path: Path) -> Iterator[Service]:
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen([str(CLI), "serve", "--db", _url(un_store), "--port", str(port),
                                "--workers", str(WORKERS), "--rate-per-second", "0"],
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    served = Service(process, f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert process.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if httpx.get(f"{served.base}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail("serve --workers did not answer /health within 120 s")
        yield served
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                served.kill()
        log.close()


def _fresh(base: str) -> httpx.Client:
    """A client whose every request opens a connection of its own (any worker may take it)."""
    return httpx.Client(base_url=base, timeout=30, limits=httpx.Limits(max_keepalive_connections=0))


def _workers_seen(client: httpx.Client, seconds: float = 30.0) -> set[int]:
    """The workers that answered /health on new connections, asked until all have or ``seconds`` pass."""
    seen: set[int] = set()
    deadline = time.monotonic() + seconds
    while len(seen) < WORKERS and time.monotonic() < deadline:
        seen.add(client.get("/health").json()["worker"])
        time.sleep(0.01)
    return seen


def test_every_worker_answers_on_the_one_port(service: Service) -> None:
    with _fresh(service.base) as client:
        assert _workers_seen(client) == set(range(WORKERS))


def _match_by_every_worker(client: httpx.Client, key: str, expected: int) -> set[int]:
    """Send /match with ``key`` until each worker has answered it once, every answer ``expected``.
    The worker of a request is the one that answers /health on the same connection."""
    seen: set[int] = set()
    for _ in range(400):
        with httpx.Client(base_url=client.base_url, timeout=30) as one_connection:
            worker = one_connection.get("/health").json()["worker"]
            if worker in seen:
                continue
            response = one_connection.post("/match", headers={"X-API-Key": key},
                                           json={"name": "Tarak Ben Taher Harzi"})
            assert response.status_code == expected, (worker, response.text)
            seen.add(worker)
        if len(seen) == WORKERS:
            break
    return seen


def test_a_revoked_key_is_refused_at_once_by_every_worker(service: Service, un_store: Engine) -> None:
    member = make_member(un_store)
    key = member.keys["screener"]
    with _fresh(service.base) as client:
        # each worker has screened with the key, so each holds it in its key cache
        assert _match_by_every_worker(client, key, 200) == set(range(WORKERS))
        revoke_key(un_store, key)
        # the very next request to each worker is refused, with no wait in between
        assert _match_by_every_worker(client, key, 401) == set(range(WORKERS))
    refusals = [row for row in read_audit(un_store, member.id) if row.status == 401]
    assert len(refusals) == WORKERS  # audited under the member, as a revoked key's refusal is


def test_no_answered_request_loses_its_audit_row_when_the_service_is_killed(service: Service,
                                                                             un_store: Engine) -> None:
    member = make_member(un_store)
    key = member.keys["screener"]
    answered: list[str] = []
    stop = threading.Event()
    lock = threading.Lock()

    def client(n: int) -> None:
        with httpx.Client(base_url=service.base, timeout=30) as http:
            for i in range(100_000):
                if stop.is_set():
                    return
                name = f"Audit Probe {n} {i} Harzi"
                try:
                    response = http.post("/match", headers={"X-API-Key": key}, json={"name": name})
                except httpx.TransportError:
                    return  # the service is gone: this one was never answered
                if response.status_code == 200:
                    with lock:
                        answered.append(name)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    while len(answered) < 150 and time.monotonic() < deadline:
        time.sleep(0.01)
    # another writer holds the audit table: the rows of the requests from now on wait in their
    # batch, and their answers must wait with them; then the whole service is killed
    with _audit_held(un_store):
        time.sleep(1.5)
        service.kill()
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    assert len(answered) >= 150
    missing = set(answered) - _names_with_rows(un_store, answered, member.id)
    assert not missing, f"{len(missing)} answered requests have no audit row, e.g. {sorted(missing)[:3]}"


@contextmanager
def _audit_held(engine: Engine) -> Iterator[None]:
    """Hold the lock an audit insert needs (SQLite: the store's write lock; PostgreSQL: the table's)."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("LOCK TABLE audit IN SHARE MODE")
        try:
            yield
        finally:
            connection.rollback()


def _names_with_rows(engine: Engine, names: list[str], member_id: int) -> set[str]:
    """The names among ``names`` whose /match subject has an audit row of ``member_id`` with status 200."""
    found = set()
    for name in names:
        rows = rows_about(engine, [MatchRequest(name=name).audit_view()], member_id)
        if any(row.status == 200 and row.action == "match" for row in rows):
            found.add(name)
    return found


def test_a_worker_that_dies_is_started_again(service: Service) -> None:
    with _fresh(service.base) as client:
        assert _workers_seen(client) == set(range(WORKERS))
        workers = _children(service.process.pid)
        assert len(workers) == WORKERS
        os.kill(workers[0], signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (len(_children(service.process.pid)) < WORKERS
                                               or workers[0] in _children(service.process.pid)):
            time.sleep(0.2)
        assert workers[0] not in _children(service.process.pid)
        assert _workers_seen(client) == set(range(WORKERS))


def _children(pid: int) -> list[int]:
    """The live child processes of ``pid`` (Linux /proc)."""
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True, check=False)
    return [int(line) for line in out.stdout.split()]


def test_the_shared_socket_answers_without_nagle_delays() -> None:
    """Connections accepted on the workers' socket get TCP_NODELAY (asyncio sets it only when the
    socket says it is TCP): otherwise an answer's body waits for the client's delayed ACK."""
    sock = listening_socket("127.0.0.1", 0)
    flags: list[int] = []

    async def main() -> None:
        def accepted(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            flags.append(writer.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(accepted, sock=sock)
        _reader, writer = await asyncio.open_connection(*sock.getsockname()[:2])
        await asyncio.sleep(0.05)
        writer.close()
        server.close()

    asyncio.run(main())
    assert flags and flags[0] != 0


def test_the_workers_stop_when_the_parent_is_killed(service: Service) -> None:
    with _fresh(service.base) as client:
        assert _workers_seen(client) == set(range(WORKERS))
    workers = _children(service.process.pid)
    os.kill(service.process.pid, signal.SIGKILL)  # the parent alone: no handler of ours runs
    service.process.wait(timeout=30)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.2)
    assert not any(_alive(pid) for pid in workers)  # no orphan keeps answering on the port


def _alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (not gone, not a zombie)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
