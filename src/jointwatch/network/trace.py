"""Tracing money upstream from designated accounts, hop by hop, in SQL that runs on any engine.

The attribution rule (docs/network.md states it with worked examples):

* Hop 0 is every payment into a designated account (from an account that is not itself
  designated), within ``since``/``until``; its whole USD value is *traced*.
* The money line: each conduit account's inflows and outflows over the whole file, in time
  order (ties: outflows first, then by id), in cents. A traced part ``F_o`` of an outflow ``o``
  (value ``v_o``) goes to the sources ``o`` spent, each ``F_o * spent / v_o``, by the chosen
  method: first in first out (``fifo``), last in first out (``lifo``) or proportional
  (``proportional``, a haircut). Sources are inflows (followed further), regular income (a
  payroll's salary: the account's own, ``income``), a known opening balance (from a balance
  column, ``opening_balance``), and money the account paid beyond all it had received, which
  appears just before the outflow that needed it (``own_funds`` with ``own_funds_days`` of
  history, else ``unexplained_funds``; both *assumed*). An inflow (not over hawala) held more
  than ``3 * lookback_days`` before the outflow spent it is the account's own by then
  (``held_funds``, assumed). No source is spent twice. A payment
  straight back (B pays A within ``lookback_days`` of A paying B at least as much) is a return:
  it nets against the payment it returns, and both lines leave out its cents and as many of
  that payment's (``_near``). A deposit into a broker that the partner broker it settles with
  paid out to someone else (``_mirrored``) leaves the broker's line with as much of the
  settlement (on X's line alone); a settlement whose partner paid a payout being followed that is the
  sum of the deposits the settlement closed goes to those deposits instead (``_summed``); a payment
  carries at most its value after netting, over all the hops that trace it.
* Conduit test: money is only followed through the account when it behaves as a conduit around
  ``o``. Its *pool* ``P_o`` is what it received in the ``lookback_days`` before ``o``; ``B_o``
  is what it paid, from ``lookback_days`` before ``o`` to one day after, to any receiver of this
  hop's traced payments (so a sum split into chunks, or spread over two mules, counts whole). It
  is a conduit when ``B_o >= s * P_o`` (it passed on a real part of what came in) and
  ``v_o <= P_o / s`` (what came in can pay for ``o``), with ``s = conduit_share`` (one half),
  with the whole pool or with the pool less regular income, and, for an account with
  ``own_funds_days`` of history, ``B_o`` is at most what it received from ``3 * lookback_days``
  before ``o`` to one day after, give or take a twentieth (an account paying on more than all it
  got is paying its own money: a donor giving after a friend's transfer; a collector that held a
  gift two weeks still passes). Otherwise the account is the originator of all of ``F_o``:
  ``no_earlier_inflow`` (empty pool) or ``not_a_conduit`` (a donor giving 200 from a 3,000
  salary is the funder, not the employer; nor is a friend who sent 30 before a gift of 400).
  A hawaladar's payments (over hawala, from an account paying at least ``FLOAT_PAYEES`` accounts
  that way) are followed whatever their size: it pays out of a pooled float (a customer's
  deposit, or an msb payment's sender, is judged like any account).
* Parts under 0.01 USD are not followed further, and an account credited under 0.10 USD in all,
  all of it assumed (own, unexplained or held money), is not an originator: currency rounding
  (``pruned``). After ``hops`` hops, the senders of the traced payments still open are
  originators of their parts (``hop_limit``). Each step goes to earlier payments, so cycles end.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from jointwatch.network.engines import AnalysisEngine
from jointwatch.network.schema import TraceSettings

PRUNE_USD = 0.01
# parts credited on an assumption (money paid beyond what came in, money held long): the "assumed" figures
ASSUMED_REASONS = "('own_funds', 'unexplained_funds', 'held_funds')"
ROUNDING_USD = 0.10       # under a dime, all an account is credited: rounding, no originator (``pruned``)
INCOME_DAYS = (25, 35)     # a payroll: its previous or next payment to the same account this many days away …
INCOME_RATIO = 2          # … between half and twice the amount …
INCOME_PAYEES = 5         # … for at least this many accounts; regular income: a payroll's, paid more than once
BROKER_CHANNELS = "('msb', 'hawala')"
FLOAT_CHANNELS = "('hawala')"        # a hawaladar's payments are followed whatever their size: paid out of a float
FLOAT_PAYEES = 3          # a hawaladar: pays at least this many accounts over hawala (a customer pays its broker)
# SPAN lookbacks: a conduit passed on no more than it received in them (up to a day after, RECEIVED_SLACK: give
# or take a twentieth, for currency rounding and a small top-up); money it held longer is its own; a hawala
# payout mirrors a deposit at most this long after it
SPAN = 3
RECEIVED_SLACK = 1.05
# a payout mirrors a deposit paid out less a fee of at most 3 %, or up to half a percent more (and a cent): each
# side converted to USD at the analysis's rates, which are not the day's rates the broker used
PAYOUT_LOW, PAYOUT_HIGH = 0.97, 1.005
BURST_SECONDS = 43200     # inflows of a burst: each at most half a day after the one before (``episodes``)
KNOWN_RATIO = 5           # a relation's payment (its payer paid the account before the window) is the account's own
                          # business unless it is over this many times the largest the payer paid it before
RUN_SECONDS = 172800      # outflows of a run: each at most two days after the one before (``earmark``, ``episodes``)
MIRROR_PASSES = 4         # at most this many traces, each keeping the payouts the last followed from mirroring


@dataclass
class TraceTables:
    """Where the engine left the trace by one method: its tables (as queries) and the totals of the run."""

    edges: str            # id, src, dst, t, amount, flow, hop, channel: every traced payment part
    origins: str          # account, id, amount, hop, reason: every originated part
    totals: dict[str, float]
    hops_done: int
    holders: str = "trace_holders"   # the ``accounts`` rows of every account the trace names (by any method)


# the payments of every pair (payer, payee) paid more than once, each beside the one before and after it to the
# same account: ``monthly`` when the previous or next one is 25-35 days away, between half and twice the amount,
# ``steady`` when the previous one is (or there is none), ``known`` when the pair's first payment came more than the
# earmarking window before (``_paired``). Single payments, most pairs, are dropped: one window over
# every payment, kept, then read by the tests below; they read the window's output three times, which Spark
# computed three times before (the income's payroll, its pairs and their payments: 24 s of a 10M-row trace)
_DAYS = (INCOME_DAYS[0] * 86400, INCOME_DAYS[1] * 86400)
_MONTHLY = {"prev": f"""prev_t BETWEEN t - {_DAYS[1]} AND t - {_DAYS[0]}
                   AND prev_usd BETWEEN usd / {INCOME_RATIO} AND usd * {INCOME_RATIO}""",
            "next": f"""next_t BETWEEN t + {_DAYS[0]} AND t + {_DAYS[1]}
                   AND next_usd BETWEEN usd / {INCOME_RATIO} AND usd * {INCOME_RATIO}"""}


def _paired(window: int) -> str:
    """The payments of the pairs paid more than once (``paired``), ``known`` when ``window`` seconds passed since the
    pair's first payment (without earmarking, ``window`` 0, never: only the earmarking line reads it)."""
    known, before = "FALSE", ""
    if window > 0:
        known = f"t > first_t + {window} AND usd <= {KNOWN_RATIO} * before_max"
        before = """MIN(x.t) OVER (PARTITION BY HASH(x.src, x.dst), x.src, x.dst) AS first_t,
             MAX(x.usd) OVER (PARTITION BY HASH(x.src, x.dst), x.src, x.dst ORDER BY x.t, x.id
                              ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS before_max,
             """
    return f"""
SELECT id, src, dst, COALESCE(channel NOT IN {BROKER_CHANNELS}, TRUE) AS own_channel,
       COALESCE({_MONTHLY['prev']}, FALSE) OR COALESCE({_MONTHLY['next']}, FALSE) AS monthly,
       prev_t IS NULL OR COALESCE({_MONTHLY['prev']}, FALSE) AS steady, {known} AS known
FROM (SELECT x.id, x.src, x.dst, x.t, x.usd, x.channel,
             COUNT(*) OVER (PARTITION BY HASH(x.src, x.dst), x.src, x.dst) AS n,
             {before}LAG(x.t) OVER p AS prev_t, LAG(x.usd) OVER p AS prev_usd, LEAD(x.t) OVER p AS next_t,
             LEAD(x.usd) OVER p AS next_usd
      FROM tx x
      WINDOW p AS (PARTITION BY HASH(x.src, x.dst), x.src, x.dst ORDER BY x.t, x.id)) w
WHERE n >= 2"""


def usd_sum(value: str, over: str = "") -> str:
    """The SQL sum of the USD amounts ``value`` (with ``over``, a window's: `` OVER a``), the same whatever order the
    rows come in: each value rounded to millionths of a dollar, added as an exact decimal. A sum of doubles depends on
    the order they are added in, which a parallel engine changes from run to run and with the file's row order: the
    same payments gave an intermediary 1,012.72 USD in one run and 1,012.73 in the next. Rounded as a double times a
    million, not by a cast to DECIMAL(38, 6): the engines cast a double to a decimal differently (DuckDB from its
    shortest decimal form, Spark from its exact binary value: 0.6927584999999999 gave 0.692759 and 0.692758).
    An amount under 9e12 USD goes through a BIGINT on its way to the decimal: Spark then holds it, and the sum while
    it stays under 1e18, as a long, where a decimal cast from a double is a BigDecimal, slow to add (at 10M rows the
    typologies' sums took 5-8 s less); the figures are the same whole numbers either way."""
    millionths = f"ROUND(({value}) * 1000000)"
    return (f"CAST(SUM(CASE WHEN ABS({value}) < 9000000000000 THEN CAST(CAST({millionths} AS BIGINT) "
            f"AS DECIMAL(38, 0)) ELSE CAST({millionths} AS DECIMAL(38, 0)) END){over} AS DOUBLE) / 1000000")


def rounded(value: str, digits: int = 2) -> str:
    """The SQL of ``value`` rounded to ``digits`` decimals alike on both engines: scaled (in double arithmetic),
    rounded to a whole number and scaled back, as DuckDB's ``ROUND(x, 2)`` does. Spark's ``ROUND(x, 2)`` rounds the
    double's shortest decimal form instead: 538.045 (stored as 538.04499…, times 100 53804.4999…) gave 538.04 on
    DuckDB and 538.05 on Spark, so a figure could differ by a cent between the engines."""
    scale = 10 ** digits
    return f"ROUND(({value}) * {scale}) / {scale}"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def trace_upstream(engine: AnalysisEngine, designated: list[str], settings: TraceSettings) -> TraceTables:
    """Follow the money into ``designated`` accounts back up to ``settings.hops`` hops, by ``settings.method``."""
    return trace_methods(engine, designated, settings, (settings.method,))[settings.method]


def trace_methods(engine: AnalysisEngine, designated: list[str], settings: TraceSettings,
                  methods: Sequence[str]) -> dict[str, TraceTables]:
    """Follow the money by each of ``methods`` at once: one set of tables with a ``method`` column.

    Each hop is a few statements whatever the number of methods: the conduit test and the money
    lines are shared (a method only changes which sources an outflow spent), and each method's
    parts are one branch of one statement. ``settings.method`` is not used; each table's rows say
    their method.
    """
    methods = tuple(dict.fromkeys(methods))
    targets = ", ".join(f"({_literal(a)})" for a in sorted(set(designated))) or "(NULL)"
    window = []
    if settings.since:
        window.append(f"x.ts >= CAST({_literal(settings.since)} AS TIMESTAMP)")
    if settings.until:
        # an inclusive end date means "up to the end of that day"
        until = settings.until + (" 23:59:59" if len(settings.until) == 10 else "")
        window.append(f"x.ts <= CAST({_literal(until)} AS TIMESTAMP)")
    engine.create("frontier_0", f"""
WITH designated AS (SELECT CAST(account AS VARCHAR) AS account FROM (VALUES {targets}) AS v(account))
SELECT m.method, x.id, x.src, x.dst, x.t, x.usd AS amount, x.usd AS flow, 0 AS hop, x.channel
FROM tx x JOIN designated d ON x.dst = d.account CROSS JOIN ({_methods(methods)}) m
WHERE x.src NOT IN (SELECT account FROM designated) {''.join(' AND ' + w for w in window)}""")
    # regular income (a salary): the payer is a payroll (at least 5 accounts get payments from it
    # whose previous or next payment to the same account is 25-35 days away, between half and twice
    # the amount) and has paid this account more than once, not over a broker channel: the
    # account's own money. Whether a payment is one does not depend on the hop: found once, over
    # every payment, and read by each hop for the inflows of its accounts
    engine.create("paired", _paired(int(settings.earmark_days * 86400)))
    # the hawala payments, few: where a hop looks for mirrored payouts first (``_step``)
    engine.create("float_tx", f"SELECT id, src, dst, t FROM tx WHERE channel IN {FLOAT_CHANNELS}")
    # the hawaladars: they pay out over hawala to many. A customer's deposit is over hawala too, but its sender
    # pays one broker (or two): that payment is judged by the pool test, as any other
    engine.create("floats", f"""
SELECT src AS account FROM float_tx GROUP BY src HAVING COUNT(DISTINCT dst) >= {FLOAT_PAYEES}""")
    engine.create("income", f"""
WITH payroll AS (SELECT src FROM paired WHERE monthly GROUP BY src HAVING COUNT(DISTINCT dst) >= {INCOME_PAYEES})
SELECT x.id, x.dst FROM paired x JOIN payroll y ON y.src = x.src WHERE x.own_channel""")
    if settings.earmark_days > 0:
        # the account's regular counterparties: a pair whose payments all come 25-35 days apart, each
        # between half and twice the one before (rent, bills, a salary, an allowance); money from or
        # to them is never earmarked. Not the payroll's looser test (one monthly neighbour): a
        # collector paying a mule every few days would make that pair regular
        engine.create("regular", """
SELECT src, dst FROM paired GROUP BY src, dst HAVING MIN(CASE WHEN steady THEN 1 ELSE 0 END) = 1""")
        # the merchants: accounts paid by card. A transfer to one is a purchase (a car, a deposit), not money passed
        # on, and never earmarked
        engine.create("merchants", "SELECT DISTINCT dst AS account FROM tx WHERE channel = 'card'")
    # a payout that mirrored a deposit at one hop and was then followed at a later one (the trace could not know it
    # would be) made the broker's line differ between the hops that read it: the hops are traced again with every
    # such payout kept from mirroring, until none is left (none on the simulators: one check, no second pass)
    unmirrored: set[tuple[str, str]] = set()
    for passes in range(1, MIRROR_PASSES + 1):
        origins, edges, hop, mirrored = _hops(engine, settings, methods, bool(unmirrored))
        followed = {(r["method"], r["id"]) for r in engine.rows(f"""
SELECT DISTINCT m.method, m.id FROM ({" UNION ALL ".join(f"SELECT method, id FROM mirror_{k} WHERE payout"
                                                          for k in mirrored)}) m
JOIN ({" UNION ALL ".join(f"SELECT method, id FROM {t}" for t in edges)}) e ON e.method = m.method AND e.id = m.id
""")} if mirrored else set()
        if not followed - unmirrored or passes == MIRROR_PASSES:
            break
        unmirrored |= followed
        engine.create("unmirrored", "SELECT CAST(method AS VARCHAR) AS method, CAST(id AS VARCHAR) AS id FROM (VALUES "
                      + ", ".join(f"({_literal(m)}, {_literal(i)})" for m, i in sorted(unmirrored))
                      + ") AS v(method, id)")
    engine.create("trace_edges", " UNION ALL ".join(
        f"SELECT method, id, src, dst, t, amount, flow, hop, channel FROM {t}" for t in edges))
    # an account credited under a dime in all is no originator (``pruned``): a few cents it paid beyond what came
    # in are currency rounding (an amount converted to USD on both sides of each payment), and a few cents of a
    # payment of its that a trace reached are no funding an analyst reports, whatever the reason
    engine.create("trace_origins", f"""
SELECT method, account, id, amount, hop, reason FROM (
  SELECT o.*, {usd_sum('o.amount', ' OVER a')} AS credited
  FROM ({" UNION ALL ".join(origins)}) o WINDOW a AS (PARTITION BY o.method, o.account)) c
WHERE credited >= {ROUNDING_USD}""")
    # the holders of the accounts the trace names, a few of all the accounts: what its results are joined to
    engine.create("trace_holders", """
SELECT * FROM accounts
WHERE account IN (SELECT account FROM trace_origins UNION SELECT src FROM trace_edges
                  UNION SELECT dst FROM trace_edges)""")
    totals = _totals(engine)
    return {m: TraceTables(
        f"(SELECT id, src, dst, t, amount, flow, hop, channel FROM trace_edges WHERE method = '{m}')",
        f"(SELECT account, id, amount, hop, reason FROM trace_origins WHERE method = '{m}')",
        totals.get(m, {"traced": 0.0, "payments_in": 0.0, "originated": 0.0, "pruned": 0.0}), hop)
        for m in methods}


def _hops(engine: AnalysisEngine, settings: TraceSettings, methods: Sequence[str],
          unmirrored: bool) -> tuple[list[str], list[str], int, list[int]]:
    """Trace hop after hop from ``frontier_0``: the queries of the originated parts, the frontier tables, the last
    hop traced and the hops that had mirrors; with ``unmirrored``, the payouts of table ``unmirrored`` never mirror."""
    # the originated parts of every hop are read straight from its tables, in one statement at the end
    origins, edges, mirrored = [], ["frontier_0"], []  # type: list[str], list[str], list[int]
    hop = 0
    for hop in range(1, settings.hops + 1):
        origins.append(_step(engine, hop, settings, methods, mirrored, unmirrored))
        edges.append(f"frontier_{hop}")
        if not engine.rows(f"SELECT 1 AS open FROM frontier_{hop} LIMIT 1"):
            break
    else:
        origins.append(f"""
SELECT method, src AS account, id, flow AS amount, {hop + 1} AS hop, 'hop_limit' AS reason FROM frontier_{hop}""")
    return origins, edges, hop, mirrored


def _income_of(hop: int, accounts: str) -> str:
    """The regular income paid to ``accounts`` among the payments of hop ``hop`` (a query of one column)."""
    return f"SELECT id FROM earned_{hop} WHERE dst IN ({accounts})"


def _methods(methods: Sequence[str]) -> str:
    """The methods as a one-column table ``method``."""
    return "SELECT * FROM (VALUES " + ", ".join(f"('{m}')" for m in methods) + ") AS v(method)"


def _step(engine: AnalysisEngine, hop: int, settings: TraceSettings, methods: Sequence[str], mirrored: list[int],
          unmirrored: bool) -> str:
    """From the traced payments of hop ``hop - 1`` to those of hop ``hop``, by every method; returns
    the query of the parts originated at this hop (and adds ``hop`` to ``mirrored`` when it had mirrors)."""
    prev, lookback, s = f"frontier_{hop - 1}", int(settings.lookback_days * 86400), float(settings.conduit_share)
    # every payment this hop reads, in one pass over the transactions: into the receivers and the senders of
    # the last hop's payments (the conduit test), and out of those senders (their money lines). The rest of
    # the hop reads these few rows instead of all the transactions again (at 10M rows each pass cost Spark ~5 s)
    near, own = f"near_{hop}", int(settings.own_funds_days * 86400)
    # an inflow a conduit held SPAN lookbacks before spending it is the account's own by then (``held_funds``,
    # assumed): a friend's transfer weeks before a gift did not fund it. Not money that came over hawala: a
    # hawaladar's float holds its customers' money however long
    stale = f"(x.t < p.out_t - {SPAN * lookback} AND COALESCE(x.channel NOT IN {FLOAT_CHANNELS}, TRUE))"
    # a hawala deposit into a sender of the last hop's payments that the payment's receiver may have paid out
    # (``_mirrored``): asked of the few hawala payments first, so that a hop without one reads the transactions
    # once, as before (the mirrors read the hop's payments several times, so then they are kept first)
    mirrors = bool(engine.rows(f"""
SELECT 1 AS one FROM float_tx d JOIN (SELECT DISTINCT src, dst FROM {prev}) p ON d.dst = p.src
JOIN float_tx q ON q.src = p.dst AND q.dst <> p.src AND q.t >= d.t AND q.t <= d.t + {SPAN * lookback}
LIMIT 1"""))
    reach = _reach(prev, mirrors)
    if mirrors:
        engine.create(f"reach_{hop}", reach)
        reach = f"reach_{hop}"
    engine.create(near, _near(reach if mirrors else f"({reach})", lookback))
    # the regular income among them: the one read of all income at this hop, so that the rest of the hop reads only
    # its few payments (and a Spark engine can work on those in its driver)
    engine.create(f"earned_{hop}", f"SELECT id, dst FROM income WHERE id IN (SELECT id FROM {near})")
    if mirrors:
        # per method: which payments a method traced decides which broker pairs it reads and which payouts are
        # its own money being followed, so one method's mirrors never change another's line (alone or beside)
        # (payouts traced at any hop so far, the last one's too, never mirror a deposit: their money is what is
        # being followed; leaving out the last hop's let a payout mirror at one hop and not the next, so a broker's
        # line differed between the hops that read it and a deposit was spent at both)
        followed = " UNION ALL ".join(filter(None, [_earlier(hop + 1, "method, id"),
                                                    "SELECT method, id FROM unmirrored" if unmirrored else None]))
        # two statements: the matching (windows over the few hawala payments) kept once, then read by each side of
        # the result; as one statement Spark computed the matching once per branch that read it (4 s for 134 rows)
        engine.create(f"matched_{hop}", _matched(reach, prev, SPAN * lookback, followed))
        engine.create(f"charged_{hop}", _charged(reach, prev, f"matched_{hop}"))
        engine.create(f"mirror_{hop}", _mirrored(reach, f"charged_{hop}"))
        # a settlement whose partner paid a followed payout of the sum of the deposits it settled: those deposits
        # are that payout's money (``_summed``)
        engine.create(f"summed_{hop}", _summed(reach, prev, f"matched_{hop}", SPAN * lookback, followed))
        mirrored.append(hop)
    # an account with less history than own_funds_days before the outflow: what it paid beyond what came in
    # may be money from outside the data, so paying on more than it received does not make it the funder
    young = f"h.first_t > b.t - {own}"
    # a hawaladar's payment: followed whatever its size
    hawaladar = f"(b.channel IN {FLOAT_CHANNELS} AND fl.account IS NOT NULL)"
    # the conduit test: pool (inflows before, within the lookback) against payments to the same receiver
    # (the receivers of this hop's traced payments by the same method); tried with the whole pool, then
    # with the pool less regular income (a salaried middleman). The pool does not depend on the method
    settles, settling = "FALSE", ""
    if mirrors:
        settles, settling = "z.id IS NOT NULL", f"""
LEFT JOIN (SELECT method, id FROM mirror_{hop} WHERE settles UNION SELECT method, settle FROM summed_{hop}) z
  ON z.method = b.method AND z.id = b.id"""
    # what came in, for "has not paid on more than it received" with the whole pool: its salary too, unless the outflow
    # is the account's only payment to the network in the lookback (a donor's gift beyond what others sent it is its
    # own money; a collector that forwards what donors sent and also pays from its salary still passes the gifts on)
    received = "p.received - CASE WHEN b.burst_payments = 1 THEN p.received_earned ELSE 0 END"
    engine.create(f"judged_{hop}", f"""
SELECT b.*, p.pool, p.earned, {settles} AS settles, COALESCE({hawaladar}, FALSE) AS floating,
       COALESCE({hawaladar} OR {settles}
                OR (b.burst >= {s} * p.pool AND {s} * b.amount <= p.pool
                    AND (b.burst <= {RECEIVED_SLACK} * ({received}) OR {young}))
                OR (b.burst >= {s} * (p.pool - p.earned) AND {s} * b.amount <= p.pool - p.earned
                    AND (b.burst <= {RECEIVED_SLACK} * (p.received - p.received_earned) OR {young})), FALSE)
         AS conduit
FROM (SELECT o.method, o.id, o.src, o.dst, o.t, o.amount, o.flow, o.channel, {usd_sum('j.usd')} AS burst,
             COUNT(*) AS burst_payments
      FROM {prev} o
      JOIN (SELECT r.method, x.src, x.t, x.usd
            FROM {near} x JOIN (SELECT DISTINCT method, dst FROM {prev}) r ON r.dst = x.dst) j
        ON j.method = o.method AND j.src = o.src AND j.t >= o.t - {lookback} AND j.t <= o.t + 86400
      GROUP BY o.method, o.id, o.src, o.dst, o.t, o.amount, o.flow, o.channel) b
LEFT JOIN (SELECT o.id, {usd_sum(f'CASE WHEN i.t >= o.t - {lookback} AND i.t < o.t THEN i.usd END')} AS pool,
                  {usd_sum(f'CASE WHEN n.id IS NULL OR i.t < o.t - {lookback} OR i.t >= o.t THEN 0 ELSE i.usd END')}
                    AS earned,
                  {usd_sum('i.usd')} AS received,
                  {usd_sum('CASE WHEN n.id IS NULL THEN 0 ELSE i.usd END')} AS received_earned
           FROM (SELECT DISTINCT id, src, t FROM {prev}) o
           JOIN {near} i ON i.dst = o.src AND i.t <= o.t + 86400 AND i.t >= o.t - {SPAN} * {lookback}
           LEFT JOIN ({_income_of(hop, f"SELECT DISTINCT src FROM {prev}")}) n ON n.id = i.id
           GROUP BY o.id) p ON p.id = b.id
LEFT JOIN (SELECT account, MIN(t) AS first_t
           FROM (SELECT src AS account, t FROM {near} WHERE src IN (SELECT src FROM {prev}) UNION ALL
                 SELECT dst, t FROM {near} WHERE dst IN (SELECT src FROM {prev})) x GROUP BY account) h
  ON h.account = b.src
LEFT JOIN floats fl ON fl.account = b.src{settling}""")
    earmarked = settings.earmark_days > 0
    judged = f"judged_{hop}"
    if earmarked:
        _earmark(engine, hop, int(settings.earmark_days * 86400), methods, mirrors)
        # an outflow of a conduit that earmarking found passing money on as it came (a pair or an episode) is
        # the account acting as a conduit, whatever the pool test said of it: a collector that forwards 77 % of a
        # payout in three payments over two days passed the first on too, though with only the next day's
        # payments beside it, it was under half of what came in the lookback
        judged = f"rejudged_{hop}"
        engine.create(judged, f"""
SELECT j.method, j.id, j.src, j.dst, j.t, j.amount, j.flow, j.channel, j.burst, j.burst_payments, j.pool, j.earned,
       j.settles, j.floating, j.conduit OR f.out_id IS NOT NULL AS conduit
FROM judged_{hop} j
LEFT JOIN (SELECT DISTINCT method, out_id FROM passed_{hop}) f ON f.method = j.method AND f.out_id = j.id""")
    _deficits(engine, hop, earmarked, mirrors)
    # the traced flow of what is left of the outflow on the money line after earmarking
    # (of the outflow's cents less what netting cancels: ``_near``)
    # a netted payment carries at most its net value: what was traced into it beyond that is not followed (``pruned``)
    # and a payment traced at several hops (by several paths) carries at most that in all: what earlier hops traced
    # into it is taken off (``v``), or its sources were credited once per hop
    net = f"CAST(NULLIF({_net_cents('n', 'out', 'nm' if mirrors else None)}, 0) AS DOUBLE)"
    before = f"\n  LEFT JOIN ({_carried(hop)}) v ON v.method = j.method AND v.id = j.id" if hop >= 2 else ""
    spent = "COALESCE(v.flow, 0)" if hop >= 2 else "0"
    capped = f"LEAST(j.flow, GREATEST({net} / 100 - {spent}, 0))"
    flow = f"{capped} * o.cents / {net}" if earmarked else f"LEAST(j.flow, o.cents / 100.0 - {spent})"
    outflow = (f"\nJOIN near_{hop} n ON n.id = j.id{_mirror_of(hop, 'j', 'j.method', 'nm') if mirrors else ''}"
               if earmarked else "")
    # a settlement that carried a payout's deposits (``summed_{hop}``) goes to them, not to the money line
    summed, unsummed = "", ""
    if mirrors:
        unsummed = f"""
  LEFT JOIN (SELECT DISTINCT method, settle FROM summed_{hop}) u ON u.method = j.method AND u.settle = j.id"""
        summed = f"""
UNION ALL
SELECT j.method, j.src, j.id, j.t, j.t, d.deposit, 1,
       LEAST(j.flow, GREATEST(d.total / 100.0 - {spent}, 0)) * d.cents / d.total
FROM {judged} j JOIN summed_{hop} d ON d.method = j.method AND d.settle = j.id{before}
WHERE j.conduit"""
    traced = f"""SELECT j.method, o.line_of, j.src, j.id, {flow} AS flow, o.pos, o.bal, o.cents, o.lo, o.hi, o.t,
       o.first_t
FROM {judged} j JOIN line o ON o.line_of = {'j.method' if earmarked or mirrors else "''"} AND o.account = j.src
  AND o.id = j.id AND o.kind = 0{outflow}{before}{unsummed}
WHERE j.conduit AND o.cents > 0 AND {flow} > 0{' AND u.settle IS NULL' if mirrors else ''}"""
    # with earmarking, an outflow's earmarked cents go to their inflows (``earmark_{hop}``)
    also = f"""
UNION ALL
SELECT j.method, j.src, j.id, j.t, j.t, e.source_id, 1, {capped} * e.cents / {net}
FROM {judged} j{outflow}
JOIN earmark_{hop} e ON e.method = j.method AND e.account = j.src AND e.out_id = j.id{before}{unsummed}
WHERE j.conduit{' AND u.settle IS NULL' if mirrors else ''}""" if earmarked else ""
    # parts_{hop}: for each traced outflow of a conduit, the USD each source on its line paid, by each
    # method. Columns: method, account, out_id, out_t, first_t, source_id (the inflow; NULL for own
    # money), kind (of the source), part (USD of the traced flow)
    ctes, spent = _spend(methods)
    engine.create(f"parts_{hop}", f"""
WITH line AS ({_lay_out(f"deficit_{hop}", opening=True)}),
     traced AS ({traced}){ctes}{spent}{also}{summed}""")
    # with earmarking, an outflow that passed on less than the conduit share of money that came in (its
    # earmarked inflows and the inflows the method spent on the rest of its line) is mostly the account's
    # own (its income, known balance, money beyond what it received): the account is its originator, as
    # the pool test says of a donor who gives 400 after a friend sent 30. A broker pays out of a float, not out of
    # what came in: its channel's payouts are followed as before
    kept, unkept = "", ""
    if earmarked:
        engine.create(f"kept_{hop}", f"""
SELECT j.method, j.src, j.id, j.flow FROM {judged} j
JOIN (SELECT method, account, out_id, {usd_sum('CASE WHEN kind = 1 THEN part ELSE 0 END')} AS passed
      FROM parts_{hop} GROUP BY method, account, out_id) p
  ON p.method = j.method AND p.account = j.src AND p.out_id = j.id
WHERE j.conduit AND NOT j.floating AND NOT j.settles
  AND p.passed < {s} * j.flow""")
        kept = f"""
UNION ALL
SELECT method, src, id, flow, {hop}, 'not_a_conduit' FROM kept_{hop}"""
        unkept = f"""
  LEFT JOIN kept_{hop} k ON k.method = p.method AND k.src = p.account AND k.id = p.out_id"""
    # a payment carries at most its amount over every hop that traces it: what earlier hops traced into it is taken
    # off here too, so that a source spent again by a line read differently at another hop (mirrors found by the
    # payments then at hand) is never credited more than it paid; the rest is ``pruned``
    flow = "LEAST(c.flow, c.amount - COALESCE(v.flow, 0))"
    engine.create(f"frontier_{hop}", f"""
SELECT c.method, c.id, c.src, c.dst, c.t, c.amount, {flow} AS flow, {hop} AS hop, c.channel
FROM (SELECT method, id, src, dst, t, amount, channel, {usd_sum('part')} AS flow FROM (
        SELECT p.method, x.id, x.src, x.dst, x.t, x.usd AS amount, x.channel, p.part
        FROM parts_{hop} p JOIN near_{hop} x ON x.id = p.source_id{unkept}
        WHERE p.kind = 1 AND NOT {stale}{' AND k.id IS NULL' if earmarked else ''}
      ) p GROUP BY method, id, src, dst, t, amount, channel) c
LEFT JOIN ({_carried(hop + 1)}) v ON v.method = c.method AND v.id = c.id
WHERE {flow} >= {PRUNE_USD}""")
    return f"""
SELECT j.method, j.src AS account, j.id, j.flow AS amount, {hop} AS hop,
       CASE WHEN j.pool IS NULL AND NOT j.conduit THEN 'no_earlier_inflow' ELSE 'not_a_conduit' END AS reason
FROM {judged} j WHERE NOT j.conduit{kept}
UNION ALL
SELECT p.method, p.account, p.out_id, p.part, {hop},
       CASE WHEN p.kind = 3 THEN 'opening_balance' WHEN p.kind = 4 THEN 'income'
            WHEN p.first_t <= p.out_t - {own} THEN 'own_funds' ELSE 'unexplained_funds' END
FROM parts_{hop} p{unkept} WHERE p.kind IN (2, 3, 4) AND p.part > 0{' AND k.id IS NULL' if earmarked else ''}
UNION ALL
SELECT p.method, p.account, p.out_id, p.part, {hop}, 'held_funds'
FROM parts_{hop} p JOIN near_{hop} x ON x.id = p.source_id{unkept}
WHERE p.kind = 1 AND {stale} AND p.part > 0{' AND k.id IS NULL' if earmarked else ''}"""


def _earlier(hop: int, columns: str) -> str | None:
    """The query of ``columns`` of every payment traced before hop ``hop - 1`` (frontier_0 .. frontier_{hop-2}):
    at hop ``hop``, those traced before the last hop; None at hop 1."""
    return " UNION ALL ".join(f"SELECT {columns} FROM frontier_{k}" for k in range(hop - 1)) or None


def _carried(hop: int) -> str:
    """The query of the flow (``method``, ``id``, ``flow``) each payment carried by each method at the hops
    ``_earlier(hop, …)`` reads; at least hop 2."""
    return (f"SELECT method, id, {usd_sum('flow')} AS flow FROM ({_earlier(hop, 'method, id, flow')}) u "
            "GROUP BY method, id")


def _reach(prev: str, payouts: bool) -> str:
    """The query of every payment a hop reads, in one pass over the transactions: into the receivers and the
    senders of the last hop's payments ``prev`` and out of those senders, with its cents; with ``payouts`` also
    out of those receivers over hawala (the payouts ``_mirrored`` matches)."""
    also = f"\n           OR (src IN (SELECT dst FROM {prev}) AND channel IN {FLOAT_CHANNELS})" if payouts else ""
    return f"""
SELECT id, src, dst, t, usd, channel, src_balance_usd, dst_balance_usd, CAST(ROUND(usd * 100) AS BIGINT) AS cents
FROM tx WHERE dst IN (SELECT dst FROM {prev} UNION SELECT src FROM {prev}) OR src IN (SELECT src FROM {prev}){also}"""


def _near(source: str, lookback: int) -> str:
    """The query of ``near_N``: the payments of ``source`` (a table, or ``_reach``'s query in brackets) with
    ``back``, the cents of each that bilateral netting cancels (mirrored hawala payouts cancel more, on one side
    and per method: ``_mirrored``).

    A payment from B to A is a **return** when the payment between the two just before it went the other way
    (A paid B), within the lookback, at least as much, and was not a return itself; neither of the two is a
    payment into a designated account (those are traced in full at hop 0). A return nets against the payment
    it returns: neither moved that much money, so on both accounts' money lines the return's cents and as many
    cents of the payment it returns are left out (a broker paying part of a settlement straight back, a refund,
    a repayment). A pair's payments are all here whenever either account's money line is read, so both lines
    net the same cents; a payment has at most one return. In a run of payments each answering the one before
    (A pays B, B pays back, A pays again, B pays back …) the first answer is a return, the next is not (it
    follows a return), the one after is again: every second payment of the run after its first.
    """
    pair = "PARTITION BY LEAST(src, dst), GREATEST(src, dst) ORDER BY t, id"
    return f"""
WITH paired AS (
  SELECT n.*, LAG(n.id) OVER w AS prev_id, LAG(n.src) OVER w AS prev_src, LAG(n.t) OVER w AS prev_t,
         LAG(n.cents) OVER w AS prev_cents
  FROM {source} n WINDOW w AS ({pair})),
     designated AS (SELECT DISTINCT id FROM frontier_0),
     candidate AS (
  SELECT p.*, COALESCE(p.prev_src = p.dst AND p.prev_t >= p.t - {lookback} AND p.prev_cents >= p.cents
                       AND z.id IS NULL AND y.id IS NULL, FALSE) AS back_candidate
  FROM paired p LEFT JOIN designated z ON z.id = p.prev_id LEFT JOIN designated y ON y.id = p.id),
     runs AS (
  SELECT c.*, SUM(CASE WHEN c.back_candidate THEN 0 ELSE 1 END) OVER (
           {pair} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS run_no
  FROM candidate c),
     netted AS (
  -- a run starts at a payment that answers none (a pair's first payment never does): its 2nd, 4th … are returns
  SELECT r.*, r.back_candidate AND ROW_NUMBER() OVER (
           PARTITION BY LEAST(src, dst), GREATEST(src, dst), run_no ORDER BY t, id) % 2 = 0 AS returned
  FROM runs r)
SELECT id, src, dst, t, usd, channel, src_balance_usd, dst_balance_usd,
       CASE WHEN returned THEN cents WHEN COALESCE(LEAD(returned) OVER w, FALSE) THEN LEAD(cents) OVER w
            ELSE 0 END AS back
FROM netted n WINDOW w AS ({pair})"""


def _matched(reach: str, prev: str, window: int, traced: str | None) -> str:
    """The query of ``matched_N``: each hawala deposit into X that a payout of Y over hawala to someone else
    **mirrors**, for each payment X -> Y a method traced (``method``, ``deposit``, ``payout``, ``x``, ``y``,
    ``d_t``, ``q_t``, ``cents``, ``hi``): the payout is the deposit less a fee of at most 3 %, or up to 0.5 % more
    and a cent, within ``window`` after it; one payout per deposit, each the other's closest. ``hi`` is the
    deposit's place in X's hawala deposits as a queue in cents (``_charged`` reads it). Payouts the method
    already traced (``traced``: method, id of the payments traced at earlier hops) never mirror: their money is
    what is being followed.

    Hawala-like brokers settle in bulk: X pays Y the sum of many customers' deposits, and Y pays
    each customer's payee what the customer deposited. Without this a collector's payout, traced
    to the settlement, was shared among every deposit the settlement spent, innocent remittances
    included (docs/network.md, "Mirrored payouts").
    """
    # an anti join, not NOT IN: Spark plans NOT IN as a nested loop over every pair of rows
    anti = (f"\n                 LEFT JOIN (SELECT DISTINCT method, id FROM ({traced}) u) tr"
            " ON tr.method = p.method AND tr.id = n.id" if traced else "")
    untraced = " AND tr.id IS NULL" if traced else ""
    return f"""
WITH pairs AS (SELECT DISTINCT method, src AS x, dst AS y FROM {prev}),
     -- X's hawala deposits as a queue in cents: a deposit's interval [hi - cents, hi]
     deposits AS (SELECT p.method, n.id, p.x, p.y, n.t, n.cents,
                         SUM(n.cents) OVER (PARTITION BY p.method, p.x, p.y ORDER BY n.t, n.id
                                                          ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS hi
                  FROM {reach} n JOIN pairs p ON n.dst = p.x
                  WHERE n.channel IN {FLOAT_CHANNELS} AND n.src <> p.y),
     payouts AS (SELECT p.method, n.id, p.x, p.y, n.t, n.cents FROM {reach} n JOIN pairs p ON n.src = p.y{anti}
                 WHERE n.channel IN {FLOAT_CHANNELS} AND n.dst <> p.x{untraced})
SELECT method, deposit, payout, x, y, d_t, q_t, cents, hi FROM (
  SELECT d.method, d.id AS deposit, q.id AS payout, d.x, d.y, d.t AS d_t, q.t AS q_t, d.cents, d.hi,
         ROW_NUMBER() OVER (PARTITION BY q.method, q.id ORDER BY ABS(q.cents - d.cents), d.t, d.id) AS by_payout,
         ROW_NUMBER() OVER (PARTITION BY d.method, d.id ORDER BY ABS(q.cents - d.cents), q.t, q.id) AS by_deposit
  FROM deposits d JOIN payouts q ON q.method = d.method AND q.x = d.x AND q.y = d.y AND q.t >= d.t
   AND q.t <= d.t + {window} AND q.cents >= d.cents * {PAYOUT_LOW} AND q.cents <= d.cents * {PAYOUT_HIGH} + 1) m
WHERE by_payout = 1 AND by_deposit = 1"""


def _charged(reach: str, prev: str, matched: str) -> str:
    """The query of ``charged_N``: each mirrored deposit (``matched``'s rows), its payout and a settlement that
    carried it, with the cents it takes off that settlement (``method``, ``deposit``, ``payout``, ``x``, ``y``,
    ``settle``, ``cents``; ``_mirrored`` makes ``mirror_N`` of them). A mirrored deposit is that payout's money,
    not the settlement's: it leaves X's money line, and so many cents of the payments X -> Y between the two
    that carried it (X's hawala deposits and its payments to Y as two queues in cents: the payments whose place
    meets the deposit's; none into a designated account) with it.
    Between a pair that mirrors, Y's payments to X not over hawala (trade money, the last
    period's settlement the other way) are the pair's own business and leave X's line too: they
    are not where the customers' money came from; and X's payments to Y are ``settles``, followed
    whatever their size as a hawaladar's are (a pair settles in bulk, often less often than
    the lookback).
    """
    return f"""
WITH pairs AS (SELECT DISTINCT method, src AS x, dst AS y FROM {prev}),
     settlements AS (SELECT p.method, n.id, p.x, p.y, n.t, n.cents,
                            SUM(n.cents) OVER (PARTITION BY p.method, p.x, p.y ORDER BY n.t, n.id
                                                          ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS hi
                     FROM {reach} n JOIN pairs p ON n.src = p.x AND n.dst = p.y
                     LEFT JOIN (SELECT DISTINCT id FROM frontier_0) z ON z.id = n.id WHERE z.id IS NULL)
-- a mirrored deposit leaves X's line as far as payments to Y between it and its payout carried it, and
-- those payments lose as many cents: never more than a payment's own
SELECT m.method, m.deposit, m.payout, m.x, m.y, s.id AS settle,
       LEAST(m.hi, s.hi) - GREATEST(m.hi - m.cents, s.hi - s.cents) AS cents
FROM {matched} m JOIN settlements s ON s.method = m.method AND s.x = m.x AND s.y = m.y
 AND s.hi - s.cents < m.hi AND s.hi > m.hi - m.cents
 AND s.t >= m.d_t AND s.t <= m.q_t"""


def _summed(reach: str, prev: str, matched: str, window: int, followed: str) -> str:
    """The query of ``summed_N``: the deposits a settlement X -> Y carried for a payout that was their sum
    (``method``, ``settle``, ``deposit``, ``cents``, ``total``).

    A hawaladar that gathers several customers' gifts for one payee pays them out in one payment: Y pays a
    collector what the donors deposited with X since the pair's last settlement, in one sum. When a payout of Y
    over hawala that the method followed (``followed``: method, id of the payments traced so far) is the sum of
    X's hawala deposits since X's payment to Y before the settlement, up to the settlement (those no other payout
    mirrors: ``matched``), less a fee of at most 3 % or up to 0.5 % more and a cent, within ``window`` after the
    settlement and of every one of those deposits, Y is a hawaladar (``floats``), the settlement carries no more
    than the sum (else more than the payout was traced into it) and is no more than all the deposits it closed,
    mirrored ones too (a trade payment of 5,000 from an account that took one 900 deposit over hawala settles
    nothing of it: that is the account's own money), those deposits are what the settlement
    carried of it: its traced flow goes to them, each its share (the payout spent them all, so every method shares
    alike), not to X's money line. Within ``window`` of the payout as the hop's check for mirrors is, so that a
    method finds the same sums alone as beside the others. A netting pair's
    settlement is less than what it settled (goods one broker shipped the other are set off), so on X's line it
    could carry only part of the gifts (docs/network.md, "Mirrored payouts").
    """
    return f"""
WITH settling AS (SELECT n.id, n.src, n.dst, n.t, n.cents,
                         LAG(n.t) OVER (PARTITION BY n.src, n.dst ORDER BY n.t, n.id) AS since
                  FROM {reach} n WHERE n.src IN (SELECT src FROM {prev}) AND n.dst IN (SELECT dst FROM {prev})),
     settlements AS (SELECT p.method, s.id, s.src AS x, s.dst AS y, s.t, s.cents, s.since, p.flow
                     FROM settling s JOIN (SELECT method, id, SUM(flow) AS flow FROM {prev} GROUP BY method, id) p
                       ON p.id = s.id),
     -- every hawala deposit the settlement closed, and whether another payout mirrors it
     period AS (SELECT s.method, s.id AS settle, n.id, n.t, n.cents, m.deposit IS NOT NULL AS mirrored
                FROM settlements s JOIN {reach} n ON n.dst = s.x AND n.src <> s.y AND n.t <= s.t
                 AND (s.since IS NULL OR n.t > s.since)
                LEFT JOIN {matched} m ON m.method = s.method AND m.deposit = n.id
                WHERE n.channel IN {FLOAT_CHANNELS}),
     deposits AS (SELECT method, settle, id, t, cents FROM period WHERE NOT mirrored),
     gross AS (SELECT method, settle, SUM(cents) AS gross FROM period GROUP BY method, settle),
     sums AS (SELECT method, settle, SUM(cents) AS total, MIN(t) AS first_t FROM deposits GROUP BY method, settle
              HAVING SUM(cents) > 0),
     payouts AS (SELECT f.method, n.id, n.src, n.dst, n.t, n.cents
                 FROM {reach} n JOIN (SELECT DISTINCT method, id FROM ({followed}) u) f ON f.id = n.id
                 WHERE n.channel IN {FLOAT_CHANNELS}),
     paid AS (SELECT DISTINCT s.method, s.id AS settle, m.total
              FROM settlements s JOIN sums m ON m.method = s.method AND m.settle = s.id
              JOIN payouts q ON q.method = s.method AND q.src = s.y AND q.dst <> s.x AND q.t >= s.t
               AND q.t <= s.t + {window} AND m.first_t >= q.t - {window} AND q.cents >= m.total * {PAYOUT_LOW}
               AND q.cents <= m.total * {PAYOUT_HIGH} + 1
              JOIN floats fl ON fl.account = q.src
              JOIN gross g ON g.method = s.method AND g.settle = s.id
              WHERE s.flow * 100 <= m.total * {PAYOUT_HIGH} + 1 AND s.cents <= g.gross * {PAYOUT_HIGH} + 1)
SELECT d.method, d.settle, d.id AS deposit, d.cents, p.total
FROM deposits d JOIN paid p ON p.method = d.method AND p.settle = d.settle"""


def _mirrored(reach: str, charged: str) -> str:
    """The query of ``mirror_N`` from ``charged`` (``_charged``'s rows): the cents each payment of ``reach`` loses to
    mirrored broker payments, on the receiver's line (``cents_in``) and the sender's (``cents_out``), by each method
    (``method``, ``id``, ``cents_in``, ``cents_out``, ``settles``, ``payout``)."""
    return f"""
WITH mirroring AS (SELECT DISTINCT method, x, y FROM {charged})
SELECT method, id, SUM(cents_in) AS cents_in, SUM(cents_out) AS cents_out, MAX(settles) = 1 AS settles,
       MAX(payout) = 1 AS payout
FROM (SELECT method, deposit AS id, cents AS cents_in, 0 AS cents_out, 0 AS settles, 0 AS payout FROM {charged}
      UNION ALL
      SELECT method, settle, 0, cents, 0, 0 FROM {charged}
      UNION ALL
      SELECT method, payout, 0, 0, 0, 1 FROM {charged}
      UNION ALL
      SELECT b.method, n.id, CASE WHEN COALESCE(n.channel NOT IN {FLOAT_CHANNELS}, TRUE) THEN n.cents ELSE 0 END, 0, 0,
             0
      FROM {reach} n JOIN mirroring b ON n.src = b.y AND n.dst = b.x
      UNION ALL
      SELECT b.method, n.id, 0, 0, 1, 0 FROM {reach} n JOIN mirroring b ON n.src = b.x AND n.dst = b.y) c
GROUP BY method, id"""


def _net_cents(payment: str, side: str, mirror: str | None = None) -> str:
    """The cents of the payment ``payment`` (a row of ``near_N``) less what netting cancels of it and, with
    ``mirror`` (its row of ``mirror_N`` for the method, or NULLs), what mirrors cancel of it on the line of its
    receiver (``side`` "in") or its sender ("out")."""
    net = f"CAST(ROUND({payment}.usd * 100) AS BIGINT) - {payment}.back"
    return f"GREATEST({net} - COALESCE({mirror}.cents_{side}, 0), 0)" if mirror else f"({net})"


def _mirror_of(hop: int, payment: str, method: str, alias: str) -> str:
    """The join of ``alias``, the row of ``mirror_{hop}`` for the payment ``payment`` by the method ``method``."""
    return f"\nLEFT JOIN mirror_{hop} {alias} ON {alias}.method = {method} AND {alias}.id = {payment}.id"


def _deficits(engine: AnalysisEngine, hop: int, earmarked: bool, mirrors: bool) -> None:
    """``deficit_{hop}``: the events of each conduit account's money line, with what it must have had
    of its own (``_lay_out`` makes the line of them).

    Events in time order (ties: outflows first, then by id); amounts in cents, so both engines add
    up the same. ``known`` is the opening balance the input's balance column shows (0 without
    one): the balance before the first event that states one, less what came and went before it.
    ``deficit`` is the most the account has paid beyond what it had so far: where an outflow takes
    the account below zero, the shortfall is money of its own (or from outside the data) that
    appears just before that outflow. One line per account (``line_of`` ''), or with earmarking or
    mirrors one per account and method (``line_of`` the method: what they took differs by method).
    """
    # mirrored payouts (``mirror_{hop}``, the line's method) take their cents off the side of the line they are on
    left, joins = "e.cents", ""
    if mirrors:
        left = "GREATEST(e.cents - COALESCE(CASE WHEN e.kind = 1 THEN mm.cents_in ELSE mm.cents_out END, 0), 0)"
        joins = _mirror_of(hop, "e", "c.line_of", "mm")
    # with earmarking, what each event passed on as it came (``earmark_{hop}``) leaves the money line
    if earmarked:
        left = f"GREATEST({left} - COALESCE(m.cents, 0), 0)"
        joins += f"""
      LEFT JOIN (SELECT method, account, source_id AS id, 1 AS kind, SUM(cents) AS cents
                 FROM earmark_{hop} GROUP BY method, account, source_id
                 UNION ALL
                 SELECT method, account, out_id, 0, SUM(cents) FROM earmark_{hop} GROUP BY method, account, out_id) m
        ON m.method = c.line_of AND m.account = e.account AND m.id = e.id AND m.kind = e.kind"""
    engine.create(f"deficit_{hop}", f"""
SELECT d.*, COALESCE(LAG(d.deficit) OVER (PARTITION BY d.line_of, d.account ORDER BY d.seq), 0) AS deficit_before
FROM (SELECT k.*, GREATEST(MAX(k.cum_out - k.cum_in - k.known) OVER (PARTITION BY k.line_of, k.account
                           ORDER BY k.seq ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW), 0) AS deficit
      FROM (SELECT f.*, GREATEST(COALESCE(MAX(CASE WHEN f.seq = f.known_seq THEN
                   f.bal_cents - (f.full_in - CASE WHEN f.kind = 1 THEN f.full_cents ELSE 0 END)
                   + (f.full_out - CASE WHEN f.kind = 0 THEN f.full_cents ELSE 0 END) END) OVER a, 0), 0) AS known
            FROM (SELECT v.*, MIN(v.t) OVER a AS first_t,
                         MIN(CASE WHEN v.bal_cents IS NOT NULL THEN v.seq END) OVER a AS known_seq
                  FROM (SELECT c.line_of, e.account, e.id, e.t, e.kind, {left} AS cents, e.whole AS full_cents,
                               e.bal_cents, e.earned,
                               SUM(CASE WHEN e.kind = 1 THEN {left} ELSE 0 END) OVER w AS cum_in,
                               SUM(CASE WHEN e.kind = 0 THEN {left} ELSE 0 END) OVER w AS cum_out,
                               SUM(CASE WHEN e.kind = 1 THEN e.whole ELSE 0 END) OVER w AS full_in,
                               SUM(CASE WHEN e.kind = 0 THEN e.whole ELSE 0 END) OVER w AS full_out,
                               ROW_NUMBER() OVER w AS seq
      FROM (SELECT x.dst AS account, x.t, 1 AS kind, x.id, {_net_cents('x', 'in')} AS cents,
                   CAST(ROUND(x.usd * 100) AS BIGINT) AS whole,
                   CAST(ROUND(x.dst_balance_usd * 100) AS BIGINT) AS bal_cents, n.id IS NOT NULL AS earned
            FROM near_{hop} x
            LEFT JOIN ({_income_of(hop, f"SELECT src FROM judged_{hop} WHERE conduit")}) n ON n.id = x.id
            WHERE x.dst IN (SELECT src FROM judged_{hop} WHERE conduit)
            UNION ALL
            SELECT x.src, x.t, 0, x.id, {_net_cents('x', 'out')}, CAST(ROUND(x.usd * 100) AS BIGINT),
                   CAST(ROUND(x.src_balance_usd * 100) AS BIGINT), FALSE
            FROM near_{hop} x WHERE x.src IN (SELECT src FROM judged_{hop} WHERE conduit)) e
      JOIN (SELECT DISTINCT {'method' if earmarked or mirrors else "''"} AS line_of, src AS account
            FROM judged_{hop} WHERE conduit) c ON c.account = e.account{joins}
      WINDOW w AS (PARTITION BY c.line_of, e.account ORDER BY e.t, e.kind, e.id
                   ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)) v
                  WINDOW a AS (PARTITION BY v.line_of, v.account)) f
            WINDOW a AS (PARTITION BY f.line_of, f.account)) k) d""")


def _lay_out(deficits: str, opening: bool) -> str:
    """The query of a money line: the rows of ``deficits`` (events with their running sums and
    deficit) with the own money appearing before the outflows that needed it and, with
    ``opening``, the known opening balances.

    Rows: ``line_of``, ``account``; ``kind`` 0 outflow, 1 inflow, 2 own money appearing, 3 known
    opening balance, 4 regular income, -1 what an earmarking line held too long leaving it (an outflow no method
    follows); ``pos`` the order; ``bal`` the balance after the row;
    ``lo``/``hi`` first-in-first-out coordinates.
    """
    known = f"""
  UNION ALL
  SELECT line_of, account, CAST(NULL AS VARCHAR), first_t, 3, known, 0, first_t, known, 0, known
  FROM {deficits} WHERE seq = 1 AND known > 0""" if opening else ""
    return f"""
SELECT line_of, account, id, t, kind, cents, pos, first_t, bal, lo, hi FROM (
  SELECT line_of, account, id, t, CASE WHEN earned THEN 4 ELSE kind END AS kind, cents, 2 * seq AS pos, first_t,
         known + cum_in - cum_out + deficit AS bal,
         CASE WHEN kind = 1 THEN known + cum_in + deficit - cents ELSE cum_out - cents END AS lo,
         CASE WHEN kind = 1 THEN known + cum_in + deficit ELSE cum_out END AS hi
  FROM {deficits}
  UNION ALL
  SELECT line_of, account, id, t, 2, deficit - deficit_before, 2 * seq - 1, first_t,
         known + cum_in - cum_out + deficit + cents,
         known + cum_in + deficit_before, known + cum_in + deficit
  FROM {deficits} WHERE kind = 0 AND deficit > deficit_before{known}) l"""


def _earmark(engine: AnalysisEngine, hop: int, window: int, methods: Sequence[str], mirrors: bool) -> None:
    """``earmark_{hop}``: the money each conduit passed on as it came, by each method (cents of
    inflow ``source_id`` that outflow ``out_id`` carried).

    An inflow is earmarkable when it is not regular income, its payer is not a regular one of
    the account (``regular``); a relation's inflow (its payer had paid the account before the window: ``known``, a
    friend or a customer, whose transfer is the account's own business) is passed on only as a pair's, never in a
    burst or on the line; an outflow earmarks when its payee is not a regular one. The line of
    these events alone (the same order and cents as the money line, with the same rule for money
    paid beyond what came in, which takes no earmarked inflow) is one per method (less, with mirrors, that
    method's mirrors, and what that method's episodes took); each method spends it its way, and a part is
    earmarked only when its inflow came at most ``window`` seconds before the outflow. Whatever is earmarked
    leaves the money line on both sides; the rest follows the method. First, an outflow that one inflow alone explains
    (``forwarded_{hop}``) is that inflow passed on, by every method, and the pair leaves the line; then the
    traced runs that pass a collection of inflows on (``collections_{hop}``), then the outflows that pass a burst
    of inflows on (both in ``episodes_{hop}``), shared out by each method, leave it too. What the line held when
    nothing happened on it for longer than the window leaves it as well (``marks_{hop}``).
    """
    # an outflow that can pass money on: to a payee that is not a regular one, not by card (a card
    # payment is spending at a merchant, not passing money on)
    # with mirrors, one line per method (``line_of``), each less its own mirrors; else one line for all ('')
    def side(account: str, kind: str) -> tuple[str, str, str]:
        """The line, the join and the net cents of the payments ``x`` on the ``account`` side of a conduit."""
        if not mirrors:
            return "''", "", _net_cents("x", kind)
        conduits = f"SELECT DISTINCT method, src FROM judged_{hop} WHERE conduit"
        return ("c.method", f"\n                 JOIN ({conduits}) c ON c.src = x.{account}"
                + _mirror_of(hop, "x", "c.method", "mm"), _net_cents("x", kind, "mm"))
    line, join, out = side("src", "out")
    passing = f"""SELECT {line} AS line_of, x.src AS account, x.t, x.id, {out} AS cents, {out} / 100.0 AS usd
                  FROM near_{hop} x{join} LEFT JOIN regular r ON r.src = x.src AND r.dst = x.dst
                  LEFT JOIN merchants mc ON mc.account = x.dst
                  WHERE x.src IN (SELECT src FROM judged_{hop} WHERE conduit) AND r.src IS NULL AND mc.account IS NULL
                    AND COALESCE(x.channel <> 'card', TRUE) AND {out} > 0"""
    line, join, into = side("dst", "in")
    # the events of the earmarking line, once (the pairs and the line read them): passing outflows (kind 0) and
    # earmarkable inflows (kind 1), in cents; a relation's inflow (``relation``) is passed on only as a pair's
    engine.create(f"events_{hop}", f"""
WITH passing AS ({passing}),
     inflows AS (SELECT {line} AS line_of, x.dst AS account, x.t, x.id, {into} AS cents, {into} / 100.0 AS usd,
                        k.id IS NOT NULL AS relation
                 FROM near_{hop} x{join}
                 LEFT JOIN ({_income_of(hop, f"SELECT src FROM judged_{hop} WHERE conduit")}) n ON n.id = x.id
                 LEFT JOIN regular r ON r.src = x.src AND r.dst = x.dst
                 LEFT JOIN (SELECT id FROM paired WHERE known AND id IN (SELECT id FROM near_{hop})) k ON k.id = x.id
                 WHERE x.dst IN (SELECT src FROM judged_{hop} WHERE conduit) AND n.id IS NULL AND r.src IS NULL
                   AND {into} > 0),
     -- an earmarkable inflow: followed within the window by passing outflows of at least half its value
     passed AS (SELECT i.line_of, i.account, i.t, i.id, i.cents, i.relation FROM inflows i
                JOIN passing o ON o.line_of = i.line_of AND o.account = i.account AND o.t >= i.t
                 AND o.t <= i.t + {window}
                GROUP BY i.line_of, i.account, i.t, i.id, i.cents, i.usd, i.relation
                HAVING {usd_sum('o.usd')} >= 0.5 * i.usd)
SELECT line_of, account, t, id, cents, 1 AS kind, relation FROM passed
UNION ALL
SELECT line_of, account, t, id, cents, 0, FALSE FROM passing""")
    # an inflow passed on as it came (``forwarded_{hop}``, docs/network.md): the one passing outflow, at the first
    # time after an earmarkable inflow with any and within the window, that is between half of it and all of it (up
    # to half a percent and a cent more: both sides are converted to USD at the analysis's rates), when no other
    # earmarkable inflow is followed by that outflow so -- a layer's forward of 90 % of a transfer, not the friend's
    # gift of the day before, by every method. The pair carries the whole outflow and leaves the earmarking line
    # before the method spends the rest; what the outflow is over the inflow is pruned where the inflow is followed
    # (a payment carries at most its amount), not spent from the account's money line. Cents compared as whole
    # doubles times whole numbers (exact to 2^53): 100,000 x 1.005 is not 100,500 in floating point
    engine.create(f"forwarded_{hop}", f"""
WITH next AS (SELECT i.line_of, i.account, i.id AS source_id, o.id AS out_id,
                     CAST(i.cents AS DOUBLE) AS source_cents, CAST(o.cents AS DOUBLE) AS cents,
                     RANK() OVER (PARTITION BY i.line_of, i.account, i.id ORDER BY o.t) AS k
              FROM events_{hop} i JOIN events_{hop} o ON o.line_of = i.line_of AND o.account = i.account
               AND o.kind = 0 AND o.t > i.t AND o.t <= i.t + {window}
              WHERE i.kind = 1),
     fits AS (SELECT * FROM next
              WHERE k = 1 AND 2 * cents >= source_cents
                AND {_at_most("cents", "source_cents")})
SELECT line_of, account, out_id, source_id, CAST(cents AS BIGINT) AS cents FROM (
  SELECT f.*, COUNT(*) OVER (PARTITION BY line_of, account, out_id) AS sources,
         COUNT(*) OVER (PARTITION BY line_of, account, source_id) AS outflows
  FROM fits f) p
WHERE sources = 1 AND outflows = 1""")
    # a burst passed on as it came (``episodes_{hop}``, docs/network.md): inflows no passing outflow separates, each
    # at most BURST_SECONDS after the one before, then, of the passing outflows up to the next earmarkable inflow
    # (within the window from the burst's first inflow), the run that paid the most (outflows each at most
    # RUN_SECONDS after the one before: a purchase days later is not the forward), its largest first while they add
    # up to no more than the burst (a friend's transfer between a layer's forwards is not one of them; a run whose
    # largest payment is more than the burst passes on more than the burst, an accumulation the earmarking line
    # spends), when those are at least half of it (as the pairs: half a percent and a cent more). When the last burst
    # before the run is less than its largest payment, the latest earlier burst with no passing outflow since that is
    # at least the whole run (and within the window of it) is the burst passed on: a friend's transfer after a
    # layer's transfers and before its forward is not one of them; failing that, the latest earlier one at least the
    # largest payment and half the run, with the bursts after it (a gatherer's transfers, one more that came later,
    # not a friend's of the week before). They are the burst passed on; each method shares
    # them out among the burst's inflows its own way (``_episode_parts``), and the episode leaves the earmarking line
    # (its outflows, and of each inflow what that method's episodes took: ``marks_{hop}`` is one line per method)
    engine.create(f"collections_{hop}", _collections(hop, window))
    engine.create(f"episodes_{hop}", f"""
WITH taken AS ({_taken(f"forwarded_{hop}", f"collections_{hop}")}),
     ev AS (SELECT e.* FROM events_{hop} e
            LEFT JOIN taken u ON u.line_of = e.line_of AND u.account = e.account AND u.id = e.id
            WHERE u.id IS NULL AND NOT e.relation),
     numbered AS ({_bursts("SELECT * FROM ev")}),
     bursts AS (SELECT line_of, account, burst, MIN(stretch) AS stretch, SUM(cents) AS total, MIN(t) AS first_t
                FROM numbered WHERE kind = 1 GROUP BY line_of, account, burst),
     candidates AS (SELECT n.line_of, n.account, n.burst, n.id AS out_id, n.t, n.cents AS out_cents
                    FROM numbered n
                    JOIN bursts b ON b.line_of = n.line_of AND b.account = n.account AND b.burst = n.burst
                    WHERE n.kind = 0 AND n.burst > 0 AND n.t <= b.first_t + {window}),
     grouped AS ({_runs("SELECT * FROM candidates", "line_of, account, burst", "t, out_id")}),
     sized AS (SELECT g.*, g.t AS out_t, SUM(out_cents) OVER (PARTITION BY line_of, account, burst, run) AS run_cents,
                      MIN(t) OVER (PARTITION BY line_of, account, burst, run) AS run_t FROM grouped g),
     chosen AS (SELECT s.*, RANK() OVER (PARTITION BY line_of, account, burst ORDER BY run_cents DESC, run_t) AS pick
                FROM sized s),
     -- the bursts a run passes on: the last before it when that is at least the run's largest payment; else the
     -- latest earlier one of its stretch that is the whole run; else the latest earlier one that is at least the
     -- largest payment and half the run, with the bursts after it; always with the run inside their window
     needs AS (SELECT line_of, account, burst, MAX(out_cents) AS largest, MAX(run_cents) AS run_cents,
                      MAX(out_t) AS run_end
               FROM chosen WHERE pick = 1 GROUP BY line_of, account, burst),
     covers AS (SELECT n.line_of, n.account, n.burst, b.burst AS part, 2 * b.total >= n.run_cents AS half_run,
                       {_at_most("n.largest", "b.total")} AS covers_largest,
                       {_at_most("n.run_cents", "b.total")} AS covers_run
                FROM needs n
                JOIN bursts l ON l.line_of = n.line_of AND l.account = n.account AND l.burst = n.burst
                JOIN bursts b ON b.line_of = n.line_of AND b.account = n.account AND b.stretch = l.stretch
                 AND b.burst <= n.burst AND b.first_t >= n.run_end - {window}),
     passes AS (SELECT line_of, account, burst,
                       COALESCE(MAX(CASE WHEN part = burst AND covers_largest THEN part END),
                                MAX(CASE WHEN part < burst AND covers_run THEN part END),
                                MAX(CASE WHEN part < burst AND covers_largest AND half_run THEN part END))
                       AS first_burst,
                       COALESCE(MAX(CASE WHEN part = burst AND covers_largest THEN part END),
                                MAX(CASE WHEN part < burst AND covers_run THEN part END),
                                MAX(CASE WHEN part < burst AND covers_largest AND half_run THEN burst END))
                       AS last_burst
                FROM covers GROUP BY line_of, account, burst),
     members AS (SELECT p.line_of, p.account, p.burst, x.id AS source_id, x.t AS source_t, x.cents AS source_cents,
                        SUM(x.cents) OVER (PARTITION BY p.line_of, p.account, p.burst ORDER BY x.t, x.id
                                           ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS source_hi,
                        SUM(x.cents) OVER (PARTITION BY p.line_of, p.account, p.burst) AS total
                 FROM passes p JOIN numbered x ON x.line_of = p.line_of AND x.account = p.account
                  AND x.burst BETWEEN p.first_burst AND p.last_burst AND x.kind = 1),
     runs AS (SELECT c.*, b.total, SUM(c.out_cents) OVER (PARTITION BY c.line_of, c.account, c.burst
                                                          ORDER BY c.out_cents DESC, c.out_t, c.out_id
                                                          ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS reach
              FROM chosen c JOIN (SELECT DISTINCT line_of, account, burst, total FROM members) b
                ON b.line_of = c.line_of AND b.account = c.account AND b.burst = c.burst
              WHERE c.pick = 1),
     kept AS (SELECT r.*, SUM(r.out_cents) OVER (PARTITION BY r.line_of, r.account, r.burst) AS passed,
                     SUM(r.out_cents) OVER (PARTITION BY r.line_of, r.account, r.burst ORDER BY r.out_t, r.out_id
                                            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS out_hi
              FROM runs r
              WHERE {_at_most("r.reach", "r.total")})
SELECT k.line_of, k.account, k.burst, k.out_id, k.out_t, k.out_cents, k.out_hi, k.passed,
       m.source_id, m.source_t, m.source_cents, m.source_hi, m.total
FROM kept k JOIN members m ON m.line_of = k.line_of AND m.account = k.account AND m.burst = k.burst
WHERE 2 * k.passed >= k.total
UNION ALL
SELECT * FROM collections_{hop}""")
    # what each method's episodes took of their bursts (``parted_{hop}``): off that method's earmarking line
    engine.create(f"parted_{hop}", _episode_parts(hop, mirrors))
    # what each outflow passed on as it came, by each method of the conduit (``passed_{hop}``): the pairs' and the
    # episodes' parts (``earmark_{hop}`` adds what each method spent of the rest; ``rejudged`` follows the outflows)
    conduits = f"SELECT DISTINCT method, src FROM judged_{hop} WHERE conduit"
    engine.create(f"passed_{hop}", f"""
SELECT c.method, p.account, p.out_id, p.source_id, p.cents
FROM forwarded_{hop} p JOIN ({conduits}) c ON c.src = p.account{" AND c.method = p.line_of" if mirrors else ""}
UNION ALL
SELECT method, account, out_id, source_id, cents FROM parted_{hop}""")
    # the earmarking line, one per method that found the account a conduit (``line_of``): the events less the
    # pairs, the episodes' outflows, and what the method's episodes took of each inflow (each method takes a
    # burst's inflows in its own order)
    each = "" if mirrors else f" JOIN ({conduits}) m ON m.src = e.account"
    # what the line held when nothing came onto it or left it for longer than the window is the account's own by
    # then (no later outflow could pass it on): it leaves the line at once (``expired``, kind -1, just before the
    # next event), where it took a share of every later outflow by proportional and was spent first by first in
    # first out, and those parts, out of their window, went to the money line (c's fan-in collector P1675: what
    # was left of a friend's transfer it had passed on in March took 7.16 USD of April's forward, credited to its
    # salary)
    engine.create(f"marks_{hop}", f"""
WITH ev AS (SELECT e.line_of AS base, {"e.line_of" if mirrors else "m.method"} AS line_of, e.account, e.t, e.id,
                   e.cents, e.kind
            FROM events_{hop} e{each} WHERE NOT e.relation),
     line AS (SELECT i.line_of, i.account, i.t, 1 AS kind, i.id,
                     GREATEST(i.cents - COALESCE(p.cents, 0) - COALESCE(q.cents, 0), 0) AS cents
              FROM ev i LEFT JOIN forwarded_{hop} p
                ON p.line_of = i.base AND p.account = i.account AND p.source_id = i.id
              LEFT JOIN (SELECT method, account, source_id, SUM(cents) AS cents FROM parted_{hop}
                         GROUP BY method, account, source_id) q
                ON q.method = i.line_of AND q.account = i.account AND q.source_id = i.id
              WHERE i.kind = 1
              UNION ALL
              SELECT o.line_of, o.account, o.t, 0, o.id, o.cents
              FROM ev o LEFT JOIN forwarded_{hop} p
                ON p.line_of = o.base AND p.account = o.account AND p.out_id = o.id
              LEFT JOIN (SELECT DISTINCT line_of, account, out_id FROM episodes_{hop}) q
                ON q.line_of = o.base AND q.account = o.account AND q.out_id = o.id
              WHERE o.kind = 0 AND p.out_id IS NULL AND q.out_id IS NULL),
     gapped AS (SELECT l.*, CASE WHEN l.t - LAG(l.t) OVER (PARTITION BY line_of, account ORDER BY t, kind, id)
                                      > {window} THEN 1 ELSE 0 END AS gap
                FROM line l),
     stretches AS (SELECT g.*, SUM(gap) OVER (PARTITION BY line_of, account ORDER BY t, kind, id
                                              ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS stretch
                   FROM gapped g),
     balances AS (SELECT s.*, SUM(CASE WHEN kind = 1 THEN cents ELSE -cents END)
                                OVER (PARTITION BY line_of, account, stretch ORDER BY t, kind, id
                                      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS held
                  FROM stretches s),
     -- what a stretch left on the line: its inflows less its outflows, and the money paid beyond them
     kept AS (SELECT line_of, account, stretch,
                     SUM(CASE WHEN kind = 1 THEN cents ELSE -cents END) - LEAST(MIN(held), 0) AS cents
              FROM balances GROUP BY line_of, account, stretch),
     expired AS (SELECT k.line_of, k.account, MIN(s.t) - 1 AS t, -1 AS kind, '~expired' AS id, MAX(k.cents) AS cents
                 FROM kept k JOIN stretches s ON s.line_of = k.line_of AND s.account = k.account
                  AND s.stretch = k.stretch + 1
                 WHERE k.cents > 0 GROUP BY k.line_of, k.account, k.stretch)
SELECT d.*, COALESCE(LAG(d.deficit) OVER (PARTITION BY d.line_of, d.account ORDER BY d.seq), 0) AS deficit_before
FROM (SELECT c.*, GREATEST(MAX(c.cum_out - c.cum_in) OVER (PARTITION BY c.line_of, c.account ORDER BY c.seq
                           ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW), 0) AS deficit
      FROM (SELECT e.*, e.t AS first_t, 0 AS known, FALSE AS earned,
                   SUM(CASE WHEN kind = 1 THEN cents ELSE 0 END) OVER w AS cum_in,
                   SUM(CASE WHEN kind <> 1 THEN cents ELSE 0 END) OVER w AS cum_out,
                   ROW_NUMBER() OVER w AS seq
            FROM (SELECT line_of, account, t, kind, id, cents FROM line
                  UNION ALL SELECT line_of, account, t, kind, id, cents FROM expired) e
            WINDOW w AS (PARTITION BY line_of, account ORDER BY t, kind, id
                         ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)) c) d""")
    ctes, spent = _spend(methods)
    # each method spends the outflows of the accounts it found conduits; parts in whole cents, as
    # the money line counts (a part by lifo or proportional is a fraction of a cent), each the rounded running sum of
    # the outflow's parts less the previous row's (the same value, so they add up to the rounded total): rounded one
    # by one, an outflow's parts could add up to a cent or two more than it carried; rounded down, the fractions
    # left on the line made dozens of one-cent originators. A source's cents over its outflows never pass its own
    # (rounding favours a source at each outflow): the later outflows' shares are cut
    engine.create(f"earmark_{hop}", f"""
WITH line AS ({_lay_out(f"marks_{hop}", opening=False)}),
     traced AS (SELECT c.method, l.line_of, l.account AS src, l.id, CAST(l.cents AS DOUBLE) AS flow, l.pos, l.bal,
                       l.cents, l.lo, l.hi, l.t, l.first_t
                FROM line l JOIN (SELECT DISTINCT method, src FROM judged_{hop} WHERE conduit) c ON c.src = l.account
                  AND c.method = l.line_of
                WHERE l.kind = 0 AND l.cents > 0),
     {ctes.lstrip(',').strip() + ',' if ctes else ''}
     marked AS ({spent}),
     -- a run: passing outflows, each at most RUN_SECONDS after the one before with no inflow between (a
     -- forward paid in parts); the window of each is counted from the run's first
     numbered AS ({_runs(f"SELECT line_of, account, id, t, kind, seq, cents FROM marks_{hop}", "line_of, account",
                         "seq", "g.kind = 1")}),
     runs AS (SELECT line_of, account, id, cents, MIN(t) OVER (PARTITION BY line_of, account, run) AS run_t
              FROM numbered WHERE kind = 0),
     -- an outflow more than all the earmarkable money of its window (as a pair: by over half a percent and a cent)
     -- pays out more than it could pass on: the account's own spending, never earmarked (the method spends it)
     covered AS (SELECT r.line_of, r.account, r.id, r.run_t
                 FROM runs r LEFT JOIN marks_{hop} i ON i.line_of = r.line_of AND i.account = r.account AND i.kind = 1
                   AND i.t >= r.run_t - {window} AND i.t <= r.run_t
                 GROUP BY r.line_of, r.account, r.id, r.run_t, r.cents
                 HAVING {_at_most("r.cents", "COALESCE(SUM(i.cents), 0)")}),
     shares AS (
  SELECT m.method, m.account, m.out_id, m.out_t, m.source_id, i.cents AS source_cents,
         SUM(m.part) OVER (PARTITION BY m.method, m.account, m.out_id ORDER BY m.source_id
                           ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS run
  FROM marked m JOIN line i ON i.line_of = m.method AND i.account = m.account
    AND i.id = m.source_id AND i.kind = 1
  JOIN covered r ON r.line_of = m.method AND r.account = m.account AND r.id = m.out_id
  WHERE m.kind = 1 AND i.t >= r.run_t - {window}),
     rounded AS (
  SELECT s.*, CAST(ROUND(s.run) - COALESCE(ROUND(LAG(s.run) OVER (PARTITION BY s.method, s.account, s.out_id
                                                                   ORDER BY s.source_id)), 0) AS BIGINT) AS cents
  FROM shares s)
SELECT method, account, out_id, source_id, cents FROM (
  SELECT r.method, r.account, r.out_id, r.source_id,
         LEAST(r.cents, GREATEST(r.source_cents - COALESCE(SUM(r.cents) OVER (
           PARTITION BY r.method, r.account, r.source_id ORDER BY r.out_t, r.out_id
           ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0), 0)) AS cents
  FROM rounded r) e
WHERE cents >= 1
UNION ALL
SELECT method, account, out_id, source_id, cents FROM passed_{hop}""")


def _taken(*tables: str) -> str:
    """The query of the events (``line_of``, ``account``, ``id``) that the pairs or episodes ``tables`` already
    pass on: their inflows and their outflows."""
    return " UNION ALL ".join(f"SELECT line_of, account, source_id AS id FROM {t} UNION ALL "
                              f"SELECT line_of, account, out_id AS id FROM {t}" for t in tables)


def _bursts(rows: str) -> str:
    """The query of the events ``rows`` of earmarking lines numbered into bursts (``burst``: inflows with no passing
    outflow between them, each at most BURST_SECONDS after the one before; an outflow keeps the number of the burst
    before it) and stretches (``stretch``: the bursts no passing outflow separates)."""
    return f"""
SELECT s.*, SUM(start) OVER w AS burst, SUM(opens) OVER w AS stretch
FROM (SELECT r.*, CASE WHEN kind = 1 AND (LAG(kind) OVER w IS NULL OR LAG(kind) OVER w = 0
                                          OR t - LAG(t) OVER w > {BURST_SECONDS}) THEN 1 ELSE 0 END AS start,
             CASE WHEN kind = 1 AND COALESCE(LAG(kind) OVER w, 0) = 0 THEN 1 ELSE 0 END AS opens
      FROM ({rows}) r WINDOW w AS (PARTITION BY line_of, account ORDER BY t, kind, id)) s
WINDOW w AS (PARTITION BY line_of, account ORDER BY t, kind, id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"""


def _collections(hop: int, window: int) -> str:
    """The query of ``collections_{hop}``: the collections passed on, in the columns of ``episodes_{hop}``, found
    before the bursts (whose inflows and outflows they then are not).

    A collection: a run of passing outflows (each at most RUN_SECONDS after the one before, no earmarkable inflow
    between) of which at least one is traced, that is at least half and at most all (half a percent and a cent
    more) of the two or more earmarkable inflows of the window before it (none a pair's), when the passing
    outflows between the first of those inflows and the run, none of them traced, leave the line less than the
    run, and no burst of the window (``_bursts``) is all of the run (then the burst is what was passed on: a stack
    layer's transfers, not a friend's transfer before them). The run is those inflows passed on, each method
    sharing it among them as an episode's; the outflows between are the account's own spending, paid from its
    money line. An inflow in the window of two such runs is in neither."""
    return f"""
WITH used AS ({_taken(f"forwarded_{hop}")}),
     ev AS (SELECT e.line_of, e.account, e.t, e.id, e.cents, e.kind,
                   CASE WHEN f.id IS NULL THEN 0 ELSE 1 END AS traced FROM events_{hop} e
            LEFT JOIN used u ON u.line_of = e.line_of AND u.account = e.account AND u.id = e.id
            LEFT JOIN (SELECT DISTINCT id FROM frontier_{hop - 1}) f ON e.kind = 0 AND f.id = e.id
            WHERE u.id IS NULL AND NOT e.relation),
     numbered AS ({_runs("SELECT * FROM ev", "line_of, account", "t, kind, id", "g.kind = 1")}),
     runs AS (SELECT line_of, account, run, MIN(t) AS run_t, SUM(cents) AS run_cents
              FROM numbered WHERE kind = 0 GROUP BY line_of, account, run HAVING MAX(traced) = 1),
     pools AS (SELECT r.line_of, r.account, r.run, MAX(r.run_t) AS run_t, MAX(r.run_cents) AS run_cents,
                      SUM(i.cents) AS total, COUNT(*) AS inflows, MIN(i.t) AS first_t
               FROM runs r JOIN ev i ON i.line_of = r.line_of AND i.account = r.account AND i.kind = 1
                AND i.t >= r.run_t - {window} AND i.t < r.run_t
               GROUP BY r.line_of, r.account, r.run),
     bursts AS (SELECT line_of, account, burst, SUM(cents) AS total, MIN(t) AS first_t
                FROM ({_bursts("SELECT * FROM ev")}) b WHERE kind = 1 GROUP BY line_of, account, burst),
     -- the largest burst begun in the window (a pool whose inflows are all of bursts begun before it has none,
     -- and is no collection)
     biggest AS (SELECT p.line_of, p.account, p.run, MAX(b.total) AS total
                 FROM pools p JOIN bursts b ON b.line_of = p.line_of AND b.account = p.account
                  AND b.first_t >= p.run_t - {window} AND b.first_t < p.run_t
                 GROUP BY p.line_of, p.account, p.run),
     chosen AS (SELECT p.line_of, p.account, p.run, p.run_t, p.total
                FROM pools p LEFT JOIN ev o ON o.line_of = p.line_of AND o.account = p.account AND o.kind = 0
                 AND o.t >= p.first_t AND o.t < p.run_t
                JOIN biggest g ON g.line_of = p.line_of AND g.account = p.account AND g.run = p.run
                WHERE p.inflows >= 2 AND 2 * p.run_cents >= p.total AND {_at_most("p.run_cents", "p.total")}
                  AND NOT {_at_most("p.run_cents", "g.total")}
                GROUP BY p.line_of, p.account, p.run, p.run_t, p.run_cents, p.total, g.total
                HAVING NOT {_at_most("p.run_cents", "p.total - COALESCE(SUM(o.cents), 0)")}
                   AND COALESCE(MAX(o.traced), 0) = 0),
     members AS (SELECT c.line_of, c.account, c.run, i.id AS source_id, i.t AS source_t, i.cents AS source_cents,
                        SUM(i.cents) OVER (PARTITION BY c.line_of, c.account, c.run ORDER BY i.t, i.id
                                           ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS source_hi,
                        c.total, COUNT(*) OVER (PARTITION BY c.line_of, c.account, i.id) AS runs
                 FROM chosen c JOIN ev i ON i.line_of = c.line_of AND i.account = c.account AND i.kind = 1
                  AND i.t >= c.run_t - {window} AND i.t < c.run_t),
     alone AS (SELECT line_of, account, run FROM members GROUP BY line_of, account, run HAVING MAX(runs) = 1),
     outs AS (SELECT n.line_of, n.account, n.run, n.id AS out_id, n.t AS out_t, n.cents AS out_cents,
                     SUM(n.cents) OVER (PARTITION BY n.line_of, n.account, n.run ORDER BY n.t, n.id
                                        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS out_hi,
                     SUM(n.cents) OVER (PARTITION BY n.line_of, n.account, n.run) AS passed
              FROM numbered n JOIN alone a ON a.line_of = n.line_of AND a.account = n.account AND a.run = n.run
              WHERE n.kind = 0)
SELECT o.line_of, o.account, -o.run, o.out_id, o.out_t, o.out_cents, o.out_hi, o.passed,
       m.source_id, m.source_t, m.source_cents, m.source_hi, m.total
FROM outs o JOIN members m ON m.line_of = o.line_of AND m.account = o.account AND m.run = o.run"""


def _at_most(amount: str, of: str) -> str:
    """SQL: ``amount`` is at most ``of`` (both cents) with half a percent and a cent more (both sides are converted
    to USD at the analysis's rates), compared as whole doubles times whole numbers (exact to 2^53)."""
    return f"CAST({amount} AS DOUBLE) * 1000 <= CAST({of} AS DOUBLE) * {PAYOUT_HIGH * 1000:g} + 1000"


def _runs(rows: str, partition: str, order: str, breaks: str = "FALSE") -> str:
    """The query of ``rows`` (with a time ``t``) numbered into runs (``run``) within each ``partition``, in ``order``:
    a run starts where a row comes more than RUN_SECONDS after the one before, or where ``breaks`` holds."""
    return f"""
SELECT g.*, SUM(CASE WHEN {breaks} OR g.gap > {RUN_SECONDS} THEN 1 ELSE 0 END)
              OVER (PARTITION BY {partition} ORDER BY {order} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS run
FROM (SELECT r.*, r.t - LAG(r.t) OVER (PARTITION BY {partition} ORDER BY {order}) AS gap FROM ({rows}) r) g"""


def _episode_parts(hop: int, mirrors: bool) -> str:
    """The query of what each outflow of an episode (``episodes_{hop}``) carried of each inflow of its burst, by
    each method of the conduit: first in first out spends the burst's inflows in order, last in first out from the
    last, proportional gives each inflow its share of every outflow. What the outflows are over the burst (up to
    half a percent and a cent) is carried by the inflow spent last (by proportional, by each in its share) and
    pruned where it is followed, as for a pair.
    In whole cents as ``earmark_{hop}`` rounds them: each the rounded running sum of the outflow's parts less the
    previous (they add up to it), and a source's cents over the outflows never past its own and what the outflows
    are over the burst (the later outflows' parts are cut; what a source carries beyond its cents is pruned where
    it is followed)."""
    return f"""SELECT method, account, out_id, source_id, cents FROM (
  SELECT method, account, out_id, source_id,
         LEAST(cents, GREATEST(cap - COALESCE(SUM(cents) OVER (PARTITION BY method, account, source_id
                                                               ORDER BY out_t, out_id
                                                               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0),
                               0)) AS cents
  FROM (SELECT method, account, out_id, out_t, source_id, cap,
               CAST(ROUND(run) - COALESCE(ROUND(LAG(run) OVER (PARTITION BY method, account, out_id
                                                                ORDER BY source_id)), 0) AS BIGINT) AS cents
        FROM (SELECT method, account, out_id, out_t, source_id, cap,
                     SUM(part) OVER (PARTITION BY method, account, out_id ORDER BY source_id
                                     ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS run
              FROM (SELECT c.method, x.account, x.out_id, x.out_t, x.source_id,
                           x.source_cents + GREATEST(x.passed - x.total, 0) AS cap,
                     CASE c.method
                       WHEN 'proportional' THEN CAST(x.out_cents AS DOUBLE) * x.source_cents / x.total
                       ELSE CAST(GREATEST(LEAST(x.out_hi, CASE WHEN c.method = 'fifo' THEN x.top ELSE x.rtop END)
                                          - GREATEST(x.out_hi - x.out_cents,
                                                     CASE WHEN c.method = 'fifo' THEN x.source_hi - x.source_cents
                                                          ELSE x.total - x.source_hi END), 0) AS DOUBLE)
                     END AS part
              FROM (SELECT e.*,
                           CASE WHEN e.source_hi = e.total THEN GREATEST(e.total, e.passed) ELSE e.source_hi END AS top,
                           CASE WHEN e.source_hi = e.source_cents THEN GREATEST(e.total, e.passed)
                                ELSE e.total - e.source_hi + e.source_cents END AS rtop
                    FROM episodes_{hop} e) x
              JOIN (SELECT DISTINCT method, src FROM judged_{hop} WHERE conduit) c ON c.src = x.account
                {"AND c.method = x.line_of" if mirrors else ""}) p) r) q) capped
WHERE cents >= 1"""


def _spend(methods: Sequence[str]) -> tuple[str, str]:
    """The common table expressions to add after the ``WITH`` of ``line`` and ``traced``, and the
    query, of the part of each traced outflow's
    ``flow`` each source on its line paid, by the outflow's method.

    ``line``: line_of, account, id, t, kind, cents, pos, first_t, bal, lo, hi (``_lay_out``);
    ``traced``: method, line_of, src, id, flow, and the outflow's row of ``line`` (pos, bal, cents,
    lo, hi, t, first_t). Columns: method, account, out_id, out_t, first_t, source_id, kind, part.
    """
    ctes, branches = [], []
    if "fifo" in methods:
        # first in, first out: an outflow's interval on the out-line overlaps the sources it spent
        branches.append("""
SELECT o.method, o.src AS account, o.id AS out_id, o.t AS out_t, o.first_t, i.id AS source_id, i.kind,
       o.flow * CAST(LEAST(o.hi, i.hi) - GREATEST(o.lo, i.lo) AS DOUBLE) / (o.hi - o.lo) AS part
FROM traced o
JOIN line i ON i.line_of = o.line_of AND i.account = o.src AND i.kind > 0 AND i.lo < o.hi AND i.hi > o.lo
WHERE o.method = 'fifo'""")
    if "lifo" in methods:
        # last in, first out: the balance is a stack; a source's layer [bal - cents, bal] is spent by
        # the first outflow that takes the balance below it. The part of layer i that outflow o
        # spends is what of it is above o's balance after and at or under the lowest balance
        # between i and o (below that, a later outflow already spent it).
        branches.append("""
SELECT method, account, out_id, out_t, first_t, source_id, kind,
       flow * CAST(GREATEST(LEAST(bal, low) - GREATEST(bal - cents, out_bal), 0) AS DOUBLE) / out_cents AS part
FROM (SELECT o.method, o.src AS account, o.id AS out_id, o.t AS out_t, o.first_t, o.flow, o.bal AS out_bal,
             o.cents AS out_cents, e.id AS source_id, e.kind, e.bal, e.cents,
             MIN(e.bal) OVER (PARTITION BY o.method, o.src, o.id ORDER BY e.pos DESC
                              ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS low
      FROM traced o JOIN line e ON e.line_of = o.line_of AND e.account = o.src AND e.pos < o.pos
      WHERE o.method = 'lifo') w
WHERE kind > 0 AND LEAST(bal, low) > GREATEST(bal - cents, out_bal)""")
    if "proportional" in methods:
        # proportional (haircut): every outflow takes the same share of each source still in the
        # balance. A source's remainder before o is its amount times the product of (balance after /
        # balance before) over the outflows between; kept as a running sum of logarithms, reset
        # (a new segment) whenever an outflow empties the account
        ctes.append("""
     mix AS (SELECT m.*, SUM(CASE WHEN kind <= 0 AND bal = 0 THEN 1 ELSE 0 END) OVER w AS seg,
                    SUM(CASE WHEN kind = 0 AND bal > 0 THEN LN(CAST(bal AS DOUBLE) / (bal + cents)) ELSE 0 END)
                      OVER w AS logkeep
             FROM line m
             WINDOW w AS (PARTITION BY line_of, account ORDER BY pos
                          ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW))""")
        branches.append("""
SELECT o.method, o.src AS account, o.id AS out_id, o.t AS out_t, o.first_t, e.id AS source_id, e.kind,
       o.flow * e.cents * EXP(o.logkeep_before - e.logkeep) / (o.bal + o.cents) AS part
FROM (SELECT t.*, m.seg - CASE WHEN m.bal = 0 THEN 1 ELSE 0 END AS seg_before,
             m.logkeep - CASE WHEN m.bal > 0 THEN LN(CAST(m.bal AS DOUBLE) / (m.bal + m.cents)) ELSE 0 END
               AS logkeep_before
      FROM traced t JOIN mix m ON m.line_of = t.line_of AND m.account = t.src AND m.pos = t.pos
      WHERE t.method = 'proportional') o
JOIN mix e ON e.line_of = o.line_of AND e.account = o.src AND e.pos < o.pos AND e.kind > 0 AND e.seg = o.seg_before""")
    return "".join("," + c for c in ctes), "\nUNION ALL".join(branches)


def _totals(engine: AnalysisEngine) -> dict[str, dict[str, float]]:
    """Per method: the USD traced into the designated accounts, its payments, what was originated."""
    out: dict[str, dict[str, float]] = {}
    for row in engine.rows(f"""
SELECT f.method, f.traced, f.payments_in, COALESCE(o.originated, 0) AS originated
FROM (SELECT method, COALESCE({usd_sum('flow')}, 0) AS traced, COUNT(*) AS payments_in FROM frontier_0
      GROUP BY method) f
LEFT JOIN (SELECT method, {usd_sum('amount')} AS originated FROM trace_origins GROUP BY method) o
  ON o.method = f.method"""):
        totals = {k: float(row[k]) for k in ("traced", "payments_in", "originated")}
        # every traced dollar is credited to an originator or falls under the pruning floor
        totals["pruned"] = max(totals["traced"] - totals["originated"], 0.0)
        out[row["method"]] = totals
    return out
