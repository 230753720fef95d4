"""A blind query over loopback HTTP: what `POST /discovery/query` costs a caller, end to end.

bench_discovery.py measures the blind query in-process; the issue's target (under 50 ms a query
on loopback) is for the service. This script builds a store with the UN list, a holder member
sharing restricted (TLP:RED, originator-only) entries and opening its offer, and an asker with an
analyst key, all through the CLI as a user would; starts `jointwatch serve` on a free loopback
port; and sends blind queries one at a time (listed names, their other spellings, innocent names),
beside the same queries screened in the clear (`POST /match`) on the same server in the same run.

    python benchmarks/bench_discovery_http.py [--queries 200]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from bench_service import wait_healthy

REPO = Path(__file__).resolve().parent.parent
UN = (REPO / "../shared/data/lists/un_consolidated_2026-02-27.xml").resolve()
BIN = Path(sys.executable).parent
# (name the holder shares, birth date) and the spellings an asker might type
SHARED = [("Tariq Bin-Al-Tahar Al-Harzi", "1982-05-09"), ("Aymen Ben Ali Ben Mohamed Saadi", "1975-02-05"),
          ("Mokhtar Belmokhtar", "1972-06-01"), ("Ahmad Fadil Nazal Al-Khalayleh", "1966-10-30")]
ASKED = ["Tarek Ben Taher Harzi", "طارق بن الطاهر الحرزي", "Aymen Saadi", "Mokhtar Bel Mokhtar",
         "Ahmed Fadel al-Khalaylah", "Pierre Dupont", "Maria Garcia Lopez", "John Smith", "Li Wei",
         "Olusegun Adeyemi", "Anna Kowalska", "Hans Muller"]


def jw(*args: str, db: Path) -> str:
    done = subprocess.run([str(BIN / "jointwatch"), *args, "--db", str(db)], capture_output=True, text=True,
                          check=True, env={**os.environ, "COLUMNS": "200"})
    return done.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def timed(client: httpx.Client, path: str, bodies: list[dict[str, object]], key: str) -> list[float]:
    out = []
    for body in bodies:
        start = time.perf_counter()
        response = client.post(path, json=body, headers={"Authorization": f"Bearer {key}"})
        out.append((time.perf_counter() - start) * 1000)
        response.raise_for_status()
    return out


def row(what: str, ms: list[float]) -> str:
    ordered = sorted(ms)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    return f"| {what} | {len(ms)} | {statistics.median(ms):.1f} | {p95:.1f} | {max(ms):.1f} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "bench.db"
        jw("lists", "load", str(UN), "--format", "un", db=db)
        jw("members", "add", "Customs BE", db=db)
        jw("members", "add", "Border Police NL", db=db)
        for name, born in SHARED:
            jw("share", "add", "--member", "Customs BE", "--name", name, "--birth-date", born, "--tlp", "red",
               "--reason", "benchmark", db=db)
        # a budget that the run cannot spend: the cost is measured here, the budget in bench_discovery.py
        jw("discover", "offer", "--member", "Customs BE", "--daily-keys", "1000000", "--per-minute", "10000", db=db)
        key = jw("keys", "create", "--member", "Border Police NL", "--user", "bench", "--role", "analyst",
                 db=db).strip().splitlines()[-1]
        port = free_port()
        # --rate-per-second 0: the key's request rate is not what is measured
        server = subprocess.Popen([str(BIN / "jointwatch"), "serve", "--db", str(db), "--port", str(port),
                                   "--rate-per-second", "0"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_healthy(base, server, timeout=60)
            with httpx.Client(base_url=base, timeout=60) as client:
                bodies: list[dict[str, object]] = [{"name": ASKED[i % len(ASKED)]} for i in range(args.queries)]
                first = client.post("/discovery/query", json={"name": ASKED[0]},
                                    headers={"Authorization": f"Bearer {key}"}).json()
                hit = [a for a in first["answers"] if a["hit"]]
                timed(client, "/match", bodies[:20], key)       # warm both paths
                timed(client, "/discovery/query", bodies[:20], key)
                blind = timed(client, "/discovery/query", bodies, key)
                clear = timed(client, "/match", bodies, key)
        finally:
            server.terminate()
            server.wait(30)
    load = os.getloadavg()[0]
    print(f"holder: {len(SHARED)} TLP:RED entries; '{ASKED[0]}' → {'hit' if hit else 'no hit'} at "
          f"{', '.join(a['holder'] for a in hit) or '-'}; one client, loopback, load average {load:.1f}\n")
    print("| request | n | median ms | p95 ms | max ms |\n|---|---|---|---|---|")
    print(row("POST /discovery/query (blind)", blind))
    print(row("POST /match (in the clear, anchor)", clear))


if __name__ == "__main__":
    main()
