"""A list load on a running service (issue 13, item 11): /match latency, errors and audit rows.

What is measured:

- A temporary SQLite store is loaded with the real UN list, a member with a pool of screener
  keys is made, and ``jointwatch serve`` is started as a subprocess on 127.0.0.1.
- ``--clients`` threads send POST /match (listed and innocent names, cycled) for ``--quiet``
  seconds: the anchor, the same service with no load running.
- Then ``jointwatch lists load`` of the OFAC SDN list (2023-06-05, 12,600 entities, 200,543
  statements) runs in a second process while the same clients keep sending, until the load
  ends. Latency is the client's wall time per request.
- Errors are any answer but 200 (a 503 ``store-busy`` counts as one); afterwards the audit
  rows written are compared with the answers received (every answer must have its row).

No target figure is asserted: the table reports the ratio of p99 during the load to p99
without it, and the load's own wall time (SQLite holds one writer at a time: a request
arriving while the load writes waits for it to write its audit row; docs/service.md).

    python benchmarks/bench_load_while_serving.py [--clients 4] [--quiet 10]
"""

from __future__ import annotations

import argparse
import itertools
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from sqlalchemy import func, select

from jointwatch.sources import open_list
from jointwatch.store import load_list, open_engine
from jointwatch.store.members import add_member, create_key
from jointwatch.store.schema import audit

LISTS = Path(__file__).resolve().parents[2] / "shared" / "data" / "lists"
UN_FILE = LISTS / "un_consolidated_2026-02-27.xml"
OFAC_FILE = LISTS / "ofac_sdn_2023-06-05.csv"
CLI = [sys.executable, "-c", "from jointwatch.cli import main; main()"]
NAMES = ["Tarak Ben Taher Ouni Harzi", "Maria Gonzalez Fernandez", "Ayman al-Zawahiri", "John Smith",
         "Hiroshi Tanaka", "Abu Bakr al-Baghdadi", "Anna Kowalska", "Mehmet Yilmaz"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _client(url: str, keys: list[str], stop: threading.Event, out: list[tuple[float, int]]) -> None:
    with httpx.Client(base_url=url, timeout=120) as http:
        for n, key in zip(itertools.count(), itertools.cycle(keys)):
            if stop.is_set():
                return
            started = time.perf_counter()
            status = http.post("/match", json={"name": NAMES[n % len(NAMES)]},
                               headers={"Authorization": f"Bearer {key}"}).status_code
            out.append((time.perf_counter() - started, status))


def _phase(url: str, keys: list[str], clients: int, until: callable) -> list[tuple[float, int]]:  # type: ignore[valid-type]
    stop, out = threading.Event(), []  # type: ignore[var-annotated]
    threads = [threading.Thread(target=_client, args=(url, keys[i::clients], stop, out)) for i in range(clients)]
    for thread in threads:
        thread.start()
    until()
    stop.set()
    for thread in threads:
        thread.join()
    return out


def _row(label: str, results: list[tuple[float, int]], wall: float) -> str:
    times = sorted(t * 1000 for t, _ in results)
    errors = sum(status != 200 for _, status in results)
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    return (f"| {label} | {len(results):,} | {errors} | {statistics.median(times):.0f} | {p99:.0f} | "
            f"{times[-1]:.0f} | {wall:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--quiet", type=float, default=10.0, help="seconds of the anchor phase (no load)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "serve.db")
        engine = open_engine(db, create=True)
        load_list(engine, open_list(UN_FILE, "un"))
        add_member(engine, "Bench", "NL")
        keys = [create_key(engine, "Bench", f"u{i}", "screener")[1] for i in range(4 * args.clients)]
        port = _free_port()
        env = {**os.environ, "JOINTWATCH_CACHE": str(Path(tmp) / "cache")}
        server = subprocess.Popen([*CLI, "serve", "--db", db, "--port", str(port)],
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(600):
                try:
                    if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            started = time.perf_counter()
            quiet = _phase(url, keys, args.clients, lambda: time.sleep(args.quiet))
            quiet_wall = time.perf_counter() - started
            load_wall = [0.0]

            def run_load() -> None:
                began = time.perf_counter()
                subprocess.run([*CLI, "lists", "load", str(OFAC_FILE),
                                "--format", "ofac-sdn", "--db", db], env=env, check=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                load_wall[0] = time.perf_counter() - began

            during = _phase(url, keys, args.clients, run_load)
        finally:
            server.terminate()
            server.wait(30)
        with engine.connect() as connection:
            rows = connection.execute(select(func.count()).select_from(audit).where(audit.c.action == "match")).scalar()
    print(f"{args.clients} clients, POST /match; SQLite; UN loaded, then OFAC SDN loaded while serving")
    print("| phase | requests | errors | p50 ms | p99 ms | max ms | wall s |")
    print("|---|---|---|---|---|---|---|")
    print(_row("no load (anchor)", quiet, quiet_wall))
    print(_row("during the OFAC SDN load", during, load_wall[0]))
    q99 = sorted(t for t, _ in quiet)[int(len(quiet) * 0.99)]
    d99 = sorted(t for t, _ in during)[int(len(during) * 0.99)]
    print(f"p99 during / p99 without: {d99 / q99:.1f}×; audit rows for /match: {rows:,} for "
          f"{len(quiet) + len(during):,} answers")


if __name__ == "__main__":
    main()
