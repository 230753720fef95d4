"""Load test of ``jointwatch serve``: POST /match at 1, 8 and 32 clients, 1 and 2 workers, SQLite and PostgreSQL.

What is measured:

- A store is loaded with the real UN consolidated list and the OFAC SDN list (2023-06-05): a
  temporary SQLite file, and (``--pg-url`` or ``$JOINTWATCH_TEST_PG_URL``) a schema of its own on
  PostgreSQL, dropped afterwards. A member is made with a pool of screener keys (through the
  library, as ``jointwatch members add`` / ``keys create`` do), and ``jointwatch serve --workers N``
  is started as a subprocess on 127.0.0.1 on a free port. The clock starts once ``/health`` answers.
- A fixed mix of queries, cycled in order: listed names taken from the store (every ``n``-th
  entity's caption), the same names misspelt (two letters swapped, one dropped) and innocent
  names. Any answer but 200 is an error.
- Closed loop: each level (1, 8, 32 concurrent clients, one keep-alive connection each) sends
  up to ``--requests`` requests or runs for ``--seconds``, after a short untimed warm-up. Latency
  is the client's wall time per request; throughput is answers over the level's wall time. By
  Little's law a closed loop's mean latency is clients / throughput: 32 clients stay under
  50 ms on average only above 640 answers a second.
- Open loop: requests are sent at a fixed rate (``--open-rates``, evenly spaced, on up to 256
  connections) whatever the answers do, and each latency is counted from the moment its request
  was due, so a queue shows (no coordinated omission). The highest rate whose p99 < 50 ms with
  no error is what the service holds on this machine.
- The client is a minimal HTTP/1.1 keep-alive client on asyncio streams (about 0.05 ms of CPU a
  request; httpx costs about ten times that), because client and server share the same 2 cores:
  a heavy client would measure itself.
- Anchor: the in-process ``Screener.screen()`` rate on the same queries in this process, one
  thread, no HTTP, no audit row. 1 / anchor is the screening's own cost per request; the
  service's CPU per request over it is what the HTTP, the key check and the audit row add.
- After each server stops, its audit rows are counted: every 200 has one.
- The load average (1 minute) is printed at the start and end of every server's run: the 2
  cores are shared with other work.

The service allows each key 50 requests a second (``ratelimit.py``); the clients spread
their requests over a pool of keys so that the benchmark measures the service, not the
limit (a 429 would count as an error).

Target (issue 19): p99 < 50 ms at 32 clients, zero errors, on SQLite and on PostgreSQL.

    python benchmarks/bench_service.py [--backends sqlite,postgresql] [--workers 1,2] [--levels 1,8,32]
        [--seconds 15] [--requests 20000] [--open-rates 100,200,300] [--open-seconds 10] [--keys 256]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import psutil
from sqlalchemy import Engine, create_engine, text

from jointwatch.screening import Query, open_screener
from jointwatch.sources import open_list
from jointwatch.store import count_audit, database_url, iter_entities, latest_versions, load_list, open_engine
from jointwatch.store.members import add_member, create_key

LISTS = Path(__file__).resolve().parents[2] / "shared" / "data" / "lists"
UN_FILE = LISTS / "un_consolidated_2026-02-27.xml"
OFAC_FILE = LISTS / "ofac_sdn_2023-06-05.csv"
TARGET_P99_MS = 50.0
TARGET_CLIENTS = 32
INNOCENT = [
    "Maria Gonzalez Fernandez", "John Smith", "Anna Kowalska", "Pieter van der Berg", "Fatima Zahra Benali",
    "Hiroshi Tanaka", "Olga Ivanovna Petrova", "Mehmet Yilmaz", "Chen Wei", "Aisha Abdullahi",
    "Jean-Pierre Dubois", "Sofia Rossi", "Lars Eriksson", "Priya Sharma", "Carlos Alberto Souza",
    "Nguyen Van Minh", "Emily Johnson", "Ahmed Mostafa Kamal", "Ingrid Bergstrom", "Oluwaseun Adeyemi",
]


@dataclass
class Level:
    clients: int
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]
    server_cpu_ms: float = float("nan")  # CPU time of the server's processes per request
    client_cpu_ms: float = float("nan")  # CPU time of this client per request

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else float("nan")


def misspelt(name: str) -> str:
    """``name`` with two letters of its longest word swapped and the last letter of another dropped."""
    words = name.split()
    longest = max(range(len(words)), key=lambda i: len(words[i]))
    word = words[longest]
    if len(word) > 3:
        middle = len(word) // 2
        words[longest] = word[:middle - 1] + word[middle] + word[middle - 1] + word[middle + 1:]
    other = next((i for i, w in enumerate(words) if i != longest and len(w) > 3), None)
    if other is not None:
        words[other] = words[other][:-1]
    return " ".join(words)


def query_mix(engine: Engine) -> list[dict[str, str]]:
    """Listed names (every n-th Person or Organization of each source), the same misspelt, innocent names."""
    listed: list[dict[str, str]] = []
    for source in sorted(latest_versions(engine)):
        entities = [e for e in iter_entities(engine, source) if e.schema.name in ("Person", "Organization")]
        step = max(1, len(entities) // 20)
        for entity in entities[::step][:20]:
            listed.append({"name": entity.caption, "schema": entity.schema.name})
    misspellings = [{**q, "name": misspelt(q["name"])} for q in listed]
    innocents = [{"name": name} for name in INNOCENT]
    # interleaved so that every stretch of requests has the same mix
    return [q for trio in itertools.zip_longest(listed, misspellings, innocents) for q in trio if q]



def make_keys(db: str, n: int) -> tuple[int, list[str]]:
    """A new member and ``n`` screener keys of it."""
    engine = open_engine(db)
    member = add_member(engine, f"Benchmark Airline {uuid.uuid4().hex[:6]}")
    keys = [create_key(engine, member.id, f"client-{i}", "screener")[1] for i in range(n)]
    engine.dispose()
    return member.id, keys


@dataclass
class Store:
    backend: str
    db: str                      # what `serve --db` takes
    drop: str | None = None      # a PostgreSQL schema to drop afterwards


def sqlite_store(folder: Path) -> Store:
    return Store("sqlite", str(folder / "bench.db"))


def postgres_store(url: str) -> Store:
    """A schema of its own on the server at ``url`` (every connection's search_path set to it)."""
    schema = f"jw_bench_service_{os.getpid()}"
    engine = create_engine(database_url(url))
    with engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    options = quote(f"-csearch_path={schema}")
    return Store("postgresql", f"{url}{'&' if '?' in url else '?'}options={options}", drop=schema)


def drop_store(store: Store, url: str | None) -> None:
    if store.drop and url:
        engine = create_engine(database_url(url))
        with engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{store.drop}" CASCADE'))
        engine.dispose()


def fill_store(store: Store) -> list[dict[str, str]]:
    """UN + OFAC SDN loaded into ``store``; the query mix drawn from it."""
    engine = open_engine(store.db, create=True)
    load_list(engine, open_list(UN_FILE, "un"))
    load_list(engine, open_list(OFAC_FILE, "ofac-sdn"))
    queries = query_mix(engine)
    engine.dispose()
    return queries


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(db: str, port: int, workers: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    exe = shutil.which("jointwatch", path=str(Path(sys.executable).parent)) or shutil.which("jointwatch")
    if exe is None:
        sys.exit("the `jointwatch` command is not installed (pip install -e .)")
    with log.open("wb") as out:
        return subprocess.Popen([exe, "serve", "--db", db, "--host", "127.0.0.1", "--port", str(port),
                                 "--workers", str(workers)], stdout=out, stderr=subprocess.STDOUT, env=env)


def wait_healthy(base: str, server: subprocess.Popen[bytes], log: Path | None = None, timeout: float = 300.0) -> float:
    """Seconds until ``jointwatch serve`` at ``base`` answers /health (also bench_console, bench_discovery_http)."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if server.poll() is not None:
            tail = log.read_text()[-3000:] if log is not None else ""
            sys.exit(f"jointwatch serve exited with {server.returncode}:\n{tail}")
        try:
            if httpx.get(f"{base}/health", timeout=1.0).status_code == 200:
                return time.perf_counter() - started
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    sys.exit(f"/health did not answer within {timeout:.0f} s")


class Connection:
    """One keep-alive HTTP/1.1 connection that POSTs JSON and reads the answer (Content-Length bodies)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes, key: str) -> int:
        """The answer's status; the connection is opened (again) as needed. A kept-alive connection
        the server closed meanwhile (uvicorn closes one idle for 5 s) is opened again and the request
        sent once more, as HTTP clients do; any other failure is the caller's error."""
        if self.writer is not None:
            try:
                return await self._post(path, body, key)
            except (OSError, IndexError, ValueError, asyncio.IncompleteReadError):
                pass  # a stale keep-alive connection: retried once on a new one
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        return await self._post(path, body, key)

    async def _post(self, path: str, body: bytes, key: str) -> int:
        assert self.reader is not None and self.writer is not None
        try:
            self.writer.write(f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/json\r\n"
                              f"X-API-Key: {key}\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
            status = int((await self.reader.readline()).split()[1])
            length = 0
            while (line := await self.reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await self.reader.readexactly(length)
            return status
        except (OSError, IndexError, ValueError, asyncio.IncompleteReadError):
            self.close()
            raise

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def bodies(queries: list[dict[str, str]]) -> list[bytes]:
    return [json.dumps(q).encode() for q in queries]


async def run_level(port: int, keys: list[str], queries: list[bytes], clients: int, max_requests: int,
                    max_seconds: float) -> Level:
    sent = itertools.count()
    latencies: list[float] = []
    errors = 0
    key_of = itertools.cycle(keys)
    connections = [Connection("127.0.0.1", port) for _ in range(clients)]

    async def one(connection: Connection, i: int) -> bool:
        try:
            return await connection.post("/match", queries[i % len(queries)], next(key_of)) == 200
        except (OSError, IndexError, ValueError, asyncio.IncompleteReadError):
            return False

    async def client(connection: Connection, deadline: float) -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            i = next(sent)
            if i >= max_requests:
                return
            t0 = time.perf_counter()
            ok = await one(connection, i)
            latencies.append((time.perf_counter() - t0) * 1000)
            errors += not ok

    # warm-up, untimed: open the connections and touch every query once
    await asyncio.gather(*(one(c, i) for i, c in enumerate(connections)))
    started = time.perf_counter()
    await asyncio.gather(*(client(c, started + max_seconds) for c in connections))
    elapsed = time.perf_counter() - started
    for c in connections:
        c.close()
    return Level(clients, len(latencies), errors, elapsed, latencies)


async def run_open(port: int, keys: list[str], queries: list[bytes], rate: float, seconds: float,
                   max_connections: int = 256) -> Level:
    """Requests due every 1/rate s whatever the answers do; latency from when each was due."""
    key_of = itertools.cycle(keys)
    # last in, first out: a low rate keeps reusing the few connections it needs
    idle: asyncio.LifoQueue[Connection] = asyncio.LifoQueue()
    for _ in range(max_connections):
        idle.put_nowait(Connection("127.0.0.1", port))
    latencies: list[float] = []
    errors = 0

    async def one(i: int, due: float) -> None:
        nonlocal errors
        connection = await idle.get()
        try:
            ok = await connection.post("/match", queries[i % len(queries)], next(key_of)) == 200
        except (OSError, IndexError, ValueError, asyncio.IncompleteReadError):
            ok = False
        idle.put_nowait(connection)
        latencies.append((time.perf_counter() - due) * 1000)
        errors += not ok

    # warm-up: a few connections opened
    await asyncio.gather(*(one(i, time.perf_counter()) for i in range(min(32, max_connections))))
    latencies.clear()
    errors = 0
    n = int(rate * seconds)
    tasks = []
    started = time.perf_counter()
    for i in range(n):
        due = started + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, due)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    while not idle.empty():
        idle.get_nowait().close()
    return Level(int(rate), len(latencies), errors, elapsed, latencies)


def anchor_rate(db: str, queries: list[dict[str, str]], max_requests: int, max_seconds: float) -> tuple[float, float]:
    """In-process Screener.screen() calls a second on the same queries (one thread, no HTTP), and
    the CPU milliseconds each took (on a shared machine the rate falls when others run; the CPU
    time per call less so: it is what the service's CPU per request compares with)."""
    engine = open_engine(db)
    screener = open_screener(engine)
    prepared = [Query(name=q["name"], schema=q.get("schema", "Person")) for q in queries]
    for query in prepared:  # warm-up
        screener.screen(query)
    n, started, cpu = 0, time.perf_counter(), time.process_time()
    while n < max_requests and time.perf_counter() - started < max_seconds:
        screener.screen(prepared[n % len(prepared)])
        n += 1
    rate = n / (time.perf_counter() - started)
    cpu_ms = 1000 * (time.process_time() - cpu) / n
    engine.dispose()
    return rate, cpu_ms


@dataclass
class Run:
    backend: str
    workers: int
    closed: list[Level]
    open: list[Level]
    load_before: float
    load_after: float
    audit_rows: int
    answered: int


def server_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` and its live children (the workers) so far."""
    process = psutil.Process(pid)
    total = 0.0
    for p in [process, *process.children(recursive=True)]:
        try:
            times = p.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def measured(server: subprocess.Popen[bytes], run: Callable[[], Coroutine[Any, Any, Level]]) -> Level:
    """``run()``'s level, with the server's and this client's CPU time per request."""
    server_before, client_before = server_cpu_seconds(server.pid), time.process_time()
    level = asyncio.run(run())
    if level.requests:
        level.server_cpu_ms = 1000 * (server_cpu_seconds(server.pid) - server_before) / level.requests
        level.client_cpu_ms = 1000 * (time.process_time() - client_before) / level.requests
    return level


def serve_and_measure(store: Store, workers: int, queries: list[dict[str, str]], args: argparse.Namespace,
                      folder: Path, env: dict[str, str]) -> Run:
    member_id, keys = make_keys(store.db, args.keys)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = folder / f"serve-{store.backend}-{workers}.log"
    server = start_server(store.db, port, workers, env, log)
    payloads = bodies(queries)
    levels = [int(x) for x in args.levels.split(",") if x]
    rates = [float(x) for x in args.open_rates.split(",") if x]
    load_before = os.getloadavg()[0]
    try:
        ready = wait_healthy(base, server, log)
        print(f"{store.backend}, {workers} worker(s): /health after {ready:.1f} s, load average {load_before:.1f}",
              file=sys.stderr)
        closed = []
        for n in levels:
            closed.append(measured(server, lambda n=n: run_level(port, keys, payloads, n, args.requests,  # type: ignore[misc]
                                                                   args.seconds)))
            last = closed[-1]
            print(f"  closed {n}: p99 {last.percentile(99):.1f} ms, {last.throughput:.0f}/s", file=sys.stderr)
        opened = []
        for rate in rates:
            opened.append(measured(server, lambda rate=rate: run_open(port, keys, payloads, rate,  # type: ignore[misc]
                                                                       args.open_seconds)))
            print(f"  open {rate:.0f}/s: p99 {opened[-1].percentile(99):.1f} ms", file=sys.stderr)
        load_after = os.getloadavg()[0]
    finally:
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
    engine = open_engine(store.db)
    rows = count_audit(engine, member_id, "match", 200)
    engine.dispose()
    # every answer the clients counted, plus the warm-ups (each level's one per connection, 32 per open rate)
    answered = sum(r.requests - r.errors for r in closed + opened)
    return Run(store.backend, workers, closed, opened, load_before, load_after, rows, answered)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backends", default="sqlite,postgresql", help="sqlite and/or postgresql")
    parser.add_argument("--pg-url", default=os.environ.get("JOINTWATCH_TEST_PG_URL"),
                        help="PostgreSQL server (a schema of its own is made and dropped); "
                             "default $JOINTWATCH_TEST_PG_URL")
    parser.add_argument("--workers", default="1,2", help="worker processes of `serve`, comma-separated")
    parser.add_argument("--requests", type=int, default=20000, help="at most this many requests per level")
    parser.add_argument("--seconds", type=float, default=15.0, help="at most this long per level")
    parser.add_argument("--levels", default="1,8,32", help="concurrent clients (closed loop), comma-separated")
    parser.add_argument("--open-rates", default="100,200,300",
                        help="requests a second sent open-loop, comma-separated (empty: none)")
    parser.add_argument("--open-seconds", type=float, default=10.0, help="how long each open-loop rate runs")
    parser.add_argument("--keys", type=int, default=256, help="API keys the clients spread their requests over")
    args = parser.parse_args()
    backends = [b for b in args.backends.split(",") if b]
    worker_counts = [int(x) for x in args.workers.split(",") if x]

    runs: list[Run] = []
    anchor, anchor_cpu = float("nan"), float("nan")
    with tempfile.TemporaryDirectory(prefix="jw-bench-service-") as tmp:
        folder = Path(tmp)
        env = {**os.environ, "JOINTWATCH_CACHE": str(folder / "cache")}
        os.environ["JOINTWATCH_CACHE"] = env["JOINTWATCH_CACHE"]
        for backend in backends:
            if backend == "postgresql" and not args.pg_url:
                print("postgresql: skipped (no --pg-url and no $JOINTWATCH_TEST_PG_URL)", file=sys.stderr)
                continue
            store = sqlite_store(folder) if backend == "sqlite" else postgres_store(str(args.pg_url))
            try:
                t0 = time.perf_counter()
                queries = fill_store(store)
                print(f"{backend}: UN + OFAC SDN loaded in {time.perf_counter() - t0:.1f} s; {len(queries)} queries",
                      file=sys.stderr)
                if anchor != anchor:  # nan: measured once, on the first store (the same index on each)
                    anchor, anchor_cpu = anchor_rate(store.db, queries, args.requests, 10.0)
                for workers in worker_counts:
                    runs.append(serve_and_measure(store, workers, queries, args, folder, env))
            finally:
                drop_store(store, args.pg_url)
    report(runs, anchor, anchor_cpu)


def report(runs: list[Run], anchor: float, anchor_cpu: float) -> None:
    print(f"POST /match on `jointwatch serve --workers N`, UN + OFAC SDN, server and client on the same "
          f"{os.cpu_count()} CPUs (shared with other work), Python {sys.version.split()[0]}")
    print()
    print("| backend | workers | clients | requests | errors | throughput req/s | p50 ms | p99 ms | "
          "clients / throughput ms | server CPU ms/req | client CPU ms/req | load avg |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for run in runs:
        for level in run.closed:
            print(f"| {run.backend} | {run.workers} | {level.clients} | {level.requests:,} | {level.errors} | "
                  f"{level.throughput:,.0f} | {level.percentile(50):.1f} | {level.percentile(99):.1f} | "
                  f"{1000 * level.clients / level.throughput if level.throughput else float('nan'):.1f} | "
                  f"{level.server_cpu_ms:.2f} | {level.client_cpu_ms:.2f} | "
                  f"{run.load_before:.1f}–{run.load_after:.1f} |")
    print(f"| anchor: in-process `Screener.screen()`, 1 thread | | | | | {anchor:,.0f} | "
          f"{1000 / anchor:.2f} (mean) | | | {anchor_cpu:.2f} | | |")
    if any(run.open for run in runs):
        print()
        print("Open loop (requests sent at a fixed rate; latency from when each was due):")
        print()
        print("| backend | workers | offered req/s | requests | errors | answered req/s | p50 ms | p99 ms | "
              "server CPU ms/req | p99 < 50 ms |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
        for run in runs:
            for level in run.open:
                ok = level.percentile(99) < TARGET_P99_MS and level.errors == 0
                print(f"| {run.backend} | {run.workers} | {level.clients} | {level.requests:,} | {level.errors} | "
                      f"{level.throughput:,.0f} | {level.percentile(50):.1f} | {level.percentile(99):.1f} | "
                      f"{level.server_cpu_ms:.2f} | {'yes' if ok else 'no'} |")
    print()
    for run in runs:
        print(f"{run.backend}, {run.workers} worker(s): {run.audit_rows:,} audit rows (match, 200) for "
              f"{run.answered:,} answers counted (+ the warm-ups)")
        at_target = next((r for r in run.closed if r.clients == TARGET_CLIENTS), None)
        if at_target is not None:
            met = at_target.percentile(99) < TARGET_P99_MS and all(r.errors == 0 for r in run.closed)
            print(f"  target p99 < {TARGET_P99_MS:.0f} ms at {TARGET_CLIENTS} clients, zero errors: "
                  f"{'met' if met else 'missed'} (p99 {at_target.percentile(99):.1f} ms; Little's law: "
                  f"{TARGET_CLIENTS} clients at {at_target.throughput:,.0f}/s wait "
                  f"{1000 * TARGET_CLIENTS / at_target.throughput:.1f} ms "
                  f"on average)")
            cpu = at_target.server_cpu_ms + at_target.client_cpu_ms
            ceiling = 1000 * (os.cpu_count() or 1) / cpu
            print(f"  CPU per request at {TARGET_CLIENTS} clients: server {at_target.server_cpu_ms:.2f} ms "
                  f"(in-process screening {anchor_cpu:.2f} ms of it, the rest HTTP, key, audit row, JSON) + "
                  f"client {at_target.client_cpu_ms:.2f} ms: at most {ceiling:,.0f} answers/s on "
                  f"{os.cpu_count()} cores, so {TARGET_CLIENTS} clients wait at least "
                  f"{1000 * TARGET_CLIENTS / ceiling:.1f} ms on average (Little's law)")
        held = [r for r in run.open if r.percentile(99) < TARGET_P99_MS and r.errors == 0]
        if run.open:
            print(f"  open loop: highest rate with p99 < {TARGET_P99_MS:.0f} ms: "
                  f"{max(r.clients for r in held) if held else 'none of those tried'} req/s")
    print(f"mean of all closed-loop levels: "
          f"{statistics.fmean(x for run in runs for r in run.closed for x in r.latencies_ms):.1f} ms")


if __name__ == "__main__":
    main()
