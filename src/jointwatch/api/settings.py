"""The service's limits and options, fixed when the app is created (never read from deep inside).

Each field is declared, with its flag, environment variable and description, in
``jointwatch.settings``; its default is taken from there, so `jointwatch serve`, the docs and
the app cannot disagree. The list policy and the media bank's disputes a day keep the defaults
of their own packages.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from jointwatch import settings as declared
from jointwatch.screening import ListPolicy
from jointwatch.store import DISPUTES_PER_DAY


@dataclass(frozen=True)
class ServiceSettings:
    max_body_bytes: int = declared.MAX_BODY_BYTES.default    # larger request bodies get 413
    max_batch: int = declared.MAX_BATCH.default              # subjects per inline POST /screen; more become a job
    max_job: int = declared.MAX_JOB.default                  # subjects per job; more get 413
    max_job_body_bytes: int = declared.MAX_JOB_BODY_BYTES.default  # the body limit of POST /jobs (a large batch)
    threshold: float | None = declared.THRESHOLD.default     # default match threshold (None: the screener's)
    cors_origins: tuple[str, ...] = declared.CORS_ORIGINS.default  # browser origins allowed to call; none by default
    rate_per_second: float = declared.RATE_PER_SECOND.default  # requests per second per API key, per process; 0: none
    rate_burst: int = declared.RATE_BURST.default            # requests a key may send at once
    screen_timeout: float = declared.SCREEN_TIMEOUT.default  # seconds for /match and inline /screen; longer gets 503
    job_poll_seconds: float = declared.JOB_POLL_SECONDS.default  # how often the worker looks for jobs not told of
    job_stop_after: int | None = declared.JOB_STOP_AFTER.default  # a drill: the worker stops after this many subjects
    # fail closed: no list, or a list older than this allows, gets 503 (or a Warning header under "warn")
    list_policy: ListPolicy = field(default_factory=ListPolicy)
    # media: images decoded at once (each may take ~0.2 GB); more uploads wait without holding a thread,
    # and past MEDIA_QUEUE per worker get 503, so uploads never starve /match
    media_decode_workers: int = declared.MEDIA_DECODE_WORKERS.default
    media_disputes_per_day: int = DISPUTES_PER_DAY  # one member's disputes of other members' media items a day
    max_evidence_bytes: int = declared.MAX_EVIDENCE_BYTES.default  # the largest evidence file (its own body limit)
    console_idle_minutes: float = declared.CONSOLE_IDLE_MINUTES.default  # a console session unused this long ends
