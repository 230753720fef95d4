"""The screener the service uses, rebuilt when a newer list version is loaded into the store.

It screens the official lists and the partner entries releasable to the caller
(``jointwatch.sharing.SharedScreener``): every route that screens passes the caller's member,
so a partner hit reaches only those the entry is released to."""

from __future__ import annotations

import threading
import time

import anyio
from sqlalchemy import Engine
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jointwatch.screening import ListPolicy, Screener, check_lists, open_screener
from jointwatch.sharing import PartnerIndex, SharedScreener
from jointwatch.store import SharingWatch, VersionInfo, latest_versions


class Screeners:
    """Hands out the screener of the store's newest lists and the versions it was built on.

    Fails closed on every call: with no list loaded, or a list older than ``policy`` allows,
    ``current`` raises ScreeningUnavailableError (503) instead of screening against nothing."""

    def __init__(self, engine: Engine, threshold: float | None = None, recheck_seconds: float = 1.0,
                 policy: ListPolicy | None = None) -> None:
        self.engine = engine
        self.threshold = threshold
        self.policy = policy or ListPolicy()
        # how long a request may be answered from the lists as they were checked last: a newly
        # loaded version is used at most this much later, and busy services skip a query per request
        self.recheck_seconds = recheck_seconds
        self._checked = 0.0
        self._lock = threading.Lock()
        self._screener: SharedScreener | None = None
        # one per service, made on first use: its commit listener tells every partner index of a change
        self._watch: SharingWatch | None = None
        self._infos: dict[str, VersionInfo] = {}
        self._versions: dict[str, str] = {}
        # lists older than allowed, when the operator chose to be warned (sent as a Warning header)
        self.warnings: list[str] = []

    def due(self) -> bool:
        """Whether the next ``current`` asks the store (so should run off the event loop)."""
        return self._screener is None or time.monotonic() - self._checked >= self.recheck_seconds

    async def now(self) -> tuple[Screener, dict[str, str]]:
        """``current``, in a worker thread only when it will ask the store (once a second at most):
        the other calls cost microseconds and are answered on the event loop, without a hand-off."""
        if self.due():
            return await anyio.to_thread.run_sync(self.current)
        return self.current()

    def current(self) -> tuple[Screener, dict[str, str]]:
        """The screener and {source: version} it screens against (the store is asked at most
        once every ``recheck_seconds``; the lists' age is checked on every call). Its partner
        entries are indexed against the official lists' word weights, so they are indexed again
        (once, lazily) whenever the official screener is rebuilt."""
        if self.due():
            infos = latest_versions(self.engine)
            versions = {source: info.version for source, info in infos.items()}
            with self._lock:
                self._checked = time.monotonic()
                self._infos = infos
                # one rebuild at a time; requests meanwhile wait rather than build the index twice
                if versions and (self._screener is None or versions != self._versions):
                    official = open_screener(self.engine, self.threshold, policy=None)
                    if self._watch is None:
                        self._watch = SharingWatch(self.engine)
                    self._screener = SharedScreener(official, PartnerIndex(self.engine, official, self._watch))
                    self._versions = versions
        with self._lock:
            self.warnings = check_lists(self._infos, self.policy)
            assert self._screener is not None  # check_lists refuses an empty register
            return self._screener, dict(self._versions)


    def warm(self) -> dict[str, str]:
        """Build the screener and its partner index now (before a service forks its workers, so
        they share them); the versions it screens against."""
        screener, versions = self.current()
        if isinstance(screener, SharedScreener):
            screener.partners.state()
        return versions


class ListWarningMiddleware:
    """Adds a ``Warning`` header to every answer while a list is older than allowed and the
    operator chose to be warned rather than refused, so no client reads such an answer as current."""

    def __init__(self, app: ASGIApp, screeners: Screeners) -> None:
        self.app = app
        self.screeners = screeners

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_warning(message: Message) -> None:
            if message["type"] == "http.response.start" and self.screeners.warnings:
                headers = MutableHeaders(scope=message)
                text = " ".join(self.screeners.warnings).replace('"', "'")
                headers.append("Warning", f'199 jointwatch "{text}"')
            await send(message)

        await self.app(scope, receive, send_with_warning)
