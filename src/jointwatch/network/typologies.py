"""Typology detectors: patterns of terrorist financing, each a rule in SQL with its evidence.

Every finding names the accounts, the rule and its thresholds, the figures the rule was
tested on, and up to ten of the transactions behind it. Thresholds are in USD and are the
defaults below; docs/network.md explains each rule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from jointwatch.network.engines import AnalysisEngine

REPORTING_THRESHOLD_USD = 10_000.0
EVIDENCE = 10
BROKERED = "channel IN ('msb', 'hawala', 'cash')"


@dataclass
class Finding:
    typology: str
    accounts: list[str]
    rule: str
    figures: dict[str, Any]
    transactions: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Detector:
    name: str
    rule: str
    sql: str                      # one row per finding: a `accounts` column (comma-joined) and figures
    evidence: str                 # transactions of a finding: a condition on tx x and the finding f


DETECTORS = (
    Detector(
        "fan_in",
        "many small transfers (not card payments) from many countries fan in to one collector: at least 10 "
        "distinct senders in at least 5 countries, average at most 1,000 USD, at least half from abroad",
        """SELECT x.dst AS accounts, COUNT(DISTINCT x.src) AS senders, COUNT(DISTINCT x.src_country) AS countries,
                  COUNT(*) AS payments, ROUND(SUM(x.usd), 2) AS total_usd, ROUND(AVG(x.usd), 2) AS average_usd,
                  ROUND(AVG(CASE WHEN x.src_country <> x.dst_country THEN 1.0 ELSE 0.0 END), 3) AS foreign_share
           FROM tx x WHERE COALESCE(x.channel, '') <> 'card' GROUP BY x.dst
           HAVING COUNT(DISTINCT x.src) >= 10 AND COUNT(DISTINCT x.src_country) >= 5 AND AVG(x.usd) <= 1000
              AND AVG(CASE WHEN x.src_country <> x.dst_country THEN 1.0 ELSE 0.0 END) >= 0.5""",
        "x.dst = f.accounts"),
    Detector(
        "pass_through",
        "an account passes on what it receives: at least 5,000 USD in from at most 10 distinct senders, "
        "90-110% of it out again, at least 3 payments out, each on average within 48 hours of the latest "
        "money in",
        """SELECT account AS accounts, ROUND(SUM(inflow), 2) AS in_usd, ROUND(SUM(outflow), 2) AS out_usd,
                  ROUND(AVG(CASE WHEN outflow > 0 THEN (t - last_in) / 3600.0 END), 1) AS average_holding_hours,
                  SUM(CASE WHEN outflow > 0 THEN 1 ELSE 0 END) AS payments_out, COUNT(DISTINCT sender) AS senders
           FROM (SELECT account, t, inflow, outflow, sender,
                        MAX(CASE WHEN inflow > 0 THEN t END) OVER (PARTITION BY account ORDER BY t, inflow DESC
                            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS last_in
                 FROM (SELECT dst AS account, t, usd AS inflow, 0.0 AS outflow, src AS sender FROM tx
                       UNION ALL SELECT src, t, 0.0, usd, CAST(NULL AS VARCHAR) FROM tx) e) h
           GROUP BY account
           HAVING SUM(inflow) >= 5000 AND COUNT(DISTINCT sender) <= 10
              AND SUM(outflow) BETWEEN 0.9 * SUM(inflow) AND 1.1 * SUM(inflow)
              AND SUM(CASE WHEN outflow > 0 THEN 1 ELSE 0 END) >= 3
              AND AVG(CASE WHEN outflow > 0 THEN (t - last_in) / 3600.0 END) <= 48""",
        "(x.src = f.accounts OR x.dst = f.accounts)"),
    Detector(
        "structuring",
        f"one sender pays one receiver at least twice in a calendar week, each payment between 80% and 100% "
        f"of the {REPORTING_THRESHOLD_USD:,.0f} USD reporting threshold, together above it",
        f"""SELECT CONCAT(src, ',', dst) AS accounts, CAST(FLOOR(t / 604800) AS BIGINT) AS week,
                   COUNT(*) AS payments,
                   ROUND(SUM(usd), 2) AS total_usd, ROUND(MAX(usd), 2) AS largest_usd
            FROM tx WHERE usd >= {0.8 * REPORTING_THRESHOLD_USD} AND usd < {REPORTING_THRESHOLD_USD}
            GROUP BY src, dst, CAST(FLOOR(t / 604800) AS BIGINT)
            HAVING COUNT(*) >= 2 AND SUM(usd) > {REPORTING_THRESHOLD_USD}""",
        "CONCAT(x.src, ',', x.dst) = f.accounts AND CAST(FLOOR(x.t / 604800) AS BIGINT) = f.week "
        f"AND x.usd >= {0.8 * REPORTING_THRESHOLD_USD} AND x.usd < {REPORTING_THRESHOLD_USD}"),
    Detector(
        "cycle",
        "money comes back: a -> b -> a or a -> b -> c -> a within 30 days, each leg at least 5,000 USD and "
        "within 10% of the first",
        """WITH big AS (SELECT id, src, dst, t, usd FROM tx WHERE usd >= 5000)
           SELECT DISTINCT accounts, legs, first_usd FROM (
             SELECT CONCAT(a.src, ',', a.dst) AS accounts, 2 AS legs, ROUND(a.usd, 2) AS first_usd
             FROM big a JOIN big b ON b.src = a.dst AND b.dst = a.src AND b.t > a.t AND b.t <= a.t + 2592000
             WHERE a.src < a.dst AND b.usd BETWEEN 0.9 * a.usd AND 1.1 * a.usd
             UNION ALL
             SELECT CONCAT(a.src, ',', a.dst, ',', b.dst), 3, ROUND(a.usd, 2)
             FROM big a JOIN big b ON b.src = a.dst AND b.t > a.t AND b.t <= a.t + 2592000
                        JOIN big c ON c.src = b.dst AND c.dst = a.src AND c.t > b.t AND c.t <= a.t + 2592000
             WHERE a.src < a.dst AND a.src < b.dst AND b.dst <> a.dst
               AND b.usd BETWEEN 0.9 * a.usd AND 1.1 * a.usd AND c.usd BETWEEN 0.9 * a.usd AND 1.1 * a.usd
           ) c""",
        "CONCAT(',', f.accounts, ',') LIKE CONCAT('%,', x.src, ',%') "
        "AND CONCAT(',', f.accounts, ',') LIKE CONCAT('%,', x.dst, ',%') AND x.usd >= 5000"),
    Detector(
        "broker_netting",
        "hawala-like brokers: two accounts in different countries pay each other both ways, and each serves "
        "at least 5 distinct customers in its own country through a broker channel (msb, hawala, cash)",
        """WITH pair AS (SELECT LEAST(src, dst) AS a, GREATEST(src, dst) AS b,
                                SUM(CASE WHEN src < dst THEN usd ELSE 0 END) AS a_to_b,
                                SUM(CASE WHEN src > dst THEN usd ELSE 0 END) AS b_to_a
                         FROM tx WHERE src_country <> dst_country GROUP BY LEAST(src, dst), GREATEST(src, dst)
                         HAVING SUM(CASE WHEN src < dst THEN 1 ELSE 0 END) > 0
                            AND SUM(CASE WHEN src > dst THEN 1 ELSE 0 END) > 0),
                local AS (SELECT account, COUNT(DISTINCT peer) AS customers FROM (
                            SELECT dst AS account, src AS peer FROM tx WHERE src_country = dst_country AND {brokered}
                            UNION ALL SELECT src, dst FROM tx WHERE src_country = dst_country AND {brokered}) l
                          GROUP BY account)
           SELECT CONCAT(p.a, ',', p.b) AS accounts, ROUND(p.a_to_b, 2) AS a_to_b_usd, ROUND(p.b_to_a, 2) AS b_to_a_usd,
                  ROUND(ABS(p.a_to_b - p.b_to_a) / (p.a_to_b + p.b_to_a), 3) AS net_share,
                  la.customers AS a_customers, lb.customers AS b_customers
           FROM pair p JOIN local la ON la.account = p.a JOIN local lb ON lb.account = p.b
           WHERE la.customers >= 5 AND lb.customers >= 5""".replace("{brokered}", BROKERED),
        "((x.src = SPLIT_PART(f.accounts, ',', 1) AND x.dst = SPLIT_PART(f.accounts, ',', 2)) OR "
        "(x.dst = SPLIT_PART(f.accounts, ',', 1) AND x.src = SPLIT_PART(f.accounts, ',', 2)))"),
    Detector(
        "new_corridor",
        "a country pair with no payments at all before the last 30 days of the data (which must reach at "
        "least 30 days further back) carries at least 3 payments from at least 2 senders in them",
        """WITH edge AS (SELECT MAX(t) - 2592000 AS cut FROM tx HAVING MIN(t) <= MAX(t) - 2 * 2592000)
           SELECT CONCAT(x.src_country, '>', x.dst_country) AS accounts, COUNT(*) AS payments,
                  COUNT(DISTINCT x.src) AS senders, ROUND(SUM(x.usd), 2) AS total_usd
           FROM tx x CROSS JOIN edge WHERE x.src_country IS NOT NULL AND x.dst_country IS NOT NULL
             AND x.src_country <> x.dst_country
           GROUP BY x.src_country, x.dst_country
           HAVING MIN(x.t) >= MAX(edge.cut) AND COUNT(*) >= 3 AND COUNT(DISTINCT x.src) >= 2""",
        "CONCAT(x.src_country, '>', x.dst_country) = f.accounts"),
)


def detect_all(engine: AnalysisEngine, names: tuple[str, ...] | None = None,
               progress: Callable[[str], None] | None = None) -> list[Finding]:
    """Run the detectors (all, or those named) over table ``tx``; findings in a stable order."""
    findings: list[Finding] = []
    for detector in DETECTORS:
        if names and detector.name not in names:
            continue
        if progress:
            progress(detector.name)
        findings.extend(_run(engine, detector))
    return findings


def _run(engine: AnalysisEngine, detector: Detector) -> list[Finding]:
    table = f"found_{detector.name}"
    engine.create(table, detector.sql)
    rows = engine.rows(f"SELECT * FROM {table} ORDER BY accounts" + (", week" if detector.name == "structuring"
                                                                          else ""))
    if not rows:
        return []
    key = "f.accounts, f.week" if detector.name == "structuring" else "f.accounts"
    evidence = engine.rows(f"""
SELECT accounts, {'week, ' if detector.name == 'structuring' else ''}id, n FROM (
  SELECT {key}, x.id, row_number() OVER (PARTITION BY {key} ORDER BY x.t, x.id) AS n
  FROM {table} f JOIN tx x ON {detector.evidence}
) e WHERE n <= {EVIDENCE} ORDER BY accounts, n""")
    by_key: dict[tuple[Any, ...], list[str]] = {}
    for r in evidence:
        by_key.setdefault((r["accounts"], r.get("week")), []).append(r["id"])
    out = []
    for r in rows:
        figures = {k: (float(v) if isinstance(v, float) else v) for k, v in r.items() if k != "accounts"}
        accounts = [] if detector.name == "new_corridor" else r["accounts"].split(",")
        if detector.name == "new_corridor":
            figures["corridor"] = r["accounts"]
        out.append(Finding(detector.name, accounts, detector.rule, figures,
                           by_key.get((r["accounts"], r.get("week")), [])))
    return out
