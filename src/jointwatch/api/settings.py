"""The service's limits and options, fixed when the app is created (never read from deep inside)."""

from __future__ import annotations

from dataclasses import dataclass

MAX_BODY_BYTES = 1_000_000
MAX_BATCH = 1000


@dataclass(frozen=True)
class ServiceSettings:
    max_body_bytes: int = MAX_BODY_BYTES       # larger request bodies get 413
    max_batch: int = MAX_BATCH                 # subjects per inline POST /screen; more get 413
    threshold: float | None = None             # default match threshold (None: the screener's)
    cors_origins: tuple[str, ...] = ()         # browser origins allowed to call; none by default
