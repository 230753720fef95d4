"""Fail closed: whether the register can be screened against at all.

A screening tool that could not look must never answer "clear". Screening refuses
(ScreeningUnavailableError: exit 9, HTTP 503) when no list is loaded, and when a list was
last confirmed current longer ago than the operator allows. The operator may choose to be
warned instead of refused for old lists (never for an empty register).

A list's age is the time since jointwatch last confirmed it current: the load of its newest
version, or a later ``lists update`` / ``lists load`` that found the publisher's file
unchanged. It is not the publication date: OFAC or the UN may rightly publish nothing new
for weeks, and a register refreshed daily is current however old the last change is.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from jointwatch.errors import ScreeningUnavailableError
from jointwatch.store import VersionInfo

DEFAULT_MAX_LIST_AGE_DAYS = 7.0
# the largest age an operator may set (a century): past it "no limit" is 0, and the command
# line refuses infinities that would otherwise end in an overflow instead of an answer
MAX_LIST_AGE_DAYS = 36_500.0


class OnStale(StrEnum):
    """What screening does with a list older than allowed."""

    refuse = "refuse"
    warn = "warn"


@dataclass(frozen=True)
class ListPolicy:
    """How old the lists may be before screening refuses (or warns); 0 days: no age limit."""

    max_age_days: float = DEFAULT_MAX_LIST_AGE_DAYS
    on_stale: OnStale = OnStale.refuse

    def __post_init__(self) -> None:
        # NaN compares false with every age: such a policy would silently never refuse
        if not (math.isfinite(self.max_age_days) and self.max_age_days >= 0):
            raise ValueError(f"max_age_days must be a finite number of days, 0 or more (0: no limit), "
                             f"not {self.max_age_days!r}")


def last_confirmed(info: VersionInfo) -> datetime:
    """When this version was last known to be the publisher's current list."""
    moments = [m for m in (info.loaded_at, info.checked_at) if m is not None]
    return max(_aware(m) for m in moments)


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes for values stored in UTC
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def check_lists(versions: Mapping[str, VersionInfo], policy: ListPolicy,
                now: datetime | None = None) -> list[str]:
    """Warnings about lists older than allowed (``warn``); ScreeningUnavailableError when the
    register cannot be screened against (nothing loaded, or old lists under ``refuse``)."""
    if not versions:
        raise ScreeningUnavailableError(
            "no list is loaded in this store, so nothing can be screened (a result would falsely read "
            "as clear): load the lists with `jointwatch lists update` or `jointwatch lists load`")
    if not policy.max_age_days:
        return []
    now = now or datetime.now(UTC)
    # compared in seconds: a timedelta of a large number of days overflows
    limit = policy.max_age_days * 86_400
    old = []
    for source, info in sorted(versions.items()):
        age = now - last_confirmed(info)
        if age.total_seconds() > limit:
            old.append(f"{source} (version {info.version}, last confirmed current "
                       f"{last_confirmed(info):%Y-%m-%d %H:%M} UTC, {age.days} days ago)")
    if not old:
        return []
    message = (f"lists older than the allowed {policy.max_age_days:g} days: {'; '.join(old)}. "
               "Refresh them with `jointwatch lists update` (or `lists update --from DIR` offline)")
    if policy.on_stale is OnStale.refuse:
        raise ScreeningUnavailableError(message + ", or allow older lists with --max-list-age DAYS "
                                        "or --stale-lists warn")
    return [message]
