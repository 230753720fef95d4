"""How well a trace found what the simulator planted: originator precision and recall, country and originator error."""

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
    # sum over accounts of |credited - planted|, over the planted total: at least the country error, as it also
    # counts the errors that cancel inside a country (a donor missed and a neighbour credited as much); NaN in
    # results scored before it was measured
    originator_rel_error: float = float("nan")


def score_trace(result: TraceResult, truth: dict[str, Any], min_amount: float = 0.0, convention: str = "") -> Score:
    """Compare originators (at or above ``min_amount`` USD) and country totals with the planted truth.

    ``convention`` ``fifo``: against the truth by first in first out where the simulator states one
    (``amount_fifo``, ``country_totals_usd_fifo``: a donor whose gift no forward carried is no donor)."""
    key = "amount_fifo" if convention == "fifo" and "country_totals_usd_fifo" in truth else "amount"
    donors = {d["account"]: {**d, "amount": d[key]} for n in truth["networks"] for d in n["donors"]
              if d[key] >= 0.005}
    found = {o.account: o for o in result.originators if o.amount >= min_amount}
    hits = set(found) & set(donors)
    planted_usd = sum(d["amount"] for d in donors.values())
    country_found: dict[str, float] = {}
    for o in found.values():
        country_found[o.country] = country_found.get(o.country, 0.0) + o.amount
    planted_c = truth["country_totals_usd_fifo" if key == "amount_fifo" else "country_totals_usd"]
    error = sum(abs(country_found.get(c, 0.0) - planted_c.get(c, 0.0)) for c in set(country_found) | set(planted_c))
    by_account = sum(abs((found[a].amount if a in found else 0.0) - (donors[a]["amount"] if a in donors else 0.0))
                 for a in set(found) | set(donors))
    return Score(len(donors), len(found), len(hits), len(hits) / len(found) if found else 0.0,
                 len(hits) / len(donors) if donors else 0.0, round(planted_usd, 2),
                 round(sum(found[a].amount for a in hits), 2), round(error, 2),
                 round(error / planted_usd, 4) if planted_usd else 0.0, len(planted_c), len(country_found),
                 round(by_account / planted_usd, 4) if planted_usd else 0.0)


@dataclass
class TypologyScore:
    typology: str
    planted: int
    found: int                     # findings of the rule
    true_positives: int            # findings naming a key account of a planted instance of the typology
    recalled: int                  # planted instances with a key account in one of the rule's findings
    precision: float
    recall: float


def score_typologies(findings: list[Any], truth: dict[str, Any]) -> list[TypologyScore]:
    """Per planted typology: precision of the rule's findings and recall of the planted instances.

    A finding is right when it names a key account of a planted instance of its typology (the
    collector of a fan-in, the hub of a fan-out or gather-scatter, the funder or gatherer of a
    scatter-gather, a layer account of a stack, any member of a cycle or bipartite set, either
    broker); an instance is found when one of its key accounts is in a finding of its typology."""
    scores = []
    for kind in sorted({p["typology"] for p in truth.get("typologies", [])}):
        instances = [set(p["key"]) for p in truth["typologies"] if p["typology"] == kind]
        keys = set().union(*instances)
        mine = [set(f.accounts) for f in findings if f.typology == kind]
        named = set().union(*mine) if mine else set()
        hits = sum(1 for f in mine if f & keys)
        recalled = sum(1 for i in instances if i & named)
        scores.append(TypologyScore(kind, len(instances), len(mine), hits, recalled,
                                    round(hits / len(mine), 3) if mine else 0.0,
                                    round(recalled / len(instances), 3) if instances else 0.0))
    return scores


@dataclass
class RankingScore:
    accounts: int
    illicit: int
    precision_at: int              # k
    precision_at_k: float          # illicit among the top k
    flagged: int                   # accounts called illicit (score >= threshold, or flagged by a rule)
    precision: float
    recall: float
    f1: float                      # of the illicit (minority) class


def score_ranking(ranked: list[str], flagged: set[str], illicit: set[str], accounts: int,
                  k: int = 100) -> RankingScore:
    """Precision among the first ``k`` of ``ranked``, and the minority class's precision, recall and F1
    of ``flagged`` against the ``illicit`` accounts."""
    top = ranked[:k]
    hits = len(flagged & illicit)
    precision = hits / len(flagged) if flagged else 0.0
    recall = hits / len(illicit) if illicit else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return RankingScore(accounts, len(illicit), k, round(sum(1 for a in top if a in illicit) / k, 3), len(flagged),
                        round(precision, 3), round(recall, 3), round(f1, 3))
