"""Load test of ``jointwatch serve``: POST /match latency and throughput at 1, 8 and 32 clients.

What is measured:

- A temporary SQLite store is loaded with the real UN consolidated list and the OFAC SDN
  list (2023-06-05), a member is made with a pool of screener keys (through the library,
  as ``jointwatch members add`` / ``keys create`` do), and ``jointwatch serve`` is started
  as a subprocess on 127.0.0.1 on a free port. The clock starts once ``/health`` answers.
- A fixed mix of queries, cycled in order: listed names taken from the store (every
  ``n``-th entity's caption), the same names misspelt (two letters swapped, one dropped)
  and innocent names. Each level (1, 8, 32 concurrent asyncio ``httpx`` clients, one
  connection each) sends up to ``--requests`` requests or runs for ``--seconds``, whichever
  comes first, after a short untimed warm-up. Any answer but 200 is an error.
- Latency is the client's wall time per request (send to body read); throughput is
  requests answered over the level's wall time.
- Anchor: the in-process ``Screener.screen()`` rate on the same queries in this process,
  one thread, no HTTP, no audit row. ``HTTP p50 − 1/anchor`` is roughly what the service
  adds per request (HTTP, auth, the audit row, JSON).

The service allows each key 50 requests a second (``ratelimit.py``); the clients spread
their requests over a pool of keys so that the benchmark measures the service, not the
limit (a 429 would count as an error).

Target (issue 4): p99 < 50 ms at 32 clients, zero errors.

    python benchmarks/bench_service.py [--requests 2000] [--seconds 30] [--levels 1,8,32] [--keys 256]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import Engine

from jointwatch.screening import Query, open_screener
from jointwatch.sources import open_list
from jointwatch.store import iter_entities, latest_versions, load_list, open_engine
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


@dataclass(frozen=True)
class Level:
    clients: int
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]

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


def build_store(folder: Path) -> tuple[str, list[dict[str, str]]]:
    """The store's path and the query mix drawn from it."""
    db = folder / "bench.db"
    engine = open_engine(str(db), create=True)
    load_list(engine, open_list(UN_FILE, "un"))
    load_list(engine, open_list(OFAC_FILE, "ofac-sdn"))
    queries = query_mix(engine)
    engine.dispose()
    return str(db), queries


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


def make_keys(db: str, n: int) -> list[str]:
    """``n`` screener keys of a new member."""
    engine = open_engine(db)
    member = add_member(engine, "Benchmark Airline")
    keys = [create_key(engine, member.id, f"client-{i}", "screener")[1] for i in range(n)]
    engine.dispose()
    return keys


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(db: str, port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    exe = shutil.which("jointwatch", path=str(Path(sys.executable).parent)) or shutil.which("jointwatch")
    if exe is None:
        sys.exit("the `jointwatch` command is not installed (pip install -e .)")
    with log.open("wb") as out:
        return subprocess.Popen([exe, "serve", "--db", db, "--host", "127.0.0.1", "--port", str(port)],
                                stdout=out, stderr=subprocess.STDOUT, env=env)


def wait_healthy(base: str, server: subprocess.Popen[bytes], log: Path, timeout: float = 180.0) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if server.poll() is not None:
            sys.exit(f"jointwatch serve exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{base}/health", timeout=1.0).status_code == 200:
                return time.perf_counter() - started
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    sys.exit(f"/health did not answer within {timeout:.0f} s")


async def run_level(base: str, keys: list[str], queries: list[dict[str, str]], clients: int, max_requests: int,
                    max_seconds: float) -> Level:
    sent = itertools.count()
    latencies: list[float] = []
    errors = 0
    key_of = itertools.cycle(keys)

    async def client(http: httpx.AsyncClient, deadline: float) -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            i = next(sent)
            if i >= max_requests:
                return
            headers = {"X-API-Key": next(key_of)}
            t0 = time.perf_counter()
            try:
                response = await http.post("/match", json=queries[i % len(queries)], headers=headers)
                ok = response.status_code == 200
            except httpx.HTTPError:
                ok = False
            latencies.append((time.perf_counter() - t0) * 1000)
            errors += not ok

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30.0) as http:
        # warm-up, untimed: open the connections and touch every query once
        await asyncio.gather(*(http.post("/match", json=q, headers={"X-API-Key": next(key_of)})
                               for q in queries[:clients]))
        started = time.perf_counter()
        await asyncio.gather(*(client(http, started + max_seconds) for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return Level(clients, len(latencies), errors, elapsed, latencies)


def anchor_rate(db: str, queries: list[dict[str, str]], max_requests: int, max_seconds: float) -> float:
    """In-process Screener.screen() calls a second on the same queries (one thread, no HTTP)."""
    engine = open_engine(db)
    screener = open_screener(engine)
    prepared = [Query(name=q["name"], schema=q.get("schema", "Person")) for q in queries]
    for query in prepared:  # warm-up
        screener.screen(query)
    n, started = 0, time.perf_counter()
    while n < max_requests and time.perf_counter() - started < max_seconds:
        screener.screen(prepared[n % len(prepared)])
        n += 1
    rate = n / (time.perf_counter() - started)
    engine.dispose()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="at most this many requests per level")
    parser.add_argument("--seconds", type=float, default=30.0, help="at most this long per level")
    parser.add_argument("--levels", default="1,8,32", help="concurrent clients, comma-separated")
    parser.add_argument("--keys", type=int, default=256, help="API keys the clients spread their requests over")
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]

    with tempfile.TemporaryDirectory(prefix="jw-bench-service-") as tmp:
        folder = Path(tmp)
        env = {**os.environ, "JOINTWATCH_CACHE": str(folder / "cache")}
        os.environ["JOINTWATCH_CACHE"] = env["JOINTWATCH_CACHE"]
        t0 = time.perf_counter()
        db, queries = build_store(folder)
        keys = make_keys(db, args.keys)
        print(f"store: UN + OFAC SDN loaded in {time.perf_counter() - t0:.1f} s; {len(queries)} queries "
              f"(listed, misspelt, innocent); {len(keys)} keys", file=sys.stderr)
        anchor = anchor_rate(db, queries, args.requests, min(args.seconds, 10.0))
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = folder / "serve.log"
        server = start_server(db, port, env, log)
        try:
            ready = wait_healthy(base, server, log)
            print(f"jointwatch serve answered /health after {ready:.1f} s", file=sys.stderr)
            results = [asyncio.run(run_level(base, keys, queries, n, args.requests, args.seconds)) for n in levels]
        finally:
            server.terminate()
            try:
                server.wait(timeout=40)
            except subprocess.TimeoutExpired:
                server.kill()

    print(f"POST /match on `jointwatch serve` (1 uvicorn process, SQLite, UN + OFAC SDN), "
          f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    print()
    print("| clients | requests | errors | throughput req/s | p50 ms | p99 ms |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for level in results:
        print(f"| {level.clients} | {level.requests:,} | {level.errors} | {level.throughput:,.0f} | "
              f"{level.percentile(50):.1f} | {level.percentile(99):.1f} |")
    print(f"| anchor: in-process `Screener.screen()` | | | {anchor:,.0f} | {1000 / anchor:.1f} (mean) | |")
    print()
    at_target = next((r for r in results if r.clients == TARGET_CLIENTS), None)
    if at_target is None:
        print(f"target: p99 < {TARGET_P99_MS:.0f} ms at {TARGET_CLIENTS} clients, zero errors (level not run)")
    else:
        met = at_target.percentile(99) < TARGET_P99_MS and all(r.errors == 0 for r in results)
        print(f"target: p99 < {TARGET_P99_MS:.0f} ms at {TARGET_CLIENTS} clients and zero errors: "
              f"{'met' if met else 'NOT met'} (p99 {at_target.percentile(99):.1f} ms, "
              f"{sum(r.errors for r in results)} errors); mean of all levels "
              f"{statistics.fmean(x for r in results for x in r.latencies_ms):.1f} ms")


if __name__ == "__main__":
    main()
