"""Several worker processes serving one app on one port, sharing the screening index.

The parent builds the app and its screening index, opens the listening socket, and forks the
workers: each inherits the index's memory copy-on-write (read only, so its pages stay shared;
``gc.freeze`` keeps the collector from writing to them), runs its own uvicorn server and event
loop on the inherited socket, and the kernel hands each new connection to one of them. A
worker that dies is started again; SIGTERM or SIGINT to the parent stops every worker, each
finishing its requests in flight first.

What each worker keeps in its own memory, and what that means with several, is written down
in docs/service.md (*Several workers*). In short: everything that must agree across workers
(keys' revocation, audit rows, decisions, jobs, budgets, sessions, list versions, partner
entries) is in the store and read from it; the batch worker of jobs runs in worker 0 only.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

log = logging.getLogger("jointwatch.api")

STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}
RESTART_PAUSE_SECONDS = 1.0  # between a worker's death and its restart, so a crash loop cannot spin


def listening_socket(host: str, port: int, backlog: int = 2048) -> socket.socket:
    """A TCP socket bound to ``host``:``port`` and listening, for the workers to share."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP said outright: asyncio sets TCP_NODELAY only on sockets whose proto says TCP, and
    # an accepted socket takes the listening socket's; without it every answer (headers, then body)
    # waits ~40 ms for the client's delayed ACK (Nagle)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(backlog)
    sock.set_inheritable(True)
    return sock


def _die_with_parent() -> None:
    """Ask Linux to send this process SIGTERM when its parent dies (a killed parent must not leave
    orphaned workers answering on the port); elsewhere a no-op."""
    if not sys.platform.startswith("linux"):
        return
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return
    pr_set_pdeathsig = 1
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(libc_name, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def serve_workers(workers: int, sock: socket.socket, run_worker: Callable[[int, socket.socket], None]) -> int:
    """Fork ``workers`` processes that each call ``run_worker(index, sock)``; supervise them until
    SIGTERM or SIGINT, then stop them and return the exit code (0, or 1 if a worker failed at stop)."""
    gc.collect()
    gc.freeze()  # the objects built so far (the screening index) are never scanned, so never written to
    children: dict[int, int] = {}
    stopping = False

    def start(index: int) -> None:
        # signals held across the fork: a worker must never run the parent's handler (it would
        # signal its siblings); each side lets them through once its own handlers are in place
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        pid = os.fork()
        if pid == 0:  # the worker
            code = 1
            try:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
                _die_with_parent()
                run_worker(index, sock)
                code = 0
            except BaseException:
                log.exception("worker %d failed", index)
            finally:
                os._exit(code)
        children[pid] = index
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    previous: dict[int, Any] = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    failed = False
    try:
        for index in range(workers):
            start(index)
        while children:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            except InterruptedError:
                continue
            index = children.pop(pid, -1)
            if index < 0:
                continue
            code = os.waitstatus_to_exitcode(status)
            if stopping:
                failed = failed or code not in (0, -signal.SIGTERM, -signal.SIGINT)
                continue
            log.error("worker %d (pid %d) exited with %d; starting it again", index, pid, code)
            print(f"worker {index} (pid {pid}) exited with {code}; starting it again", file=sys.stderr)
            time.sleep(RESTART_PAUSE_SECONDS)
            if not stopping:
                start(index)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        gc.unfreeze()
    return 1 if failed else 0
