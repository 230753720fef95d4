"""Federation between two servers: a first sync of many entries, then edits and withdrawals.

What is measured (issue 16, "Measure"):

- Agency A's store holds ``--entries`` (100,000) partner entries shared ``connected`` by one
  member, made by faker in eight locales (``bench_sharing.make_entries``: persons with
  aliases, a birth date, a nationality and a passport number; one in five an organisation),
  stored with ``store.insert_entries``. Agency B is a real ``jointwatch serve`` process on
  loopback over its own SQLite store with the UN list; A syncs with it in this process, as
  ``jointwatch share links sync agency-b`` does (pull from B's API, push signed bundles to it:
  HTTP both ways, B verifies every bundle before storing).
- First sync: time until B holds every entry, bytes sent (request bodies) and received.
- Then ``--edits`` (1,000) edits (one alias more) and ``--withdrawals`` (100) withdrawals on A,
  one sync: time to converge (B at the new versions, the withdrawn ones withdrawn), bytes.
- Withdrawal delay: A syncs every ``--interval`` seconds in the background (``--every``);
  an entry that hits in B's /match is withdrawn on A at a random moment, and B's /match is
  asked every 50 ms until the hit is gone. Reported: the interval and each measured delay;
  the target is one interval (plus the sync's own time).

    python benchmarks/bench_federation.py [--entries 100000] [--edits 1000] [--withdrawals 100]
                                          [--interval 5] [--probes 5]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import httpx
from bench_sharing import UN_FILE, make_entries
from sqlalchemy import func, select

from jointwatch.errors import JointwatchError
from jointwatch.releasability import Labels
from jointwatch.sharing import EntryInput, edit_entry, signing_key, sync, withdraw_entry
from jointwatch.sources import open_list
from jointwatch.store import (
    Engine,
    add_link,
    add_member,
    create_key,
    get_entry,
    insert_entries,
    load_list,
    open_engine,
)
from jointwatch.store.schema import shared_entries

LABELS = Labels("connected", (), "amber", ("consent-before-action",), "bench: Europol SIENA 2026/999")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(db: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    log = db.with_suffix(".log").open("wb")
    command = [str(Path(sys.executable).parent / "jointwatch"), "serve", "--db", str(db), "--port", str(port),
               "--max-list-age", "0", "--rate-per-second", "0", "--screen-timeout", "300"]
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(db.with_suffix(".log").read_text(errors="replace")[-3000:])
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2):
                return process, url
        except OSError:
            time.sleep(0.3)
    raise SystemExit("B did not start")


def counts(engine: Engine) -> dict[str, int]:
    c = shared_entries.c
    with engine.connect() as connection:
        rows = connection.execute(select(c.status, func.count()).group_by(c.status)).all()
    return {str(r[0]): int(r[1]) for r in rows}


def hits(client: httpx.Client, entity: dict[str, Any], ref: str) -> bool:
    props = entity["properties"]
    body: dict[str, Any] = {"name": props["name"][0]}
    if props.get("birthDate"):
        body["birth_date"] = props["birthDate"][0]
    answer = client.post("/match", json=body)
    answer.raise_for_status()
    return any(m["reference"] == ref for m in answer.json()["matches"])


def mb(n: int) -> str:
    return f"{n / 1e6:,.1f} MB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--edits", type=int, default=1000)
    parser.add_argument("--withdrawals", type=int, default=100)
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between background syncs")
    parser.add_argument("--probes", type=int, default=5, help="withdrawals timed for the delay")
    args = parser.parse_args()
    rng = random.Random(16)
    rows: list[tuple[str, str]] = []
    folder = Path(tempfile.mkdtemp(prefix="bench-federation-"))
    env = {**os.environ, "JOINTWATCH_CACHE": str(folder / "cache")}
    os.environ["JOINTWATCH_CACHE"] = env["JOINTWATCH_CACHE"]
    server: subprocess.Popen[bytes] | None = None
    try:
        started = time.perf_counter()
        template = open_engine(str(folder / "template.db"), create=True)
        load_list(template, open_list(UN_FILE, "un"))
        template.dispose()
        for name in ("a.db", "b.db"):
            shutil.copy(folder / "template.db", folder / name)
        a, b = open_engine(str(folder / "a.db")), open_engine(str(folder / "b.db"))
        police = add_member(a, "border-police").id
        entries = make_entries(args.entries, rng, [(police, LABELS)], {police: "border-police"})
        insert_entries(a, entries)
        customs = add_member(b, "customs").id
        screener_key = create_key(b, customs, "bench", "screener")[1]
        a_key, b_key = signing_key(a), signing_key(b)
        _link, a_to_b_key = add_link(b, "agency-a", None, {a_key.key_id: a_key.public_key})
        server, url = start_server(folder / "b.db", env)
        add_link(a, "agency-b", url, {b_key.key_id: b_key.public_key}, api_key=a_to_b_key)
        print(f"set-up: {args.entries:,} entries on A, B serving at {url} "
              f"({time.perf_counter() - started:.0f} s)", file=sys.stderr)

        # 1. the first sync
        t0 = time.perf_counter()
        first = sync(a, "agency-b")
        first_s = time.perf_counter() - t0
        on_b = counts(b)
        received = sum(on_b.values())
        rows += [("first sync: entries on B / sent", f"{received:,} / {first.sent_entries:,}"),
                 ("first sync: bundles pushed", f"{len(first.pushed):,}"),
                 ("first sync: time to converge", f"{first_s:,.1f} s ({first.sent_entries / first_s:,.0f} entries/s)"),
                 ("first sync: bytes sent / received", f"{mb(first.bytes_sent)} / {mb(first.bytes_received)}"),
                 ("first sync: bytes per entry", f"{first.bytes_sent / max(first.sent_entries, 1):,.0f}")]
        refused = sum(p["refused"] for p in first.pushed)
        if refused:
            rows.append(("first sync: entries B could not read (refused alone)", f"{refused:,}"))
        client = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {screener_key}"}, timeout=600)
        t0 = time.perf_counter()
        probe = entries[1]
        hits(client, probe.entity, probe.ref)
        rows.append(("B: first /match after it (builds its partner index)", f"{time.perf_counter() - t0:,.1f} s"))

        # 2. edits and withdrawals on A, one sync
        chosen = rng.sample(range(len(entries)), args.edits + args.withdrawals + 4 * args.probes + 50)
        edited = withdrawn = 0
        t0 = time.perf_counter()
        position = 0
        while edited < args.edits:
            entry = entries[chosen[position]]
            position += 1
            props = {k: list(v) for k, v in entry.entity["properties"].items()}
            props["alias"] = props.get("alias", []) + [f"{props['name'][0]} (alias {position})"]
            try:
                edit_entry(a, entry.ref, police, "bench", "another alias", EntryInput(entry.schema, props))
            except JointwatchError:
                continue   # a generated value FtM does not accept on a full edit: another entry
            edited += 1
        while withdrawn < args.withdrawals:
            withdraw_entry(a, entries[chosen[position]].ref, police, "bench", "no longer needed")
            position += 1
            withdrawn += 1
        local_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        second = sync(a, "agency-b")
        second_s = time.perf_counter() - t0
        versions_ok = all((e := get_entry(b, entries[i].ref)) is not None and e.version == 2
                          for i in chosen[:position - args.withdrawals] if get_entry(a, entries[i].ref).version == 2)
        after = counts(b)
        rows += [(f"{args.edits:,} edits + {args.withdrawals:,} withdrawals on A (local)", f"{local_s:,.1f} s"),
                 ("then one sync: entries sent", f"{second.sent_entries:,}"),
                 ("then one sync: time to converge", f"{second_s:,.1f} s"),
                 ("then one sync: bytes sent / received", f"{mb(second.bytes_sent)} / {mb(second.bytes_received)}"),
                 ("B: withdrawn entries / edits at version 2", f"{after.get('withdrawn', 0):,} / "
                                                              f"{'all' if versions_ok else 'NOT ALL'}")]

        # 3. the delay until a withdrawn entry stops matching on B, with A syncing every --interval s
        stop = threading.Event()
        sync_times: list[float] = []

        def loop() -> None:   # as `share links sync --every`: one round every interval, start to start
            while not stop.is_set():
                t = time.perf_counter()
                try:
                    sync(a, "agency-b")
                except JointwatchError as error:
                    print(f"sync failed (retried next round): {error}", file=sys.stderr)
                sync_times.append(time.perf_counter() - t)
                stop.wait(max(0.0, t + args.interval - time.perf_counter()))

        background = threading.Thread(target=loop, daemon=True)
        background.start()
        delays: list[float] = []
        stored: list[float] = []
        for _ in range(args.probes):
            while True:
                entry = entries[chosen[position]]
                position += 1
                if entry.schema == "Person" and hits(client, entry.entity, entry.ref):
                    break
            time.sleep(rng.uniform(0, args.interval))
            withdraw_entry(a, entry.ref, police, "bench", "probe")
            t0 = time.perf_counter()
            stored_at: float | None = None
            while True:
                if stored_at is None and (on_b_now := get_entry(b, entry.ref)) and on_b_now.status == "withdrawn":
                    stored_at = time.perf_counter() - t0
                if not hits(client, entry.entity, entry.ref):
                    break
                time.sleep(0.05)
            delays.append(time.perf_counter() - t0)
            stored.append(stored_at if stored_at is not None else delays[-1])
        stop.set()
        background.join()
        within = "within" if max(delays) <= args.interval + max(sync_times) else "OVER"
        rows += [("sync interval (--every)", f"{args.interval:g} s"),
                 ("background sync (push + pull): median / max", f"{statistics.median(sync_times):.2f} / "
                                                                  f"{max(sync_times):.2f} s"),
                 (f"withdrawn on A -> stored withdrawn on B ({args.probes} probes)",
                  ", ".join(f"{d:.2f}" for d in stored) + " s"),
                 (f"withdrawn on A -> no hit in B's /match ({args.probes} probes)",
                  ", ".join(f"{d:.2f}" for d in delays) + " s"),
                 ("  max delay vs interval", f"{max(delays):.2f} s vs {args.interval:g} s "
                                             f"({within} one interval + one sync)")]
    finally:
        if server is not None and server.poll() is None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
        shutil.rmtree(folder, ignore_errors=True)
    width = max(len(k) for k, _ in rows)
    print(f"\nFederation A -> B (B a real `jointwatch serve` on loopback, A syncing in-process), "
          f"{args.entries:,} entries\n")
    for key, value in rows:
        print(f"  {key:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
