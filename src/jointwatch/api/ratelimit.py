"""Per-key rate limits: a token bucket for each API key, kept in this process's memory.

Each key may send ``rate`` requests a second on average and ``burst`` at once. The buckets
live in the process: behind several service processes each one grants the full rate, so
the effective limit is the rate times the number of processes.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets by key id; ``rate`` <= 0 turns the limit off."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = max(1, burst)
        self._lock = threading.Lock()
        self._buckets: dict[int, _Bucket] = {}  # one per key that called: bounded by the keys in the store

    def retry_after(self, key_id: int) -> int | None:
        """Take one token for ``key_id``: None if granted, else the whole seconds until one is free."""
        if self.rate <= 0:
            return None
        now = time.monotonic()
        with self._lock:
            bucket = self._buckets.setdefault(key_id, _Bucket(float(self.burst), now))
            bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return None
            return max(1, math.ceil((1.0 - bucket.tokens) / self.rate))
