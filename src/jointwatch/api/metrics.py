"""Request counts and latencies, rendered in the Prometheus text exposition format.

Kept in-process and dependency-free: one service process is one scrape target.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from dataclasses import dataclass, field

# seconds; /match is meant to answer well under 50 ms, batches take longer
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass
class _Histogram:
    counts: list[int] = field(default_factory=lambda: [0] * len(BUCKETS))
    total: float = 0.0
    count: int = 0


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n")


class Metrics:
    """Counters by (method, route, status) and latency histograms by (method, route)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: dict[tuple[str, str, int], int] = {}
        self._latency: dict[tuple[str, str], _Histogram] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        with self._lock:
            key = (method, route, status)
            self._requests[key] = self._requests.get(key, 0) + 1
            histogram = self._latency.setdefault((method, route), _Histogram())
            index = bisect_left(BUCKETS, seconds)
            if index < len(BUCKETS):
                histogram.counts[index] += 1
            histogram.total += seconds
            histogram.count += 1

    def render(self) -> str:
        """The text format (version 0.0.4) Prometheus scrapes."""
        lines = ["# HELP jointwatch_http_requests_total HTTP requests answered, by route template and status.",
                 "# TYPE jointwatch_http_requests_total counter"]
        with self._lock:
            for (method, route, status), n in sorted(self._requests.items()):
                lines.append(f'jointwatch_http_requests_total{{method="{_label(method)}",route="{_label(route)}",'
                             f'status="{status}"}} {n}')
            lines += ["# HELP jointwatch_http_request_duration_seconds Time to answer a request.",
                      "# TYPE jointwatch_http_request_duration_seconds histogram"]
            for (method, route), h in sorted(self._latency.items()):
                labels = f'method="{_label(method)}",route="{_label(route)}"'
                cumulative = 0
                for bound, n in zip(BUCKETS, h.counts, strict=True):
                    cumulative += n
                    lines.append(f'jointwatch_http_request_duration_seconds_bucket{{{labels},le="{bound}"}} '
                                 f'{cumulative}')
                lines.append(f'jointwatch_http_request_duration_seconds_bucket{{{labels},le="+Inf"}} {h.count}')
                lines.append(f"jointwatch_http_request_duration_seconds_sum{{{labels}}} {h.total:.6f}")
                lines.append(f"jointwatch_http_request_duration_seconds_count{{{labels}}} {h.count}")
        return "\n".join(lines) + "\n"
