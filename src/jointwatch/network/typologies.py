"""Typology detectors: patterns of terrorist financing and laundering, each a rule in SQL with its evidence.

Every finding names the accounts, the rule, the figures the rule was tested on, and up to ten
of the transactions behind it. The rules judge an account against its own history and its
peers, not against fixed amounts: a payment is *fresh* when the two accounts had never paid
each other before the 28-day span it falls in (card payments left out), an account is judged
only in spans it has at least 35 days of history before, and a burst is a span with many more
fresh counterparties than the account has in its other spans (those not overlapping it) and than accounts have in
general. Laundering rings overlap (a gatherer is also the end of a fan-in), so the rules claim
accounts in order — cycle, broker netting, scatter-gather, gather-scatter, bipartite, fan-in,
fan-out, stack — and an account claimed by a more specific rule is not reported by a later
one. docs/network.md explains each rule and its measured precision and recall.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from jointwatch.network.engines import AnalysisEngine
from jointwatch.network.schema import ACCOUNT_SEPARATOR, ACCOUNT_SEPARATOR_SQL
from jointwatch.network.trace import rounded, usd_sum

REPORTING_THRESHOLD_USD = 10_000.0
EVIDENCE = 10
BROKERED = "channel IN ('msb', 'hawala', 'cash')"
BUCKET = 14 * 86400              # spans are two consecutive 14-day buckets: 28 days, starting every 14
HISTORY = 35 * 86400             # an account is judged in a span only with this much history before it
BURST_OWN = 3.0                  # a burst: at least this many times (own average in other spans + 1) …
BURST_PEERS = 4.0                # … and at least the peers' mean + this many standard deviations …
BURST_MIN = 6                    # … and at least this many fresh counterparties
PEERS_MIN = 100                  # peers: accounts with about as many regular counterparties, if that many
BURST_MONTHLY = 1.0              # … moving at least this share of the account's regular monthly inflow
COLLECTOR_SENDERS = 10           # a collector over its whole history: at least this many senders
RELAY_LOW, RELAY_HIGH = 0.6, 1.1  # a relay passes on this share of its fresh inflow to fresh counterparties
RELAY_MONTHLY = 0.5              # … an inflow of at least this share of its regular monthly inflow
FAN_OUT_FUNDED = 0.5             # a fan-out pays out money that came in new: fresh inflow at least this share of it
FAN_IN_PASSED = 0.5              # a fan-in passes the money on: fresh outflow at least this share of the fresh inflow
MAX_CYCLE = 5
SEP = ACCOUNT_SEPARATOR_SQL    # a finding of several accounts: their ids joined by it
PAIR = "(PARTITION BY LEAST(src, dst), GREATEST(src, dst))"
NOT_CARD = "COALESCE(channel, '') <> 'card'"
# a payment's place in time as one number, time then row (t within 1900-2099, before 1970 negative, and _row < 1e9
# keep it inside a BIGINT and in that order, as quality.py's account keys): a minimum of it is one payment, where
# ARG_MIN over the id cost Spark 3-5 s at 10M rows
EARLIEST = "(t * 1000000000 + _row)"
NEAR = "(PARTITION BY s.account ORDER BY s.span RANGE BETWEEN 1 PRECEDING AND 1 FOLLOWING)"
SPAN_COLUMNS = ", ".join(f"a.{c}" for c in ("account", "span", "senders", "receivers", "in_usd", "out_usd", "first_in",
                                           "last_out", "monthly_in", "first_seen", "peer_group"))


def _non_card(payments: str) -> str:
    """The payments of table ``payments`` that are not card payments."""
    return f"SELECT * FROM {payments} WHERE {NOT_CARD}"


def _fresh_sql(payments: str) -> str:
    """Each fresh payment of table ``payments`` (non-card, with its pair's first contact) in each span it falls in."""
    return f"""SELECT p.id, p.src, p.dst, p.t, p.usd, p.channel, p.opening,
                      CAST(FLOOR(p.t / {BUCKET}) AS BIGINT) - k.k AS span
               FROM {payments} p CROSS JOIN (SELECT 0 AS k UNION ALL SELECT 1 AS k) k
               WHERE p.first_contact >= (CAST(FLOOR(p.t / {BUCKET}) AS BIGINT) - k.k) * {BUCKET}"""


def _ends(fresh: str) -> str:
    """Each fresh payment once from each of its ends (a payment to oneself once): a join on either end as an
    equality. ``x.src = b.account OR x.dst = b.account`` is none, so the engines matched every relay (and, for a
    finding's payments, every finding) with every fresh payment of its span: at 10M rows the stack rule was still
    running after seven minutes, where the whole analysis takes 20 s"""
    return f"""(SELECT id, t, src AS account, dst AS other, span FROM {fresh}
           UNION ALL SELECT id, t, dst AS account, src AS other, span FROM {fresh} WHERE dst <> src)"""


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
    sql: str                      # one row per finding: a `accounts` column (joined by SEP) and figures
    evidence: str                 # transactions of a finding: a condition on payment x and the finding f
    source: str = "tx"            # what x is: a payment ("tx"), a non-card one ("ty_pay"), a fresh one in a span
                                  # ("ty_fresh"), or a fresh one from either of its ends ("ends")
    claims: str = ""              # the accounts this rule claims, from its table `f` (later rules skip them)
    keys: tuple[str, ...] = ("accounts",)
    # where a finding's transactions lie: the payments of its accounts (up to `members` of the ids joined in
    # `accounts`; 1: `accounts` whole) in [lo, hi), two expressions over f (NULL: unbounded). 0 members: not an
    # account's (a corridor's): read over every payment
    members: int = 1
    window: tuple[str, str] = ("NULL", "NULL")


# the tables every rule reads: non-card payments with the pair's first contact; each account's
# history; fresh payments in each span they fall in; each account's fresh counterparties per span
BASE = (
    # with each payment, its pair's figures, from one window over the pair (counting per direction inside it): the
    # pair's first contact; how many non-card payments it made in this one's direction (the collector rule's one-off
    # senders); on the earliest non-card payment of each direction (its opening payment), a mark that counts the payer
    # once among the receiver's senders and the receiver once among the payer's receivers, over the whole history or
    # in any span in which the pair is new. Being new is the pair's (its first contact is in or after the span), so
    # the span holds the opening payment whenever it holds another of that direction: the opening one comes after the
    # first contact and before the others. And on one payment of the pair, whether the two know each other, paying
    # over more than 14 days (a regular counterparty of both). A second window over the directed pair, a join of the
    # inflow back to the payments, or a COUNT(DISTINCT …) of counterparties each cost Spark a pass over every row
    ("ty_all", f"""SELECT id, src, dst, t, usd, channel, src_country,
                         MIN(t) OVER {PAIR} AS first_contact,
                         CASE WHEN src < dst THEN SUM(CASE WHEN src < dst AND {NOT_CARD} THEN 1 ELSE 0 END) OVER {PAIR}
                              ELSE SUM(CASE WHEN src > dst AND {NOT_CARD} THEN 1 ELSE 0 END) OVER {PAIR} END AS times,
                         _row = MIN(_row) OVER {PAIR}
                             AND MAX(t) OVER {PAIR} - MIN(t) OVER {PAIR} > {BUCKET} AS regular_pair,
                         {EARLIEST} = CASE
                             WHEN src < dst THEN MIN(CASE WHEN src < dst AND {NOT_CARD} THEN {EARLIEST} END) OVER {PAIR}
                             ELSE MIN(CASE WHEN src > dst AND {NOT_CARD} THEN {EARLIEST} END) OVER {PAIR} END AS opening
                  FROM tx"""),
    ("ty_pay", _non_card("ty_all")),
    # the account's regular monthly inflow: from counterparties it had known for over 14 days; all it paid (NULL when
    # it never paid); its first and last payment. What it got and what it paid are summed apart and joined: summed
    # together over each payment from both ends, every row carried the other side's sums too (at 10M rows Spark added
    # 20M decimals more)
    ("ty_seen", f"""WITH i AS (SELECT dst AS account, MIN(t) AS first_t, MAX(t) AS last_t,
                                      {usd_sum(f'CASE WHEN t - first_contact > {BUCKET} THEN usd ELSE 0 END')}
                                          AS known_in,
                                      COUNT(CASE WHEN regular_pair THEN 1 END) AS regular
                               FROM ty_all GROUP BY dst),
                         o AS (SELECT src AS account, MIN(t) AS first_t, MAX(t) AS last_t,
                                      {usd_sum('CASE WHEN usd > 0 THEN usd END')} AS paid,
                                      COUNT(CASE WHEN usd > 0 THEN 1 END) AS payments,
                                      COUNT(CASE WHEN regular_pair THEN 1 END) AS regular
                               FROM ty_all GROUP BY src),
                         b AS (SELECT COALESCE(i.account, o.account) AS account,
                                      LEAST(COALESCE(i.first_t, o.first_t), COALESCE(o.first_t, i.first_t))
                                          AS first_seen,
                                      GREATEST(COALESCE(i.last_t, o.last_t), COALESCE(o.last_t, i.last_t))
                                          AS last_seen,
                                      COALESCE(i.known_in, 0.0) AS known_in, o.paid, o.payments,
                                      COALESCE(i.regular, 0) + COALESCE(o.regular, 0) AS regular
                               FROM i FULL OUTER JOIN o ON o.account = i.account)
                    SELECT account, first_seen, paid / NULLIF(payments, 0) AS average_out,
                           known_in / GREATEST(1.0, (MAX(last_seen) OVER () - first_seen) / 2592000.0) AS monthly_in,
                           regular AS regular_counterparties, CAST(FLOOR(LOG2(regular + 1)) AS BIGINT) AS peer_group,
                           paid AS out_usd, last_seen
                    FROM b"""),
    ("ty_large", f"""SELECT p.id, p.src, p.dst, p.t, p.usd FROM ty_pay p JOIN ty_seen s ON s.account = p.src
                     WHERE p.t - p.first_contact <= {BUCKET} AND p.usd >= 3 * s.average_out"""),
    ("ty_fresh", _fresh_sql("ty_pay")),
    # each account's fresh counterparties and money per span: a counterparty is counted on its pair's opening payment
    # (ty_all), as two COUNT(DISTINCT …) made Spark copy every row three times (at 10M rows 34 s) and summing each
    # pair's payments first cost it a shuffle of them all. Its own table, because ty_acct reads it three times, and
    # Spark computes a WITH query again for each reader where DuckDB keeps it
    ("ty_span", f"""WITH e AS (SELECT dst AS account, span, 1 AS inflow, opening, usd, t FROM ty_fresh
                               UNION ALL SELECT src, span, 0, opening, usd, t FROM ty_fresh)
                    SELECT e.account, e.span, COUNT(CASE WHEN e.inflow = 1 AND e.opening THEN 1 END) AS senders,
                           COUNT(CASE WHEN e.inflow = 0 AND e.opening THEN 1 END) AS receivers,
                           {usd_sum('CASE WHEN e.inflow = 1 THEN e.usd ELSE 0 END')} AS in_usd,
                           {usd_sum('CASE WHEN e.inflow = 0 THEN e.usd ELSE 0 END')} AS out_usd,
                           MIN(CASE WHEN e.inflow = 1 THEN e.t END) AS first_in,
                           MAX(CASE WHEN e.inflow = 0 THEN e.t END) AS last_out,
                           MAX(s.monthly_in) AS monthly_in,
                           MAX(s.first_seen) AS first_seen, MAX(s.peer_group) AS peer_group
                    FROM e JOIN ty_seen s ON s.account = e.account AND s.first_seen <= e.span * {BUCKET} - {HISTORY}
                    GROUP BY e.account, e.span"""),
    # an account-span beside the account's spans all together and its neighbouring ones (the span before, itself,
    # the one after): windows over the account's spans, one shuffle, where a self-join and a grouping joined back
    # made Spark shuffle the table three times
    ("ty_acct", f"""WITH last AS (SELECT CAST(FLOOR(MAX(t) / {BUCKET}) AS BIGINT) AS span FROM tx),
                         a AS (SELECT s.*, SUM(s.senders) OVER (PARTITION BY s.account) AS senders_all,
                                      SUM(s.receivers) OVER (PARTITION BY s.account) AS receivers_all,
                                      {usd_sum('s.in_usd', ' OVER (PARTITION BY s.account)')} AS in_all,
                                      SUM(s.senders) OVER {NEAR} AS near_senders,
                                      SUM(s.receivers) OVER {NEAR} AS near_receivers,
                                      {usd_sum('s.in_usd', f' OVER {NEAR}')} AS near_in,
                                      GREATEST(4, l.span - CAST(FLOOR((s.first_seen + {HISTORY}) / {BUCKET}) AS BIGINT))
                                          AS n
                               FROM ty_span s CROSS JOIN last l),
                         grouped AS (SELECT peer_group, COUNT(*) AS n, AVG(senders) AS ms,
                                            STDDEV_POP(senders) AS ss, AVG(receivers) AS mr,
                                            STDDEV_POP(receivers) AS sr FROM ty_span GROUP BY peer_group),
                         everyone AS (SELECT AVG(senders) AS ms, STDDEV_POP(senders) AS ss, AVG(receivers) AS mr,
                                             STDDEV_POP(receivers) AS sr FROM ty_span),
                         -- a group of fewer than {PEERS_MIN} account-spans is compared with everyone
                         peers AS (SELECT g.peer_group, CASE WHEN g.n >= {PEERS_MIN} THEN g.ms ELSE e.ms END AS ms,
                                          CASE WHEN g.n >= {PEERS_MIN} THEN g.ss ELSE e.ss END AS ss,
                                          CASE WHEN g.n >= {PEERS_MIN} THEN g.mr ELSE e.mr END AS mr,
                                          CASE WHEN g.n >= {PEERS_MIN} THEN g.sr ELSE e.sr END AS sr
                                   FROM grouped g CROSS JOIN everyone e)
                    SELECT {SPAN_COLUMNS}, a.n AS spans,
                           (a.senders_all - a.near_senders) / (a.n - 3) AS own_senders,
                           (a.receivers_all - a.near_receivers) / (a.n - 3) AS own_receivers,
                           CASE WHEN a.senders >= {BURST_MIN}
                                     AND a.senders >= {BURST_OWN} * ((a.senders_all - a.near_senders) / (a.n - 3) + 1)
                                     AND a.senders >= p.ms + {BURST_PEERS} * p.ss
                                     AND a.in_usd >= {BURST_MONTHLY} * a.monthly_in
                                THEN 1 ELSE 0 END AS in_burst,
                           CASE WHEN a.receivers >= {BURST_MIN} AND a.receivers >= {BURST_OWN}
                                     * ((a.receivers_all - a.near_receivers) / (a.n - 3) + 1)
                                     AND a.receivers >= p.mr + {BURST_PEERS} * p.sr
                                     AND a.out_usd >= {BURST_MONTHLY} * a.monthly_in
                                THEN 1 ELSE 0 END AS out_burst,
                           CASE WHEN a.senders >= {BURST_MIN} AND a.senders >= {BURST_OWN}
                                     * ((a.senders_all - a.near_senders) / (a.n - 3) + 1) THEN 1 ELSE 0 END AS in_wide,
                           CASE WHEN a.receivers >= {BURST_MIN} AND a.receivers >= {BURST_OWN}
                                     * ((a.receivers_all - a.near_receivers) / (a.n - 3) + 1)
                                THEN 1 ELSE 0 END AS out_wide,
                           CASE WHEN a.in_usd > 0
                                     AND a.out_usd BETWEEN {RELAY_LOW} * a.in_usd AND {RELAY_HIGH} * a.in_usd
                                     AND a.first_in < a.last_out AND a.in_usd >= {RELAY_MONTHLY} * a.monthly_in
                                     AND a.in_usd >= {BURST_OWN} * (a.in_all - a.near_in) / (a.n - 3)
                                THEN 1 ELSE 0 END AS relay
                    FROM a JOIN peers p ON p.peer_group = a.peer_group"""),
    # the account-spans a rule may report, a burst or a relay (at 10M rows some thousands of 2.9M): a table of its
    # own, as the engines then know it is small and join it to the payments as it is (Spark broadcasts it), where
    # a join with every account-span filtered made Spark shuffle the payments
    ("ty_flagged", "SELECT * FROM ty_acct WHERE in_burst = 1 OR out_burst = 1 OR relay = 1"),
    # per account and span: how many of its fresh senders and receivers relay money themselves
    ("ty_links", """SELECT account, span, COUNT(DISTINCT CASE WHEN side = 'in' THEN peer END) AS relay_senders,
                           COUNT(DISTINCT CASE WHEN side = 'out' THEN peer END) AS relay_receivers
                    FROM (SELECT x.dst AS account, x.span, x.src AS peer, 'in' AS side FROM ty_fresh x
                          JOIN ty_flagged r ON r.account = x.src AND r.span = x.span AND r.relay = 1
                          UNION ALL SELECT x.src, x.span, x.dst, 'out' FROM ty_fresh x
                          JOIN ty_flagged r ON r.account = x.dst AND r.span = x.span AND r.relay = 1) l
                    GROUP BY account, span"""),
    # bipartite's payments: fresh, at least 3 times the payer's average payment, from a payer judged in the span (with
    # history before it: the payment itself puts the payer's span in ty_acct, so the history is the whole test) that
    # does not relay, to a receiver that does not relay; only payers with
    # 3 such receivers in the span (the rule needs 3 in common). Its own table, few rows (at 10M, 274 of 467,583),
    # which Spark's driver then pairs; read from the payer's history and the few relays, as a join of the payments with
    # every account-span cost Spark a shuffle of both
    ("ty_heavy", f"""WITH relays AS (SELECT account, span FROM ty_flagged WHERE relay = 1),
                          e AS (SELECT DISTINCT x.src, x.dst, x.span FROM ty_fresh x
                                JOIN ty_seen h ON h.account = x.src AND x.usd >= 3 * h.average_out
                                     AND h.first_seen <= x.span * {BUCKET} - {HISTORY}
                                LEFT JOIN relays s ON s.account = x.src AND s.span = x.span
                                LEFT JOIN relays r ON r.account = x.dst AND r.span = x.span
                                WHERE s.account IS NULL AND r.account IS NULL)
                     SELECT src, dst, span FROM (SELECT e.*, COUNT(*) OVER (PARTITION BY e.src, e.span) AS receivers
                                                 FROM e) h
                     WHERE receivers >= 3"""),
    # each account's non-card inflow over its whole history (senders, their countries, money from one-off senders)
    ("ty_inflow", f"""SELECT dst AS account, COUNT(CASE WHEN opening THEN 1 END) AS senders,
                             COUNT(DISTINCT src_country) AS countries,
                             {usd_sum('usd')} AS in_usd,
                             {usd_sum('CASE WHEN times <= 4 THEN usd ELSE 0 END')} AS one_off_usd
                      FROM ty_pay GROUP BY dst"""),
    # a collector over its whole history: many senders, mostly one-off, from many countries, all paid on
    ("ty_collector", f"""WITH peers AS (SELECT AVG(countries) AS mc, STDDEV_POP(countries) AS sc FROM ty_inflow
                                        WHERE senders >= {COLLECTOR_SENDERS})
                         SELECT a.account, a.senders, a.countries, a.in_usd, s.out_usd
                         FROM ty_inflow a JOIN ty_seen s ON s.account = a.account CROSS JOIN peers p
                         WHERE a.senders >= {COLLECTOR_SENDERS} AND a.countries >= p.mc + {BURST_PEERS} * p.sc
                           AND a.one_off_usd >= 0.8 * a.in_usd
                           AND s.out_usd BETWEEN 0.8 * a.in_usd AND 1.1 * a.in_usd"""),
    # brokers: accounts serving at least 5 distinct customers in their own country through a broker channel
    ("ty_brokers", f"""SELECT account, COUNT(DISTINCT peer) AS customers FROM (
                          SELECT dst AS account, src AS peer FROM tx WHERE src_country = dst_country AND {BROKERED}
                          UNION ALL SELECT src, dst FROM tx WHERE src_country = dst_country AND {BROKERED}) l
                        GROUP BY account HAVING COUNT(DISTINCT peer) >= 5"""),
)


# tables an engine may compute again wherever they are read: the non-card payments are a filter of ty_all, which the
# engines keep; at 10M rows keeping them too cost Spark 3.6 s, their readers' filters about 0.6 s
RECOMPUTED = frozenset({"ty_pay"})


def _claimed_by(*names: str) -> str:
    """Accounts not claimed by the rules ``names``: a condition on ``b.account``."""
    return " AND ".join(f"b.account NOT IN (SELECT account FROM claimed_{n})" for n in names) or "TRUE"


def _best(select: str, order: str) -> str:
    """One finding per account: its span with the largest ``order``."""
    return f"""SELECT * EXCLUDE (n) FROM (
                 SELECT b.*, row_number() OVER (PARTITION BY b.accounts ORDER BY {order} DESC, b.span) AS n
                 FROM ({select}) b) r WHERE n = 1"""


def _cycle_sql() -> str:
    legs = []
    edge = "ty_large"
    for k in range(2, MAX_CYCLE + 1):
        joins = [f"{edge} e1"]
        where = []
        for i in range(2, k + 1):
            joins.append(f"JOIN {edge} e{i} ON e{i}.src = e{i - 1}.dst AND e{i}.t > e{i - 1}.t "
                         f"AND e{i}.t <= e{i - 1}.t + 10 * 86400 "
                         f"AND e{i}.usd BETWEEN 0.6 * e{i - 1}.usd AND 1.05 * e{i - 1}.usd")
        where.append(f"e{k}.dst = e1.src")
        members = [f"e{i}.src" for i in range(1, k + 1)]
        where += [f"{a} <> {b}" for i, a in enumerate(members) for b in members[i + 1:]]
        accounts = f", {SEP}, ".join(members)
        legs.append(f"SELECT CONCAT({accounts}) AS accounts, {k} AS legs, {rounded('e1.usd')} AS first_usd, "
                    f"{rounded(f'e{k}.usd')} AS last_usd, e1.t AS first_t, e{k}.t AS last_t "
                    f"FROM {' '.join(joins)} WHERE {' AND '.join(where)}")
    union = " UNION ALL ".join(legs)
    return f"""SELECT accounts, legs, first_usd, last_usd, first_t, last_t FROM (
                 SELECT c.*, row_number() OVER (PARTITION BY accounts
                                                ORDER BY first_t, last_t, first_usd, last_usd) AS n
                 FROM ({union}) c) r
               WHERE n = 1"""


CYCLE_MEMBERS = ", ".join(f"SPLIT_PART(f.accounts, {SEP}, {k})" for k in range(1, MAX_CYCLE + 1))
FRESH_FIGURES = (f"b.senders, b.receivers, {rounded('b.in_usd')} AS in_usd, {rounded('b.out_usd')} AS out_usd, "
                 f"{rounded('b.own_senders')} AS own_senders, {rounded('b.own_receivers')} AS own_receivers")
ENDS = _ends("ty_fresh")
IN_SPAN = "x.account = f.accounts AND x.span = f.span"
SPAN = (f"f.span * {BUCKET}", f"(f.span + 2) * {BUCKET}")   # a finding's span, as a window in time
FIRST_TO_LAST = ("f.first_t", "f.last_t + 1")


def _fan_in_sql() -> str:
    """Bursts of new senders, and collectors over their whole history (no span)."""
    burst = _best(f"""SELECT b.account AS accounts, b.span, {FRESH_FIGURES} FROM ty_flagged b
                  LEFT JOIN ty_links l ON l.account = b.account AND l.span = b.span
                  WHERE b.in_burst = 1 AND b.out_wide = 0 AND COALESCE(l.relay_senders, 0) < 2
                    AND b.out_usd >= {FAN_IN_PASSED} * b.in_usd
                    AND {_claimed_by('cycle', 'broker_netting', 'scatter_gather', 'gather_scatter', 'bipartite')}""",
                  "b.senders")
    unclaimed = _claimed_by('cycle', 'broker_netting', 'scatter_gather', 'gather_scatter', 'bipartite')
    return f"""SELECT accounts, span, senders, receivers, in_usd, out_usd, own_senders, own_receivers,
                      CAST(NULL AS BIGINT) AS countries FROM ({burst}) burst
               UNION ALL
               SELECT c.account, CAST(NULL AS BIGINT), c.senders, CAST(NULL AS BIGINT), {rounded('c.in_usd')},
                      {rounded('c.out_usd')}, CAST(NULL AS DOUBLE), CAST(NULL AS DOUBLE), c.countries
               FROM ty_collector c
               WHERE c.account NOT IN (SELECT b.account FROM ty_flagged b WHERE b.in_burst = 1)
                 AND {unclaimed.replace('b.account', 'c.account')}"""

DETECTORS = (
    Detector(
        "cycle",
        "money comes back: a -> b -> ... -> a through 2-5 accounts, each leg a payment to an account it had not "
        "paid in the 14 days before, at least 3 times the sender's average payment, within 10 days of the "
        "previous leg and 60-105% of it",
        _cycle_sql(),
        f"x.t BETWEEN f.first_t AND f.last_t AND x.src IN ({CYCLE_MEMBERS}) AND x.dst IN ({CYCLE_MEMBERS})",
        # its members, each of which paid a leg: an account is matched as a whole id, where a LIKE on the joined list
        # took an id's '_' for any character (the payments of ``P_1`` were a cycle ``PA1``'s) and cost Spark a pass
        claims=" UNION ".join(f"SELECT SPLIT_PART(accounts, {SEP}, {k}) AS account FROM found_cycle "
                              f"WHERE SPLIT_PART(accounts, {SEP}, {k}) <> ''" for k in range(1, MAX_CYCLE + 1)),
        members=MAX_CYCLE, window=FIRST_TO_LAST),
    Detector(
        "broker_netting",
        "hawala-like brokers: two accounts in different countries pay each other both ways, and each serves "
        "at least 5 distinct customers in its own country through a broker channel (msb, hawala, cash)",
        # the brokers first (``ty_brokers``): only payments between two of them are summed by pair (at 10M rows,
        # 13 s of Spark's)
        f"""WITH pair AS (SELECT LEAST(x.src, x.dst) AS a, GREATEST(x.src, x.dst) AS b,
                                {usd_sum('CASE WHEN x.src < x.dst THEN x.usd ELSE 0 END')} AS a_to_b,
                                {usd_sum('CASE WHEN x.src > x.dst THEN x.usd ELSE 0 END')} AS b_to_a
                         FROM tx x JOIN ty_brokers s ON s.account = x.src JOIN ty_brokers d ON d.account = x.dst
                         WHERE x.src_country <> x.dst_country GROUP BY LEAST(x.src, x.dst), GREATEST(x.src, x.dst)
                         HAVING SUM(CASE WHEN x.src < x.dst THEN 1 ELSE 0 END) > 0
                            AND SUM(CASE WHEN x.src > x.dst THEN 1 ELSE 0 END) > 0)
           SELECT CONCAT(p.a, {SEP}, p.b) AS accounts, {rounded('p.a_to_b')} AS a_to_b_usd,
                  {rounded('p.b_to_a')} AS b_to_a_usd,
                  {rounded('ABS(p.a_to_b - p.b_to_a) / (p.a_to_b + p.b_to_a)', 3)} AS net_share,
                  la.customers AS a_customers, lb.customers AS b_customers
           FROM pair p JOIN ty_brokers la ON la.account = p.a JOIN ty_brokers lb ON lb.account = p.b""",
        # the pair as an equality (a hash join; ``accounts`` is the lesser id, then the greater): an OR of its two
        # directions made Spark test every payment against every finding
        f"LEAST(x.src, x.dst) = SPLIT_PART(f.accounts, {SEP}, 1) "
        f"AND GREATEST(x.src, x.dst) = SPLIT_PART(f.accounts, {SEP}, 2)",
        claims=f"SELECT SPLIT_PART(accounts, {SEP}, 1) AS account FROM found_broker_netting "
               f"UNION SELECT SPLIT_PART(accounts, {SEP}, 2) FROM found_broker_netting",
        members=2),
    Detector(
        "scatter_gather",
        "one account pays at least 4 accounts it had not paid before, and each passes 50-105% of it on within "
        "5 days to one same account none of them had paid before",
        f"""WITH hop AS (SELECT DISTINCT a.id AS a_id, b.id AS b_id, a.src, a.dst AS middle, b.dst, a.usd AS a_usd,
                                b.usd AS b_usd, a.t AS a_t, b.t AS b_t
                         FROM ty_fresh a JOIN ty_fresh b ON b.src = a.dst AND b.span = a.span AND b.t > a.t
                              AND b.t <= a.t + 5 * 86400 AND b.dst <> a.src
                              AND b.usd BETWEEN 0.5 * a.usd AND 1.05 * a.usd
                         LEFT JOIN claimed_cycle c ON c.account = a.dst WHERE c.account IS NULL)
            SELECT CONCAT(src, {SEP}, dst) AS accounts, COUNT(DISTINCT middle) AS intermediaries,
                   {rounded(usd_sum('a_usd'))} AS scattered_usd,
                   {rounded(usd_sum('b_usd'))} AS gathered_usd,
                   MIN(a_t) AS first_t, MAX(b_t) AS last_t
            FROM (SELECT DISTINCT a_id, b_id, src, middle, dst, a_usd, b_usd, a_t, b_t FROM hop) h
            GROUP BY src, dst HAVING COUNT(DISTINCT middle) >= 4""",
        f"x.t BETWEEN f.first_t AND f.last_t AND (x.src = SPLIT_PART(f.accounts, {SEP}, 1) "
        f"OR x.dst = SPLIT_PART(f.accounts, {SEP}, 2))",
        source="ty_pay",
        claims=f"""SELECT SPLIT_PART(f.accounts, {SEP}, 1) AS account FROM found_scatter_gather f
                  UNION SELECT SPLIT_PART(f.accounts, {SEP}, 2) FROM found_scatter_gather f
                  UNION SELECT e.dst FROM found_scatter_gather f JOIN ty_pay e
                        ON e.src = SPLIT_PART(f.accounts, {SEP}, 1) AND e.t BETWEEN f.first_t AND f.last_t
                        JOIN ty_pay g ON g.src = e.dst AND g.dst = SPLIT_PART(f.accounts, {SEP}, 2)
                        AND g.t BETWEEN f.first_t AND f.last_t""",
        members=2, window=FIRST_TO_LAST),
    Detector(
        "gather_scatter",
        "in one 28-day span an account has a burst of new senders (as for fan_in) and at least "
        f"{BURST_MIN} new receivers, {BURST_OWN:g} times its own average in other spans plus one, or a burst of "
        "new receivers (as for fan_out) and as many new senders; and passes at least half of what the new senders "
        "paid to the new receivers",
        _best(f"""SELECT b.account AS accounts, b.span, {FRESH_FIGURES} FROM ty_flagged b
                  WHERE ((b.in_burst = 1 AND b.out_wide = 1) OR (b.out_burst = 1 AND b.in_wide = 1))
                    AND b.out_usd >= 0.5 * b.in_usd
                    AND {_claimed_by('cycle', 'broker_netting', 'scatter_gather')}""", "b.senders + b.receivers"),
        IN_SPAN, source="ends", claims="SELECT accounts AS account FROM found_gather_scatter", window=SPAN),
    Detector(
        "bipartite",
        "at least 3 accounts each pay the same 3 or more accounts, none of which they had paid before, in one "
        "28-day span, each payment at least 3 times the payer's average payment; neither side passes the money "
        "on (that is a stack)",
        """WITH pair AS (SELECT a.src AS s1, b.src AS s2, a.span, COUNT(*) AS common
                         FROM ty_heavy a JOIN ty_heavy b ON a.dst = b.dst AND a.span = b.span AND a.src < b.src
                         GROUP BY a.src, b.src, a.span HAVING COUNT(*) >= 3),
                side AS (SELECT s1 AS account, s2 AS partner, span, common FROM pair
                         UNION ALL SELECT s2, s1, span, common FROM pair)
           SELECT account AS accounts, COUNT(DISTINCT partner) AS partners, MAX(common) AS common_receivers,
                  MIN(span) AS span
           FROM side GROUP BY account HAVING COUNT(DISTINCT partner) >= 2""",
        "x.src = f.accounts AND x.span = f.span",
        source="ty_fresh",
        claims="""SELECT accounts AS account FROM found_bipartite
                  UNION SELECT x.dst FROM found_bipartite f
                        JOIN ty_fresh x ON x.src = f.accounts AND x.span = f.span""",
        window=SPAN),
    Detector(
        "fan_in",
        f"in one 28-day span an account receives from many senders that had never paid it before: at least "
        f"{BURST_MIN}, {BURST_OWN:g} times its own average in other spans plus one, and the peers' mean plus "
        f"{BURST_PEERS:g} standard deviations (peers: accounts with about as many regular counterparties, known "
        "for over 14 days), for at least its regular monthly inflow (from counterparties it had known for over "
        f"14 days; card payments left out), and pays new receivers at least {FAN_IN_PASSED:.0%} of it (a collection "
        "moves on; a person repaid by six friends keeps the money); without as many new receivers (that is "
        "gather_scatter), and with "
        "fewer than 2 of the senders relaying money themselves (that is a stack). Or, over its whole history, "
        f"a collector: at least {COLLECTOR_SENDERS} senders from more countries than the peers' mean plus "
        f"{BURST_PEERS:g} standard deviations (peers: accounts with as many senders), at least 80% of its "
        "inflow from senders that paid it at most 4 times, and 80-110% of it paid on",
        _fan_in_sql(),
        f"x.dst = f.accounts AND (f.span IS NULL OR (x.first_contact >= f.span * {BUCKET} "
        f"AND x.t >= f.span * {BUCKET} AND x.t < (f.span + 2) * {BUCKET}))", source="ty_pay",
        claims="SELECT accounts AS account FROM found_fan_in", window=SPAN),
    Detector(
        "fan_out",
        f"in one 28-day span an account pays many receivers it had never paid before: at least {BURST_MIN}, "
        f"{BURST_OWN:g} times its own average in other spans plus one, and the peers' mean plus {BURST_PEERS:g} "
        "standard deviations, for at least its regular monthly inflow; paid out of money that came in new (new "
        f"senders paid it at least {FAN_OUT_FUNDED:.0%} of what it paid the new receivers: a shop paying new "
        "suppliers out of its takings is not one); without as many new senders "
        "(gather_scatter), and with fewer than 2 of the receivers relaying money themselves (that is a stack)",
        _best(f"""SELECT b.account AS accounts, b.span, {FRESH_FIGURES} FROM ty_flagged b
                  LEFT JOIN ty_links l ON l.account = b.account AND l.span = b.span
                  WHERE b.out_burst = 1 AND b.in_wide = 0 AND COALESCE(l.relay_receivers, 0) < 2
                    AND b.in_usd >= {FAN_OUT_FUNDED} * b.out_usd
                    AND {_claimed_by('cycle', 'broker_netting', 'scatter_gather', 'gather_scatter', 'bipartite')}""",
              "b.receivers"),
        "x.src = f.accounts AND x.span = f.span", source="ty_fresh",
        claims="SELECT accounts AS account FROM found_fan_out", window=SPAN),
    Detector(
        "stack",
        f"layering: an account relays money (in one 28-day span {RELAY_LOW:.0%}-{RELAY_HIGH:.0%} of what new "
        f"senders paid it goes on to new receivers, after it came in; it is at least {RELAY_MONTHLY:.0%} of "
        f"the account's regular monthly inflow and {BURST_OWN:g} times what new senders pay it in its other "
        "spans) to or from another account that relays it in the same span and that no earlier rule claims",
        _best(f"""SELECT b.account AS accounts, b.span, {FRESH_FIGURES}, COUNT(DISTINCT r.account) AS relay_neighbours
                  FROM ty_flagged b JOIN {ENDS} x ON x.account = b.account AND x.span = b.span
                  JOIN ty_flagged r ON r.account = x.other AND r.span = b.span AND r.relay = 1
                  WHERE b.relay = 1 AND {_claimed_by('cycle', 'broker_netting', 'scatter_gather', 'gather_scatter',
                                                     'bipartite', 'fan_in', 'fan_out')}
                    AND {_claimed_by('cycle', 'broker_netting', 'scatter_gather', 'gather_scatter', 'bipartite',
                                     'fan_in', 'fan_out').replace('b.account', 'r.account')}
                  GROUP BY b.account, b.span, b.senders, b.receivers, b.in_usd, b.out_usd, b.own_senders,
                           b.own_receivers""", "b.in_usd"),
        IN_SPAN, source="ends", window=SPAN),
    Detector(
        "pass_through",
        f"an account relays money: in one 28-day span {RELAY_LOW:.0%}-{RELAY_HIGH:.0%} of what new senders paid "
        f"it goes on to new receivers after it came in; it is at least {RELAY_MONTHLY:.0%} of the account's "
        f"regular monthly inflow and {BURST_OWN:g} times what new senders pay it in its other spans (every relay, "
        "whatever other rule claims it)",
        _best(f"""SELECT b.account AS accounts, b.span, {FRESH_FIGURES} FROM ty_flagged b WHERE b.relay = 1""",
              "b.in_usd"),
        IN_SPAN, source="ends", window=SPAN),
    Detector(
        "structuring",
        f"one sender pays one receiver at least twice in a calendar week, each payment between 80% and 100% "
        f"of the {REPORTING_THRESHOLD_USD:,.0f} USD reporting threshold, together above it",
        f"""SELECT CONCAT(src, {SEP}, dst) AS accounts, CAST(FLOOR(t / 604800) AS BIGINT) AS week,
                   COUNT(*) AS payments,
                   {rounded(usd_sum('usd'))} AS total_usd, {rounded('MAX(usd)')} AS largest_usd
            FROM tx WHERE usd >= {0.8 * REPORTING_THRESHOLD_USD} AND usd < {REPORTING_THRESHOLD_USD}
            GROUP BY src, dst, CAST(FLOOR(t / 604800) AS BIGINT)
            HAVING COUNT(*) >= 2 AND {usd_sum('usd')} > {REPORTING_THRESHOLD_USD}""",
        f"CONCAT(x.src, {SEP}, x.dst) = f.accounts AND CAST(FLOOR(x.t / 604800) AS BIGINT) = f.week "
        f"AND x.usd >= {0.8 * REPORTING_THRESHOLD_USD} AND x.usd < {REPORTING_THRESHOLD_USD}",
        keys=("accounts", "week"), members=2, window=("f.week * 604800", "(f.week + 1) * 604800")),
    Detector(
        "new_corridor",
        "a country pair with no payments at all before the last 30 days of the data (which must reach at "
        "least 30 days further back) carries at least 3 payments from at least 2 senders in them",
        # each country pair's first payment first: only the new ones' senders and money are counted (a sum of
        # every pair's money, as an exact decimal, cost Spark 2-3 s at 10M rows)
        f"""WITH edge AS (SELECT MAX(last_seen) - 2592000 AS cut FROM ty_seen
                          HAVING MIN(first_seen) <= MAX(last_seen) - 2 * 2592000),
                corridor AS (SELECT src_country, dst_country, MIN(t) AS first_t, COUNT(*) AS payments
                             FROM tx WHERE src_country IS NOT NULL AND dst_country IS NOT NULL
                               AND src_country <> dst_country
                             GROUP BY src_country, dst_country)
           SELECT CONCAT(c.src_country, '>', c.dst_country) AS accounts, c.payments,
                  COUNT(DISTINCT x.src) AS senders, {rounded(usd_sum('x.usd'))} AS total_usd
           FROM corridor c CROSS JOIN edge
                JOIN tx x ON x.src_country = c.src_country AND x.dst_country = c.dst_country
           WHERE c.first_t >= edge.cut AND c.payments >= 3
           GROUP BY c.src_country, c.dst_country, c.payments HAVING COUNT(DISTINCT x.src) >= 2""",
        "CONCAT(x.src_country, '>', x.dst_country) = f.accounts", members=0),
)
# the rules an account claimed by is not reported by a later one: they run first, whatever is asked
CLAIMING = tuple(d.name for d in DETECTORS if d.claims)


def prepare(engine: AnalysisEngine) -> None:
    """The tables the rules (and the ranking's features) read, over table ``tx``."""
    for table, sql in BASE:
        engine.create(table, sql, recompute=table in RECOMPUTED)


def detect_all(engine: AnalysisEngine, names: tuple[str, ...] | None = None,
               progress: Callable[[str], None] | None = None) -> list[Finding]:
    """Run the detectors (all, or those named) over table ``tx``; findings in a stable order."""
    findings: list[Finding] = []
    if progress:
        progress("fresh counterparties per account and span")
    prepare(engine)
    wanted = [d for d in DETECTORS if not names or d.name in names]
    for detector in DETECTORS:
        if detector not in wanted and detector.name not in CLAIMING:
            continue
        if progress:
            progress(detector.name)
        engine.create(f"found_{detector.name}", detector.sql)
        if detector.claims:
            engine.create(f"claimed_{detector.name}", f"SELECT DISTINCT account FROM ({detector.claims}) c")
    if progress:
        progress("the transactions of each finding")
    _gather_evidence(engine, [d for d in wanted if d.members])
    for detector in wanted:
        findings.extend(_read(engine, detector, f"found_{detector.name}"))
    return findings


def _gather_evidence(engine: AnalysisEngine, detectors: list[Detector]) -> None:
    """The payments any finding's transactions are among, in one pass over all of them (``ty_near``, and its fresh
    payments ``ty_near_fresh``): each account's payments from its findings' earliest window start to their latest
    end. Each rule's evidence is then read from these few (at 10M rows about 1 in 10); read from all the payments,
    each rule cost Spark a pass over them (1-2 s each)."""
    windows = [f"SELECT {_member(d, k)} AS account, CAST({d.window[0]} AS BIGINT) AS lo, "
               f"CAST({d.window[1]} AS BIGINT) AS hi FROM found_{d.name} f"
               + (f" WHERE {_member(d, k)} <> ''" if d.members > 1 else "")
               for d in detectors for k in range(1, d.members + 1)]
    if not windows:
        return
    # one row an account (a join on it as an equality: the engines broadcast it), NULL for an unbounded end
    engine.create("ty_scope", f"""SELECT account, CASE WHEN COUNT(lo) = COUNT(*) THEN MIN(lo) END AS lo,
                                         CASE WHEN COUNT(hi) = COUNT(*) THEN MAX(hi) END AS hi
                                  FROM ({' UNION ALL '.join(windows)}) w GROUP BY account""")
    inside = "{0}.account IS NOT NULL AND x.t >= COALESCE({0}.lo, x.t) AND x.t < COALESCE({0}.hi, x.t + 1)"
    engine.create("ty_near", f"""SELECT x.* FROM ty_all x LEFT JOIN ty_scope a ON a.account = x.src
                                 LEFT JOIN ty_scope b ON b.account = x.dst
                                 WHERE ({inside.format('a')}) OR ({inside.format('b')})""")
    engine.create("ty_near_fresh", _fresh_sql(f"({_non_card('ty_near')})"))


def _member(detector: Detector, k: int) -> str:
    """The ``k``-th account of a finding of ``detector`` (a SQL expression over its table ``f``)."""
    return "f.accounts" if detector.members == 1 else f"SPLIT_PART(f.accounts, {SEP}, {k})"


# a rule's payments x (``Detector.source``) among those ``_gather_evidence`` kept
NEAR_SOURCES = {"tx": "ty_near", "ty_pay": f"({_non_card('ty_near')})", "ty_fresh": "ty_near_fresh",
                "ends": _ends("ty_near_fresh")}


def _dates(figures: dict[str, Any]) -> dict[str, str]:
    """The span and the first and last payment as dates an analyst reads (UTC)."""
    def day(t: int) -> str:
        return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d")

    out = {}
    if isinstance(figures.get("span"), int):
        out["span_from"] = day(figures["span"] * BUCKET)
        out["span_until"] = day((figures["span"] + 2) * BUCKET - 1)
    for key in ("first_t", "last_t"):
        if isinstance(figures.get(key), int):
            out[key[:-2]] = datetime.fromtimestamp(figures[key], UTC).strftime("%Y-%m-%d %H:%M")
    return out


def _read(engine: AnalysisEngine, detector: Detector, table: str) -> list[Finding]:
    keys = detector.keys
    rows = engine.rows(f"SELECT * FROM {table} ORDER BY {', '.join(keys)}")
    if not rows:
        return []
    key = ", ".join(f"f.{k}" for k in keys)
    evidence = engine.rows(f"""
SELECT {', '.join(keys)}, id, n FROM (
  SELECT {key}, x.id, row_number() OVER (PARTITION BY {key} ORDER BY x.t, x.id) AS n
  FROM (SELECT DISTINCT {', '.join(keys)}{''.join(f', {c}' for c in ('span', 'first_t', 'last_t')
                                                  if c in rows[0] and c not in keys)} FROM {table}) f
  JOIN {NEAR_SOURCES[detector.source] if detector.members else detector.source} x ON {detector.evidence}
) e WHERE n <= {EVIDENCE} ORDER BY {', '.join(keys)}, n""")
    by_key: dict[tuple[Any, ...], list[str]] = {}
    for r in evidence:
        by_key.setdefault(tuple(r[k] for k in keys), []).append(r["id"])
    out = []
    for r in rows:
        figures = {k: (float(v) if isinstance(v, float) else v) for k, v in r.items() if k != "accounts"}
        figures.update(_dates(figures))
        accounts = [] if detector.name == "new_corridor" else r["accounts"].split(ACCOUNT_SEPARATOR)
        if detector.name == "new_corridor":
            figures["corridor"] = r["accounts"]
        out.append(Finding(detector.name, accounts, detector.rule, figures,
                           by_key.get(tuple(r[k] for k in keys), [])))
    return out
