"""The screener the service uses, rebuilt when a newer list version is loaded into the store."""

from __future__ import annotations

import threading
import time

from sqlalchemy import Engine

from jointwatch.screening import Screener, open_screener
from jointwatch.store import latest_versions


class Screeners:
    """Hands out the screener of the store's newest lists and the versions it was built on."""

    def __init__(self, engine: Engine, threshold: float | None = None, recheck_seconds: float = 1.0) -> None:
        self.engine = engine
        self.threshold = threshold
        # how long a request may be answered from the lists as they were checked last: a newly
        # loaded version is used at most this much later, and busy services skip a query per request
        self.recheck_seconds = recheck_seconds
        self._checked = 0.0
        self._lock = threading.Lock()
        self._screener: Screener | None = None
        self._versions: dict[str, str] = {}

    def current(self) -> tuple[Screener, dict[str, str]]:
        """The screener and {source: version} it screens against (the store is asked at most
        once every ``recheck_seconds``)."""
        if self._screener is not None and time.monotonic() - self._checked < self.recheck_seconds:
            with self._lock:
                return self._screener, dict(self._versions)
        versions = {source: info.version for source, info in latest_versions(self.engine).items()}
        with self._lock:
            self._checked = time.monotonic()
            # one rebuild at a time; requests meanwhile wait rather than build the index twice
            if self._screener is None or versions != self._versions:
                self._screener = open_screener(self.engine, self.threshold)
                self._versions = versions
            return self._screener, dict(self._versions)
