"""Reading a transaction file into the engine, checking every row, and saying what was wrong.

Nothing is dropped silently: a row that cannot be traced (no amount, negative amount,
unknown currency, bad timestamp, repeated id, self-transfer, missing account) is left out
of the trace and counted with examples; a row that can be traced but looks wrong
(timestamp earlier than the row before it, no holder name, no country) is kept and counted.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jointwatch.errors import InvalidInputError, MessageFormatError
from jointwatch.network.engines import EXTRA, AnalysisEngine, csv_header, open_csv_text
from jointwatch.network.schema import ACCOUNT_SEPARATOR_SQL, OPTIONAL, REQUIRED, file_format

EXAMPLES = 5
MAX_ROWS = 1_000_000_000

_PLAUSIBLE_TIME = "ts >= CAST('1900-01-01' AS TIMESTAMP) AND ts < CAST('2100-01-01' AS TIMESTAMP)"

# (kind, rule) in the order they are tested: a row is reported under its first problem
EXCLUDED: tuple[tuple[str, str, str], ...] = (
    # first: a value spilled into the next field (an unquoted comma in "1,000.00") shifts every later one
    ("extra_fields", "extra IS NOT NULL",
     "the row has more fields than the header (a comma in an unquoted value?), so its values may be shifted"),
    ("missing_id", "id IS NULL", "the id is empty"),
    ("duplicate_id", "dup_rank > 1", "the id was already used by an earlier row (the first row is kept)"),
    ("non_numeric_amount", "amt IS NULL", "the amount is empty or not a number"),
    ("non_positive_amount", "amt <= 0", "the amount is zero or negative"),
    # in USD too: a rate of --rates times an amount under 10^15 could pass what a BIGINT of cents holds
    ("implausible_amount", "NOT (amt < 1e15) OR amt * rate >= 1e15",
     "the amount is not finite, or it or its value in USD is 10^15 or more"),
    # outside 1900-2099 too: no payment file holds such dates, and DuckDB reads "infinity" as a time
    ("bad_timestamp", f"NOT COALESCE({_PLAUSIBLE_TIME}, FALSE)",
     "the timestamp is empty, not an ISO 8601 date-time, or not in 1900-2099"),
    ("unknown_currency", "rate IS NULL", "the currency has no conversion rate (see --rates)"),
    ("missing_account", "src IS NULL OR dst IS NULL", "the sender or receiver account is empty"),
    ("self_transfer", "src = dst", "sender and receiver are the same account: no money moves"),
    # the character a typology finding joins its accounts by: an id holding it would read as several accounts there,
    # and no account id holds a control character
    ("separator_in_account", f"src LIKE CONCAT('%', {ACCOUNT_SEPARATOR_SQL}, '%') "
                             f"OR dst LIKE CONCAT('%', {ACCOUNT_SEPARATOR_SQL}, '%')",
     "the sender or receiver account holds the control character U+001F (unit separator)"),
)
LATE = "out_of_order"   # found apart, by a running maximum in file order (``late_tx``)
KEPT: tuple[tuple[str, str, str], ...] = (
    (LATE, "late",
     "the timestamp is earlier than one on a row above it (kept; tracing sorts by time)"),
    ("no_holder", "NOT src_named OR NOT dst_named", "an account has no holder name (kept; not screened)"),
    ("no_country", "src_country IS NULL OR dst_country IS NULL",
     "a sender or receiver country is missing or not a 2-letter code (kept; counted under '??')"),
    ("bad_balance", "bad_bal",
     "a sender_balance or receiver_balance is not a number, or its value in USD is 10^15 or more (kept; that balance "
     "is not used)"),
)


@dataclass
class Issue:
    """One kind of bad input: how many rows, which rule, a few examples (with their row numbers)."""

    kind: str
    rule: str
    excluded: bool
    count: int
    examples: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Quality:
    """What the transaction file held and what was wrong with it."""

    path: str
    rows: int
    traced_rows: int
    issues: list[Issue]

    @property
    def excluded_rows(self) -> int:
        return self.rows - self.traced_rows


def load_transactions(engine: AnalysisEngine, path: Path, rates: dict[str, float]) -> Quality:
    """Load ``path`` as table ``tx`` (clean rows) and ``accounts`` (holders); report bad rows."""
    fmt = file_format(path)
    if fmt == "csv":
        _check_header(path)
    try:
        columns = engine.read_file("raw_tx", path, fmt)
    except Exception as error:  # noqa: BLE001 - engines raise their own types; name the file either way
        place, fault = _csv_fault(path) if fmt == "csv" else (None, None)
        raise MessageFormatError(path, place, fault or f"cannot read as {fmt} ("
                                 f"{str(error).splitlines()[0][:300]})") from None
    missing = [c for c in REQUIRED if c not in columns]
    if missing and fmt == "csv":
        # a quote left open makes DuckDB read the header as something else: say where the file breaks instead
        place, fault = _csv_fault(path)
        if fault:
            raise MessageFormatError(path, place, fault)
    if missing:
        raise MessageFormatError(path, "header", f"missing column(s) {', '.join(missing)}; "
                                 f"needs {', '.join(REQUIRED)} (see docs/network.md)")
    # repeated ids by aggregation (parallel), not by a window over every id; few rows, kept
    engine.create("dup_ids", f"""
SELECT {_text('id', columns)} AS dup_id, MIN(r._row) AS first_row FROM raw_tx r
GROUP BY {_text('id', columns)} HAVING COUNT(*) > 1""", distinct_keys=True)
    # the file is parsed once (its timestamps are the dear part): every later statement reads these rows
    engine.create("checked_tx", _checked_sql(columns, rates, fmt == "csv"), base=True)
    engine.create("late_tx", _late_sql())
    kinds = EXCLUDED + KEPT
    # one pass over the checked rows for every count but the rows out of order, which are counted where they are
    # kept: they may be most of a file (one written in parallel chunks), so they are never joined to every row
    counts = engine.rows(f"SELECT COUNT(*) AS rows_read, MIN(CASE WHEN broken THEN _row END) AS broken, "
                         f"{_count_columns()} FROM checked_tx")[0]
    if counts["broken"] is not None:
        # the rows after it were read into one value: refused, as nothing after that quote was read as rows
        place, fault = _csv_fault(path, field_counts=False) if fmt == "csv" else (None, None)
        raise MessageFormatError(path, place or f"row {int(counts['broken'])}", fault or
                                 "a value runs over several lines (a quote left open?): the rows after it were "
                                 "not read as rows")
    if int(counts["rows_read"]) >= MAX_ROWS:
        # a row number is kept in nine digits of a key (``accounts``): a larger file would mix up holders
        raise InvalidInputError(f"{path}: {int(counts['rows_read']):,} rows; at most {MAX_ROWS - 1:,} are read "
                                "in one analysis: split the file by period")
    counts[LATE] = engine.rows("SELECT COALESCE(SUM(late), 0) AS n FROM late_tx")[0]["n"]
    examples = {kind: _examples(engine, kind, rule) for kind, rule, _ in kinds if counts[kind]}
    issues = []
    for kind, rule, description in kinds:
        n = int(counts[kind] or 0)
        if n:
            issues.append(Issue(kind, description, (kind, rule, description) in EXCLUDED, n,
                                examples.get(kind, [])))
    # the rows the analysis reads, a narrow pass over the checked ones (Spark reads them there, each time)
    engine.create("tx", _clean_sql(), recompute=True)
    engine.create("account_keys", _account_keys_sql())
    engine.create("accounts", _accounts_sql(columns))
    return Quality(str(path), int(counts["rows_read"]), int(counts["rows_read"]) - sum(
        i.count for i in issues if i.excluded), issues)


def _check_header(path: Path) -> None:
    """MessageFormatError for a CSV header naming a column twice (the engines would rename one copy, ``amount_1``,
    and read the other, so which amount was traced would be theirs to choose) or naming a column the reading adds."""
    names = [name.strip().lower() for name in csv_header(path)]
    twice = sorted({name for name in names if name and names.count(name) > 1})
    if twice:
        raise MessageFormatError(path, "header", f"column(s) {', '.join(twice)} named more than once")
    reserved = sorted({"_row", EXTRA} & set(names))
    if reserved:
        raise MessageFormatError(path, "header", f"column(s) {', '.join(reserved)}: the names the reading gives "
                                 "each row's number and extra fields; rename them")


def _csv_fault(path: Path, field_counts: bool = True) -> tuple[str | None, str | None]:
    """Where a CSV the engine could not read first breaks the format (a quote left open, a record with more or
    fewer fields than the header), by Python's own CSV reader: DuckDB's error names no line. Read only after
    the engine failed. A quoted value over several lines is valid CSV, and not reported; without ``field_counts``
    only a break of the quoting is (a row with a field more is left out and reported apart, not the file's fault)."""
    try:
        with open_csv_text(path) as handle:
            reader = csv.reader(handle, strict=True)
            header = next(reader, [])
            start = reader.line_num + 1
            try:
                for record in reader:
                    if field_counts and len(record) != len(header):
                        return f"line {start}", f"{len(record)} fields where the header has {len(header)}"
                    start = reader.line_num + 1
            except csv.Error as exc:
                return f"line {start}", f"not valid CSV: {exc}"
    except (OSError, EOFError):
        pass
    return None, None


def require_traceable(quality: Quality) -> Quality:
    """``quality`` if any row of its file can be analysed; InvalidInputError naming the file otherwise (an empty
    file, or one whose every row was left out, must not read as "no finding")."""
    if quality.traced_rows == 0:
        why = ("it holds no transaction" if quality.rows == 0 else
               f"all {quality.rows:,} rows were left out ({', '.join(i.kind for i in quality.issues if i.excluded)})")
        raise InvalidInputError(f"{quality.path}: nothing to analyse: {why}; `jointwatch network check` shows "
                                "each problem with example rows")
    return quality


def _text(column: str, columns: list[str]) -> str:
    if column not in columns:
        return "CAST(NULL AS VARCHAR)"
    return f"NULLIF(TRIM(r.\"{column}\"), '')"


# a timestamp as UTC wall time: one with an offset (+05:00, Z) is moved to UTC, one without is taken as UTC
# (both engines run in UTC). A plain cast to TIMESTAMP dropped the offset: 10:00+05:00 and 10:00-05:00 were one time
TIMESTAMP_UTC = 'CAST(TRY_CAST(TRIM(r."timestamp") AS TIMESTAMPTZ) AS TIMESTAMP)'


def _checked_sql(columns: list[str], rates: dict[str, float], csv_file: bool) -> str:
    fx = ", ".join(f"('{code}', CAST({rate!r} AS DOUBLE))" for code, rate in sorted(rates.items())
                   if code.isalpha() and len(code) == 3)
    country = {side: _country(side, columns) for side in ("sender", "receiver")}
    problem = "CASE " + " ".join(f"WHEN {rule} THEN '{kind}'" for kind, rule, _ in EXCLUDED) + " END"
    broken = _line_break(columns) if csv_file else "FALSE"
    # kept: what the analysis reads. The text as written (for examples) and the holders' names and institutions
    # (for ``accounts``) are read again from the file for the few rows that need them: keeping them for every
    # row cost Spark more than those reads
    return f"""
SELECT _row, id, ts, t, amt, usd, src, dst, src_name IS NOT NULL AS src_named, dst_name IS NOT NULL AS dst_named,
       src_inst IS NOT NULL AS src_inst_given, dst_inst IS NOT NULL AS dst_inst_given, src_country, dst_country,
       channel, src_balance_usd, dst_balance_usd, problem, broken,
       (src_bal_text IS NOT NULL AND src_balance_usd IS NULL) OR (dst_bal_text IS NOT NULL AND dst_balance_usd IS NULL)
         AS bad_bal
FROM (
SELECT c.*, {problem} AS problem, CAST(EPOCH(ts) AS BIGINT) AS t, amt * rate AS usd,
       CASE WHEN ABS(src_bal * rate) < 1e15 THEN src_bal * rate END AS src_balance_usd,
       CASE WHEN ABS(dst_bal * rate) < 1e15 THEN dst_bal * rate END AS dst_balance_usd FROM (
  SELECT b.*, CASE WHEN b._row > d.first_row THEN 2 ELSE 1 END AS dup_rank
  FROM (
    SELECT r._row, NULLIF(r.{EXTRA}, '') AS extra, {broken} AS broken, {_text('id', columns)} AS id,
           TRY_CAST(TRIM(r.amount) AS DOUBLE) AS amt, {TIMESTAMP_UTC} AS ts,
           UPPER(TRIM(r.currency)) AS currency, fx.rate,
           {_text('sender_account', columns)} AS src, {_text('receiver_account', columns)} AS dst,
           {_text('sender_name', columns)} AS src_name, {_text('receiver_name', columns)} AS dst_name,
           {country['sender']} AS src_country, {country['receiver']} AS dst_country,
           {_text('sender_institution', columns)} AS src_inst, {_text('receiver_institution', columns)} AS dst_inst,
           LOWER({_text('channel', columns)}) AS channel,
           {_text('sender_balance', columns)} AS src_bal_text, {_text('receiver_balance', columns)} AS dst_bal_text,
           TRY_CAST({_text('sender_balance', columns)} AS DOUBLE) AS src_bal,
           TRY_CAST({_text('receiver_balance', columns)} AS DOUBLE) AS dst_bal
    FROM raw_tx r LEFT JOIN (SELECT * FROM (VALUES {fx}) AS v(code, rate)) fx ON fx.code = UPPER(TRIM(r.currency))
  ) b
  LEFT JOIN dup_ids d ON d.dup_id = b.id
) c) k"""


def _line_break(columns: list[str]) -> str:
    """True for a row with a value over several lines: read by DuckDB, only a quote left open gives one (a quoted
    value over lines is refused by its parallel reader), and that quote has run on over the rows after it."""
    breaks = " OR ".join(f"CONTAINS(r.\"{c}\", CHR(10)) OR CONTAINS(r.\"{c}\", CHR(13))" for c in [*columns, EXTRA])
    return f"COALESCE({breaks}, FALSE)"


def _country(side: str, columns: list[str]) -> str:
    """A sender or receiver country as the analysis reads it: a 2-letter code in lower case, else NULL."""
    text = _text(side + "_country", columns)
    return f"CASE WHEN LENGTH({text}) = 2 THEN LOWER({text}) END"


def _late_sql(block: int = 65536) -> str:
    # the rows whose timestamp is earlier than one above them: a running maximum in file order. Not
    # one window over every row (no engine can split that: Spark ran it in one partition), but one
    # per block of ``block`` rows, in parallel, beside the largest timestamp of the blocks before
    # (a running maximum over one row per block); narrow columns. Only what the report reads is kept: each block's
    # first EXAMPLES late rows that are not left out for another problem (those are reported as that), the first
    # with the block's count of them (``late``). A file written in parallel chunks may have most rows late, and
    # keeping them all cost Spark more than finding them (5 s for 7.5M of 10M rows)
    return f"""
WITH n AS (SELECT _row, CAST(FLOOR((_row - 1) / {block}) AS BIGINT) AS blk,
                  CASE WHEN {_PLAUSIBLE_TIME} THEN ts END AS ts, problem FROM checked_tx),
     b AS (SELECT blk, MAX(top) OVER (ORDER BY blk ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS before
           FROM (SELECT blk, MAX(ts) AS top FROM n GROUP BY blk) m)
SELECT _row, CASE WHEN k = 1 THEN late ELSE 0 END AS late FROM (
  SELECT l._row, ROW_NUMBER() OVER (PARTITION BY l.blk ORDER BY l._row) AS k, COUNT(*) OVER (PARTITION BY l.blk) AS late
  FROM (
    SELECT w._row, w.blk FROM (
      SELECT _row, blk, ts, problem,
             MAX(ts) OVER (PARTITION BY blk ORDER BY _row ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_ts
      FROM n
    ) w JOIN b ON b.blk = w.blk
    WHERE (w.ts < w.prev_ts OR w.ts < b.before) AND w.problem IS NULL) l) f
WHERE k <= {EXAMPLES}"""


def _count_columns() -> str:
    parts = [f"SUM(CASE WHEN problem = '{kind}' THEN 1 ELSE 0 END) AS {kind}" for kind, _, _ in EXCLUDED]
    parts += [f"SUM(CASE WHEN problem IS NULL AND ({rule}) THEN 1 ELSE 0 END) AS {kind}" for kind, rule, _ in KEPT
              if kind != LATE]
    return ", ".join(parts)


def _examples(engine: AnalysisEngine, kind: str, rule: str) -> list[dict[str, Any]]:
    """The first rows of a kind of problem, as the file wrote them (a top few, not a sort of every such row)."""
    if kind == LATE:
        first = [int(r["_row"]) for r in engine.rows(
            f"SELECT _row FROM late_tx ORDER BY _row LIMIT {EXAMPLES}")]
        where = f"_row IN ({', '.join(map(str, first)) or 'NULL'})"
    else:
        where = f"problem = '{kind}'" if kind in {k for k, _, _ in EXCLUDED} else f"problem IS NULL AND ({rule})"
    rows = engine.rows(f"""
SELECT c._row, c.id, r."timestamp" AS ts_text, r.amount AS amount_text, UPPER(TRIM(r.currency)) AS currency,
       c.src, c.dst
FROM (SELECT _row, id, src, dst FROM checked_tx WHERE {where} ORDER BY _row LIMIT {EXAMPLES}) c
JOIN raw_tx r ON r._row = c._row ORDER BY c._row""")
    for row in rows:
        row["row"] = int(row.pop("_row"))
    return rows


def _clean_sql() -> str:
    return """
SELECT id, ts, t, amt AS amount, usd, src, dst, src_named, dst_named, src_inst_given, dst_inst_given, src_country,
       dst_country, channel, _row, src_balance_usd, dst_balance_usd
FROM checked_tx WHERE problem IS NULL"""


def _account_keys_sql() -> str:
    # each account's latest row (by the key: named rows first, then time, then row; t < 4.1e9 and _row < 1e9
    # keep it inside a BIGINT) and the latest rows that give its country and its institution: an account's
    # details are the latest ones given, the name that of its latest transaction naming one. Plain maxima per
    # account (MAX_BY over text made Spark sort every side of every payment); the rows are read back after
    key = "CASE WHEN named THEN 4000000000000000000 ELSE 0 END + t * 1000000000 + _row"
    return f"""
SELECT account, MAX({key}) AS k_name, MAX(CASE WHEN country IS NOT NULL THEN {key} END) AS k_country,
       MAX(CASE WHEN inst_given THEN {key} END) AS k_inst, COUNT(*) AS appearances
FROM (SELECT src AS account, src_named AS named, src_country AS country, src_inst_given AS inst_given, t, _row FROM tx
      UNION ALL
      SELECT dst, dst_named, dst_country, dst_inst_given, t, _row FROM tx) s
GROUP BY account"""


def _accounts_sql(columns: list[str]) -> str:
    # the rows ``account_keys`` chose, read back from the file (the key's last nine digits are the row, counted
    # up from a negative key: a time before 1970), each for the field it was chosen for; an account whose rows
    # have no time keeps its place with no details
    row = "({k} % 1000000000 + 1000000000) % 1000000000"
    sender = f"{_text('sender_account', columns)} = p.account"
    value = (f"CASE p.field WHEN 0 THEN CASE WHEN {sender} THEN {_text('sender_name', columns)} "
             f"ELSE {_text('receiver_name', columns)} END "
             f"WHEN 1 THEN CASE WHEN {sender} THEN {_country('sender', columns)} "
             f"ELSE {_country('receiver', columns)} END "
             f"ELSE CASE WHEN {sender} THEN {_text('sender_institution', columns)} "
             f"ELSE {_text('receiver_institution', columns)} END END")
    return f"""
SELECT w.account, MAX(CASE WHEN f.field = 0 THEN f.value END) AS name,
       MAX(CASE WHEN f.field = 1 THEN f.value END) AS country,
       MAX(CASE WHEN f.field = 2 THEN f.value END) AS institution, w.appearances
FROM account_keys w
LEFT JOIN (
  SELECT p.account, p.field, {value} AS value
  FROM (SELECT account, 0 AS field, {row.format(k='k_name')} AS _row FROM account_keys WHERE k_name IS NOT NULL
        UNION ALL
        SELECT account, 1, {row.format(k='k_country')} FROM account_keys WHERE k_country IS NOT NULL
        UNION ALL
        SELECT account, 2, {row.format(k='k_inst')} FROM account_keys WHERE k_inst IS NOT NULL) p
  JOIN raw_tx r ON r._row = p._row
) f ON f.account = w.account
GROUP BY w.account, w.appearances"""


__all__ = ["EXCLUDED", "KEPT", "OPTIONAL", "Issue", "Quality", "load_transactions", "require_traceable"]
