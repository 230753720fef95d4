"""Tracing money upstream from designated accounts, hop by hop, in SQL that runs on any engine.

The attribution rule (docs/network.md states it with worked examples):

* Hop 0 is every payment into a designated account (from an account that is not itself
  designated), within ``since``/``until``; its whole USD value is *traced*.
* First in, first out: each account's inflows and outflows are laid end to end in time order
  (ties: outflows first, then by id) as intervals on a line of money. If the account ever
  paid out more than it had received, the largest shortfall is its *opening balance*, put
  at the start of the line. A traced part ``F_o`` of an outflow ``o`` (value ``v_o``) goes to
  the inflows its interval overlaps, each ``F_o * overlap / v_o``; the part that overlaps
  the opening balance is the account's own money (``own_funds``): it is an *originator* of
  it. Intervals do not overlap, so no inflow is ever credited more than its value.
* Conduit test: money is only followed through the account when it behaves as a conduit
  around ``o``. Its *pool* ``P_o`` is what it received in the ``lookback_days`` before ``o``;
  ``B_o`` is what it paid, from ``lookback_days`` before ``o`` to one day after, to any receiver
  of this hop's traced payments (so a sum split into chunks, or spread over two mules, counts
  whole). It is a conduit when ``B_o >= s * P_o`` (it passed on a real part of what came in)
  and ``v_o <= P_o / s`` (what came in can pay for ``o``), with ``s = conduit_share`` (default
  one half). Otherwise the account is the originator of all of ``F_o``: ``no_earlier_inflow``
  (empty pool) or ``not_a_conduit`` (a donor giving 200 from a 3,000 salary is the funder, not
  the employer; nor is a friend who sent 30 before a gift of 400). Payments on a broker
  channel (msb, hawala) are followed whatever their size: a broker pays out of a pooled float.
* Parts under 0.01 USD are not followed further (``pruned``). After ``hops`` hops, the
  senders of the traced payments still open are originators of their parts (``hop_limit``).
  Each step goes to earlier payments, so cycles end.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jointwatch.network.engines import AnalysisEngine
from jointwatch.network.schema import TraceSettings

PRUNE_USD = 0.01
BROKER_CHANNELS = "('msb', 'hawala')"


@dataclass
class TraceTables:
    """Where the engine left the trace: names of its tables and the totals of the run."""

    edges: str            # id, src, dst, t, amount, flow, hop, channel: every traced payment part
    origins: str          # account, id, amount, hop, reason: every originated part
    totals: dict[str, float]
    hops_done: int


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def trace_upstream(engine: AnalysisEngine, designated: list[str], settings: TraceSettings) -> TraceTables:
    """Follow the money into ``designated`` accounts back up to ``settings.hops`` hops."""
    targets = ", ".join(f"({_literal(a)})" for a in sorted(set(designated))) or "(NULL)"
    engine.create("designated", f"SELECT CAST(account AS VARCHAR) AS account FROM (VALUES {targets}) AS v(account)")
    window = []
    if settings.since:
        window.append(f"x.ts >= CAST({_literal(settings.since)} AS TIMESTAMP)")
    if settings.until:
        # an inclusive end date means "up to the end of that day"
        until = settings.until + (" 23:59:59" if len(settings.until) == 10 else "")
        window.append(f"x.ts <= CAST({_literal(until)} AS TIMESTAMP)")
    engine.create("frontier_0", f"""
SELECT x.id, x.src, x.dst, x.t, x.usd AS amount, x.usd AS flow, 0 AS hop, x.channel
FROM tx x JOIN designated d ON x.dst = d.account
WHERE x.src NOT IN (SELECT account FROM designated) {''.join(' AND ' + w for w in window)}""")
    origins, edges = [], ["frontier_0"]
    hop = 0
    for hop in range(1, settings.hops + 1):
        _step(engine, hop, settings)
        origins.append(f"origin_{hop - 1}")
        edges.append(f"frontier_{hop}")
        if not engine.rows(f"SELECT 1 AS open FROM frontier_{hop} LIMIT 1"):
            break
    else:
        engine.create(f"origin_{hop}", f"""
SELECT src AS account, id, flow AS amount, {hop + 1} AS hop, 'hop_limit' AS reason FROM frontier_{hop}""")
        origins.append(f"origin_{hop}")
    engine.create("trace_edges", " UNION ALL ".join(
        f"SELECT id, src, dst, t, amount, flow, hop, channel FROM {t}" for t in edges))
    engine.create("trace_origins", " UNION ALL ".join(
        f"SELECT account, id, amount, hop, reason FROM {t}" for t in origins))
    return TraceTables("trace_edges", "trace_origins", _totals(engine), hop)


def _step(engine: AnalysisEngine, hop: int, settings: TraceSettings) -> None:
    """From the traced payments of hop ``hop - 1`` to those of hop ``hop`` (and the originated parts)."""
    prev, lookback, s = f"frontier_{hop - 1}", int(settings.lookback_days * 86400), float(settings.conduit_share)
    # the conduit test: pool (inflows before, within the lookback) against payments to the same receiver
    engine.create(f"judged_{hop}", f"""
SELECT b.*, p.pool,
       COALESCE(b.channel IN {BROKER_CHANNELS} OR (b.burst >= {s} * p.pool AND {s} * b.amount <= p.pool), FALSE)
         AS conduit
FROM (SELECT o.id, o.src, o.dst, o.t, o.amount, o.flow, o.channel, SUM(j.usd) AS burst
      FROM {prev} o
      JOIN (SELECT x.src, x.t, x.usd FROM tx x JOIN (SELECT DISTINCT dst FROM {prev}) r ON r.dst = x.dst) j
        ON j.src = o.src AND j.t >= o.t - {lookback} AND j.t <= o.t + 86400
      GROUP BY o.id, o.src, o.dst, o.t, o.amount, o.flow, o.channel) b
LEFT JOIN (SELECT o.id, SUM(i.usd) AS pool
           FROM {prev} o JOIN tx i ON i.dst = o.src AND i.t < o.t AND i.t >= o.t - {lookback}
           GROUP BY o.id) p ON p.id = b.id""")
    # each conduit account's money line: cents, so both engines add up exactly the same
    engine.create(f"ledger_{hop}", f"""
SELECT account, id, kind, cents,
       SUM(CASE WHEN kind = 1 THEN cents ELSE 0 END) OVER w AS cum_in,
       SUM(CASE WHEN kind = 0 THEN cents ELSE 0 END) OVER w AS cum_out
FROM (SELECT x.dst AS account, x.t, 1 AS kind, x.id, CAST(ROUND(x.usd * 100) AS BIGINT) AS cents
      FROM tx x WHERE x.dst IN (SELECT src FROM judged_{hop} WHERE conduit)
      UNION ALL
      SELECT x.src, x.t, 0, x.id, CAST(ROUND(x.usd * 100) AS BIGINT)
      FROM tx x WHERE x.src IN (SELECT src FROM judged_{hop} WHERE conduit)) e
WINDOW w AS (PARTITION BY account ORDER BY t, kind, id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)""")
    engine.create(f"line_{hop}", f"""
SELECT l.account, l.id, l.kind,
       CASE WHEN l.kind = 1 THEN o.opening + l.cum_in - l.cents ELSE l.cum_out - l.cents END AS lo,
       CASE WHEN l.kind = 1 THEN o.opening + l.cum_in ELSE l.cum_out END AS hi, o.opening
FROM ledger_{hop} l
JOIN (SELECT account, GREATEST(MAX(cum_out - cum_in), 0) AS opening FROM ledger_{hop} GROUP BY account) o
  ON o.account = l.account""")
    engine.create(f"origin_{hop - 1}", f"""
SELECT j.src AS account, j.id, j.flow AS amount, {hop} AS hop,
       CASE WHEN j.pool IS NULL AND NOT j.conduit THEN 'no_earlier_inflow' ELSE 'not_a_conduit' END AS reason
FROM judged_{hop} j WHERE NOT j.conduit
UNION ALL
SELECT j.src, j.id, j.flow * CAST(LEAST(l.hi, l.opening) - l.lo AS DOUBLE) / (l.hi - l.lo), {hop}, 'own_funds'
FROM judged_{hop} j JOIN line_{hop} l ON l.account = j.src AND l.id = j.id AND l.kind = 0
WHERE j.conduit AND l.lo < l.opening AND l.hi > l.lo""")
    engine.create(f"frontier_{hop}", f"""
SELECT id, src, dst, t, amount, SUM(part) AS flow, {hop} AS hop, channel FROM (
  SELECT x.id, x.src, x.dst, x.t, x.usd AS amount, x.channel,
         j.flow * CAST(LEAST(o.hi, i.hi) - GREATEST(o.lo, i.lo) AS DOUBLE) / (o.hi - o.lo) AS part
  FROM judged_{hop} j
  JOIN line_{hop} o ON o.account = j.src AND o.id = j.id AND o.kind = 0
  JOIN line_{hop} i ON i.account = j.src AND i.kind = 1 AND i.lo < o.hi AND i.hi > o.lo
  JOIN tx x ON x.id = i.id
  WHERE j.conduit AND o.hi > o.lo
) p GROUP BY id, src, dst, t, amount, channel HAVING SUM(part) >= {PRUNE_USD}""")


def _totals(engine: AnalysisEngine) -> dict[str, float]:
    row: dict[str, Any] = engine.rows("""
SELECT (SELECT COALESCE(SUM(flow), 0) FROM frontier_0) AS traced,
       (SELECT COUNT(*) FROM frontier_0) AS payments_in,
       (SELECT COALESCE(SUM(amount), 0) FROM trace_origins) AS originated""")[0]
    totals = {k: float(v) for k, v in row.items()}
    # every traced dollar is credited to an originator or falls under the pruning floor
    totals["pruned"] = max(totals["traced"] - totals["originated"], 0.0)
    return totals
