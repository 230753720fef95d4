"""The service's limits and options, fixed when the app is created (never read from deep inside)."""

from __future__ import annotations

from dataclasses import dataclass, field

from jointwatch.screening import ListPolicy
from jointwatch.store.media_bank import DISPUTES_PER_DAY

MAX_BODY_BYTES = 1_000_000
MAX_BATCH = 1000
MAX_JOB = 100_000
MAX_JOB_BODY_BYTES = 32_000_000   # room for MAX_JOB subjects of ~300 bytes each
RATE_PER_SECOND = 50.0
RATE_BURST = 100
SCREEN_TIMEOUT = 10.0
MEDIA_DECODE_WORKERS = 2


@dataclass(frozen=True)
class ServiceSettings:
    max_body_bytes: int = MAX_BODY_BYTES       # larger request bodies get 413
    max_batch: int = MAX_BATCH                 # subjects per inline POST /screen; more become a job
    max_job: int = MAX_JOB                     # subjects per job; more get 413
    max_job_body_bytes: int = MAX_JOB_BODY_BYTES  # the body limit of POST /jobs, which may carry a large batch
    threshold: float | None = None             # default match threshold (None: the screener's)
    cors_origins: tuple[str, ...] = ()         # browser origins allowed to call; none by default
    rate_per_second: float = RATE_PER_SECOND   # requests per second per API key, per process; 0: no limit
    rate_burst: int = RATE_BURST               # requests a key may send at once
    screen_timeout: float = SCREEN_TIMEOUT     # seconds for /match and inline /screen; longer gets 503
    job_poll_seconds: float = 1.0              # how often the batch worker looks for jobs it was not told of
    job_stop_after: int | None = None          # a drill: the batch worker stops after this many subjects
    # fail closed: no list, or a list older than this allows, gets 503 (or a Warning header under "warn")
    list_policy: ListPolicy = field(default_factory=ListPolicy)
    # media: images decoded at once (each may take ~0.2 GB); more uploads wait without holding a thread,
    # and past MEDIA_QUEUE per worker get 503, so uploads never starve /match
    media_decode_workers: int = MEDIA_DECODE_WORKERS
    media_disputes_per_day: int = DISPUTES_PER_DAY  # one member's disputes of other members' media items a day
