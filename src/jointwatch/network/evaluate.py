"""How well a trace found what the simulator planted: originator precision and recall, country error."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jointwatch.network.result import TraceResult


@dataclass
class Score:
    planted: int
    found: int
    true_positives: int
    precision: float
    recall: float
    planted_usd: float
    attributed_usd: float          # to the planted donors
    country_abs_error_usd: float   # sum over countries of |found - planted|
    country_rel_error: float       # that, over the planted total
    countries_planted: int
    countries_found: int


def score_trace(result: TraceResult, truth: dict[str, Any], min_amount: float = 0.0) -> Score:
    """Compare originators (at or above ``min_amount`` USD) and country totals with the planted truth."""
    donors = {d["account"]: d for n in truth["networks"] for d in n["donors"]}
    found = {o.account: o for o in result.originators if o.amount >= min_amount}
    hits = set(found) & set(donors)
    planted_usd = sum(d["amount"] for d in donors.values())
    country_found: dict[str, float] = {}
    for o in found.values():
        country_found[o.country] = country_found.get(o.country, 0.0) + o.amount
    planted_c = truth["country_totals_usd"]
    error = sum(abs(country_found.get(c, 0.0) - planted_c.get(c, 0.0)) for c in set(country_found) | set(planted_c))
    return Score(len(donors), len(found), len(hits), len(hits) / len(found) if found else 0.0,
                 len(hits) / len(donors) if donors else 0.0, round(planted_usd, 2),
                 round(sum(found[a].amount for a in hits), 2), round(error, 2),
                 round(error / planted_usd, 4) if planted_usd else 0.0, len(planted_c), len(country_found))
