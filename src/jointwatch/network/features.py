"""Graph features of every account, in the same SQL as the typology rules, for the learned ranking.

One row per account (table ``ty_features``), read from the tables the rules build (``ty_all``,
``ty_seen``, ``ty_fresh``, ``ty_acct``, ``ty_links``, ``found_cycle``): so the rules run first
(``typologies.detect_all``). Every feature is relative where an amount is involved — to the
account's own history (its regular monthly inflow, its average payment, what new counterparties
pay it in other spans) — so that a model trained on one population can score another.
"""

from __future__ import annotations

from typing import Any

from jointwatch.network.engines import AnalysisEngine
from jointwatch.network.trace import usd_sum

FEATURES = (
    "in_degree",              # distinct senders, whole history (card payments included)
    "out_degree",             # distinct receivers
    "payments_in",
    "payments_out",
    "regular_counterparties",  # known for over 14 days
    "max_new_senders",        # most new senders in one 28-day span
    "max_new_receivers",
    "new_senders_vs_own",     # that, over (own average in other spans + 1)
    "new_receivers_vs_own",
    "new_in_vs_monthly",      # most USD from new senders in one span, over the regular monthly inflow
    "new_out_vs_monthly",
    "pass_through",           # largest min(in, out) / max(in, out) of new-counterparty money in one span
    "relay_spans",            # spans in which the account relays money (typologies: relay)
    "relay_neighbours",       # most relaying senders + receivers in one span
    "in_cycle",               # member of a cycle the cycle rule found
    "new_countries",          # distinct countries of new counterparties abroad (new corridors)
    "largest_out_vs_average",  # its largest payment, over its average payment
    "largest_in_vs_monthly",  # its largest inflow, over its regular monthly inflow
    "foreign_in_share",       # share of inflow USD from abroad
    "brokered_share",         # share of payments over msb / hawala / cash
)

SQL = f"""
WITH flows AS (SELECT dst AS account, src AS peer, t, usd AS inflow, 0.0 AS outflow, channel FROM ty_all
               UNION ALL SELECT src, dst, t, 0.0, usd, channel FROM ty_all),
     degree AS (SELECT account, COUNT(DISTINCT CASE WHEN inflow > 0 THEN peer END) AS in_degree,
                       COUNT(DISTINCT CASE WHEN outflow > 0 THEN peer END) AS out_degree,
                       SUM(CASE WHEN inflow > 0 THEN 1 ELSE 0 END) AS payments_in,
                       SUM(CASE WHEN outflow > 0 THEN 1 ELSE 0 END) AS payments_out,
                       MAX(outflow) AS largest_out, MAX(inflow) AS largest_in,
                       AVG(CAST(CASE WHEN channel IN ('msb', 'hawala', 'cash') THEN 1 ELSE 0 END AS DOUBLE))
                           AS brokered_share
                FROM flows GROUP BY account),
     spans AS (SELECT a.account, MAX(a.senders) AS max_new_senders, MAX(a.receivers) AS max_new_receivers,
                      MAX(a.senders / (a.own_senders + 1)) AS new_senders_vs_own,
                      MAX(a.receivers / (a.own_receivers + 1)) AS new_receivers_vs_own,
                      MAX(a.in_usd / GREATEST(a.monthly_in, 1.0)) AS new_in_vs_monthly,
                      MAX(a.out_usd / GREATEST(a.monthly_in, 1.0)) AS new_out_vs_monthly,
                      MAX(CASE WHEN a.in_usd > 0 AND a.out_usd > 0
                               THEN LEAST(a.in_usd, a.out_usd) / GREATEST(a.in_usd, a.out_usd) ELSE 0 END)
                          AS pass_through,
                      SUM(a.relay) AS relay_spans,
                      MAX(COALESCE(l.relay_senders, 0) + COALESCE(l.relay_receivers, 0)) AS relay_neighbours
               FROM ty_acct a LEFT JOIN ty_links l ON l.account = a.account AND l.span = a.span
               GROUP BY a.account),
     cyc AS (SELECT DISTINCT account FROM claimed_cycle),
     abroad AS (SELECT x.account, COUNT(DISTINCT x.country) AS new_countries FROM (
                  SELECT f.dst AS account, t.src_country AS country FROM ty_fresh f JOIN tx t ON t.id = f.id
                  WHERE t.src_country <> t.dst_country
                  UNION ALL SELECT f.src, t.dst_country FROM ty_fresh f JOIN tx t ON t.id = f.id
                  WHERE t.src_country <> t.dst_country) x GROUP BY x.account),
     foreign_in AS (SELECT dst AS account, {usd_sum('CASE WHEN src_country <> dst_country THEN usd ELSE 0 END')}
                          / GREATEST({usd_sum('usd')}, 0.01) AS foreign_in_share FROM tx GROUP BY dst)
SELECT s.account, d.in_degree, d.out_degree, d.payments_in, d.payments_out,
       s.regular_counterparties,
       COALESCE(p.max_new_senders, 0) AS max_new_senders, COALESCE(p.max_new_receivers, 0) AS max_new_receivers,
       COALESCE(p.new_senders_vs_own, 0) AS new_senders_vs_own,
       COALESCE(p.new_receivers_vs_own, 0) AS new_receivers_vs_own,
       COALESCE(p.new_in_vs_monthly, 0) AS new_in_vs_monthly, COALESCE(p.new_out_vs_monthly, 0) AS new_out_vs_monthly,
       COALESCE(p.pass_through, 0) AS pass_through, COALESCE(p.relay_spans, 0) AS relay_spans,
       COALESCE(p.relay_neighbours, 0) AS relay_neighbours,
       CASE WHEN c.account IS NULL THEN 0 ELSE 1 END AS in_cycle,
       COALESCE(b.new_countries, 0) AS new_countries,
       COALESCE(d.largest_out / NULLIF(s.average_out, 0), 0) AS largest_out_vs_average,
       COALESCE(d.largest_in / GREATEST(s.monthly_in, 1.0), 0) AS largest_in_vs_monthly,
       COALESCE(fi.foreign_in_share, 0) AS foreign_in_share, COALESCE(d.brokered_share, 0) AS brokered_share
FROM ty_seen s JOIN degree d ON d.account = s.account
LEFT JOIN spans p ON p.account = s.account
LEFT JOIN cyc c ON c.account = s.account
LEFT JOIN abroad b ON b.account = s.account
LEFT JOIN foreign_in fi ON fi.account = s.account
"""


def account_features(engine: AnalysisEngine) -> list[dict[str, Any]]:
    """Every account's features (``FEATURES``), after the typology rules have run on ``engine``."""
    engine.create("ty_features", SQL)
    return engine.rows("SELECT * FROM ty_features ORDER BY account")
