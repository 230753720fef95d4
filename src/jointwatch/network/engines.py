"""Where the SQL runs: DuckDB (embedded default) or Spark, behind one small interface.

Every statement of the analysis is written once, in DuckDB's dialect. The DuckDB engine runs
it as written; the Spark engine transpiles it with sqlglot to Spark SQL first. The only code
that differs per engine is here: opening a session, reading files, materialising a table
and writing one out.
"""

from __future__ import annotations

import csv
import gzip
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Protocol

from jointwatch.errors import InvalidInputError
from jointwatch.spark import spark_session

ENGINES = ("duckdb", "spark")
# the column every read CSV row gets beside its own: the first value past the header's last field, NULL when the
# row has no more fields than the header (an unquoted comma in an amount shifts every later value: such a row
# must be reported, not read with its extra value dropped); NULL for every Parquet row
EXTRA = "_extra"

# Spark in local mode (the driver runs every task). The JVM compiles as it normally does, quick
# compiler first and the optimising one for hot code: the quick compiler alone (-XX:TieredStopAtLevel=1)
# had cut the CPU seconds of 200,000 rows from 85 to 50, where compiling is most of the work, but at
# 10M rows, where running the compiled code is, it doubled them (562 CPU s against 282, 301 s against
# 185; docs/network.md, "Engines"). 256 MB for compiled code: the default cache filled in a 10M-row
# analysis (the JVM then stops compiling and interprets the rest). Shuffled and spilled blocks are
# not compressed (one machine: the blocks stay in its page cache, and compressing them was CPU on
# the critical path: 185 -> 149 s at 10M), nor are the kept tables' in-memory columns (at 1M rows
# the clean rows took 9 s instead of 14). A table up to 64 MB is broadcast: driver and executor are
# one process, so it is copied nowhere. On a cluster the driver and executors keep the cluster's
# settings
LOCAL_SETTINGS = {"spark.driver.extraJavaOptions": "-XX:+UseParallelGC -XX:ParallelGCThreads=2 "
                                                  "-XX:ReservedCodeCacheSize=256m",
                  "spark.sql.inMemoryColumnarStorage.compressed": "false",
                  "spark.shuffle.compress": "false", "spark.shuffle.spill.compress": "false",
                  "spark.sql.autoBroadcastJoinThreshold": str(64 << 20)}
# Spark: a table of at most this many rows is held in the driver too, in an embedded DuckDB, and a statement
# that reads only such tables runs there. A trace's hops are a few statements each over a few thousand rows (the
# payments of the hop), and a Spark job over those cost 0.5-1.5 s of stages and scheduling whatever their size
# (an embedded DuckDB: milliseconds): at 10M rows some 25 such statements were a third of Spark's trace. The
# statements over the transactions or a large table (the load, the regular income, each hop's pass over the
# payments) run on Spark as before; a held table a Spark statement reads is sent back (docs/network.md, "Engines")
DRIVER_ROWS = 100_000


@dataclass(frozen=True)
class EngineSettings:
    """How much of the machine an engine may use; None leaves the engine's own default."""

    memory_limit: str | None = None      # DuckDB: "4GB"; Spark: driver memory, "4g"
    threads: int | None = None           # DuckDB threads; Spark local[N] when master is None
    temp_directory: str | None = None    # DuckDB spill directory; Spark's spark.local.dir (where blocks spill)
    spark_master: str | None = None      # "local[2]", "spark://host:7077", "yarn" …
    shuffle_partitions: int | None = None
    driver_rows: int | None = None       # Spark: tables up to this many rows held and worked on in the driver
                                         # (``DRIVER_ROWS``; 0: every statement on Spark)


class AnalysisEngine(Protocol):
    """Runs the analysis SQL; tables it creates live for the engine's lifetime."""

    name: str

    def create(self, table: str, select_sql: str, *, recompute: bool = False, base: bool = False,
               distinct_keys: bool = False) -> None:
        """Materialise the result of ``select_sql`` (DuckDB dialect) as ``table``. With ``recompute``
        the engine may instead compute it again wherever it is read (a narrow pass over a table it
        keeps): Spark does, as storing the same rows twice costs it more. ``base`` marks the table every
        later statement reads, made from the file: its plan is short, so Spark keeps it without cutting it.
        ``distinct_keys`` says the statement groups by a key almost every row has alone (Spark then aggregates
        once, after the shuffle)."""

    def rows(self, select_sql: str) -> list[dict[str, Any]]:
        """The rows of a (small) query, as dicts."""

    def read_file(self, table: str, path: Path, fmt: str) -> list[str]:
        """Make ``table`` from a CSV or Parquet file, every column as text; return its columns."""

    def close(self) -> None: ...


class DuckDBEngine:
    """The embedded default: one in-process database, spilling to disk beyond its memory limit."""

    name = "duckdb"

    def __init__(self, settings: EngineSettings | None = None) -> None:
        import duckdb  # noqa: PLC0415 - only loaded when this engine is chosen

        settings = settings or EngineSettings()
        self._con = duckdb.connect(":memory:")
        # timestamps are read as UTC on every machine, as Spark's session does (quality.TIMESTAMP_UTC)
        self._con.execute("SET TimeZone = 'UTC'")
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        spill = settings.temp_directory
        if spill is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="jointwatch-duckdb-")
            spill = self._tmp.name
        self._con.execute(f"SET temp_directory = '{_quote(spill)}'")
        if settings.memory_limit:
            self._con.execute(f"SET memory_limit = '{_quote(settings.memory_limit)}'")
        if settings.threads:
            self._con.execute(f"SET threads = {int(settings.threads)}")

    def create(self, table: str, select_sql: str, *, recompute: bool = False, base: bool = False,
               distinct_keys: bool = False) -> None:
        self._con.execute(f"CREATE OR REPLACE TABLE {table} AS {select_sql}")

    def rows(self, select_sql: str) -> list[dict[str, Any]]:
        cursor = self._con.execute(select_sql)
        names = [d[0] for d in cursor.description]
        return [{n: _plain(v) for n, v in zip(names, row, strict=True)} for row in cursor.fetchall()]

    def read_file(self, table: str, path: Path, fmt: str) -> list[str]:
        source = _quote(str(path))
        if fmt == "csv":
            # the header's fields and one more: a row with more fields than its header fills the extra one, and is
            # reported, past the sniffer's sample too (the sniffer dropped such a value silently when it first met
            # it later in the file). Not strict: DuckDB's strict mode refused, or read as no rows, a file whose
            # line endings change part way (a CRLF export appended to an LF one); a quote left open, which then
            # runs on over the lines after it, is found by the checks (quality.py). Every value is text, checked by
            # the validation SQL; the file's line order is kept for the "out of order" check and for line numbers
            spec = ", ".join(f"'{_quote(name)}': 'VARCHAR'" for name in [*csv_header(path), EXTRA])
            relation = (f"read_csv('{source}', auto_detect = false, header = true, delim = ',', quote = '\"', "
                        f"escape = '\"', strict_mode = false, null_padding = true, columns = {{{spec}}})")
        elif path.is_file():
            # the row number as Parquet stores it: no window over every (wide) row
            relation = f"read_parquet('{source}', file_row_number = true)"
        else:
            relation = f"read_parquet('{source}/**/*.parquet')"
        columns = [d[0] for d in self._con.execute(f"SELECT * FROM {relation} LIMIT 0").description]
        numbered = "file_row_number" in columns
        extra = f'"{EXTRA}"' if fmt == "csv" else "CAST(NULL AS VARCHAR)"
        columns = [c for c in columns if c != "file_row_number" and not (fmt == "csv" and c == EXTRA)]
        text = ", ".join([f'CAST("{c}" AS VARCHAR) AS "{c.strip().lower()}"' for c in columns]
                         + [f'{extra} AS "{EXTRA}"'])
        row = "file_row_number + 1" if numbered else "row_number() OVER ()"
        # a view, not a table: the checks read the file once more instead of holding a text copy
        # of every row; row_number() OVER () follows the file order (insertion order is kept)
        self._con.execute(f"CREATE OR REPLACE VIEW {table} AS "
                          f"SELECT {text}, CAST({row} AS BIGINT) AS _row FROM {relation}")
        return [c.strip().lower() for c in columns]

    def close(self) -> None:
        self._con.close()
        if self._tmp is not None:
            self._tmp.cleanup()


class SparkEngine:
    """Apache Spark: local mode for tests and laptops, a cluster URL for national-scale data."""

    name = "spark"

    def __init__(self, settings: EngineSettings | None = None) -> None:
        import sqlglot  # noqa: PLC0415

        settings = settings or EngineSettings()
        self._sqlglot = sqlglot
        local = settings.spark_master is None or settings.spark_master.startswith("local")
        # in local mode the file is read in as many parts as the shuffles use (a few per core): Spark's default
        # split (128 MB, or the file over the cores) gave the 300 MB benchmark file 3 parts on 2 cores, and the
        # kept rows keep that split, so every pass over them ran its last part on one core while the other idled
        splits = {"spark.sql.files.minPartitionNum": str(settings.shuffle_partitions or 8)}
        self._spark = spark_session("jointwatch-network", settings.spark_master, settings.threads,
                                    settings.memory_limit, settings.shuffle_partitions, settings.temp_directory,
                                    {**LOCAL_SETTINGS, **splits} if local else None)
        # a local checkpoint keeps the constraints of the plan it came from, and Spark 4 fails to
        # rewrite those of a UNION ALL ("key not found"); the trace's SQL needs no inferred filters
        self._spark.conf.set("spark.sql.constraintPropagation.enabled", "false")
        # adaptive execution (Spark's default) on, whatever the cluster says: a kept table's checkpoint is dropped
        # once its cache is built (``_register``), and without it Spark 4 planned a later statement from the
        # tables' plans instead of their caches (the holders from the file again), which then needs the checkpoint
        self._spark.conf.set("spark.sql.adaptive.enabled", "true")
        self._frames: dict[str, Any] = {}
        self._sizes: dict[str, int] = {}   # the rows of each table Spark keeps (not the views, nor the base table)
        self._driver_rows = DRIVER_ROWS if settings.driver_rows is None else settings.driver_rows
        # the driver's DuckDB, opened when first used: the driver's memory limit, spilling where Spark does
        self._driver_settings = EngineSettings(memory_limit=settings.memory_limit, threads=settings.threads,
                                               temp_directory=settings.temp_directory)
        self._driver: DuckDBEngine | None = None
        self._held: set[str] = set()       # the tables it holds

    @property
    def session(self) -> Any:
        return self._spark

    def in_driver(self, table: str) -> bool:
        """Whether the driver holds ``table`` (made there, or copied there to be worked on); for profiles and tests."""
        return table in self._held

    def _inputs(self, duckdb_sql: str) -> tuple[str, set[str]]:
        """The Spark SQL text of a statement written in DuckDB's dialect, and the tables it reads."""
        tree = self._sqlglot.parse_one(duckdb_sql, read="duckdb")
        return tree.sql(dialect="spark"), _tables_read(tree)

    def _in_driver(self, tables: set[str]) -> bool:
        """Whether a statement reading ``tables`` runs in the driver: each is held there, or is a table Spark keeps
        of at most ``driver_rows`` rows (the views over the file and the base table never are)."""
        limit = self._driver_rows
        return limit > 0 and all(t in self._held or self._sizes.get(t, limit + 1) <= limit for t in tables)

    def _driver_engine(self) -> DuckDBEngine:
        """The driver's DuckDB, opened when first used."""
        if self._driver is None:
            self._driver = DuckDBEngine(self._driver_settings)
        return self._driver

    def _driver_con(self) -> Any:
        return self._driver_engine()._con  # noqa: SLF001 - this module's own engine

    def _hold(self, tables: set[str]) -> DuckDBEngine:
        """The driver's DuckDB, holding a copy of each of ``tables`` (small tables Spark keeps)."""
        import pyarrow as pa  # noqa: PLC0415 - only with Spark

        con = self._driver_con()
        for table in sorted(tables - self._held):
            arrow = self._frames[table].toArrow()
            # Spark's timestamps come as UTC instants; the analysis reads them as UTC wall times, as DuckDB's own
            columns = ", ".join(f'CAST("{f.name}" AS TIMESTAMP) AS "{f.name}"'
                                if pa.types.is_timestamp(f.type) and f.type.tz else f'"{f.name}"' for f in arrow.schema)
            con.register("_spark_copy", arrow)
            con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT {columns} FROM _spark_copy")
            con.unregister("_spark_copy")
            self._held.add(table)
        return self._driver_engine()

    def _send(self, tables: set[str]) -> None:
        """Give Spark each of ``tables`` that only the driver holds (a table a statement there made)."""
        from pyspark.sql import types as T  # noqa: N812, PLC0415

        for table in sorted(tables & self._held - set(self._frames)):
            con = self._driver_con()
            fields, values, columns = [], [], []
            for name, kind in ((d[0], str(d[1])) for d in con.execute(f"SELECT * FROM {table} LIMIT 0").description):
                spark_type, value, column = _spark_type(table, name, kind)
                fields.append(T.StructField(name, spark_type))
                values.append(value.format(f'"{name}"'))
                columns.append(f"{column.format(f'`{name}`')} AS `{name}`")
            data = con.execute(f"SELECT {', '.join(values)} FROM {table}").fetchall()
            # kept as a table, as Spark's own: its real size, so it is broadcast where it is joined to many rows
            frame = self._spark.createDataFrame(data, T.StructType(fields), verifySchema=False)
            frame = frame.selectExpr(*columns).cache()
            self._sizes[table] = frame.count()
            frame.createOrReplaceTempView(table)
            self._frames[table] = frame

    def _drop_from_spark(self, table: str) -> None:
        frame = self._frames.pop(table, None)
        self._sizes.pop(table, None)
        if frame is not None:
            self._spark.catalog.dropTempView(table)
            _release(frame)

    def _drop_from_driver(self, table: str) -> None:
        if table in self._held:
            self._driver_con().execute(f"DROP TABLE IF EXISTS {table}")
            self._held.discard(table)

    def _register(self, table: str, frame: Any, base: bool = False) -> None:
        # every table is a local checkpoint: its plan cut to a scan of rows the executors keep, so
        # hop N does not re-plan hops 1..N-1 (caching alone keeps every plan and runs the driver
        # out of memory over a few hops), and nothing is written to a shared file system. It is
        # cached as well, in one pass: a checkpoint's size estimate is its plan's (a join's is
        # the product of its sides), so no table would ever be broadcast and every join would
        # shuffle all the transactions; a cached table reports its real size, and the small ones
        # (each hop's payments, the designated accounts) are broadcast. Both keep memory, then
        # the executors' local disks.
        # The base table (the checked rows, read by every later statement) is cached only: its plan is a scan
        # of the file, nothing to cut, and a checkpoint beside the cache would hold the file's rows twice.
        # Once the cache is built, the checkpoint's own blocks go: they held every row again, as objects (4 times
        # the cache's columns, and the garbage collector's work); the cache is kept in memory or on disk, never
        # dropped, so it is not computed again (on a cluster a lost executor loses the checkpoint's blocks either way)
        frame = (frame if base else frame.localCheckpoint(eager=False)).cache()
        size = frame.count()
        _drop_checkpoint(frame)
        previous = self._frames.get(table)
        frame.createOrReplaceTempView(table)
        self._frames[table] = frame
        if base:
            self._sizes.pop(table, None)
        else:
            self._sizes[table] = size
        if previous is not None:
            _release(previous)

    def create(self, table: str, select_sql: str, *, recompute: bool = False, base: bool = False,
               distinct_keys: bool = False) -> None:
        spark_sql, tables = self._inputs(select_sql)
        if not (recompute or base) and self._in_driver(tables):
            self._hold(tables).create(table, select_sql)
            self._held.add(table)
            self._drop_from_spark(table)
            return
        self._send(tables)
        self._drop_from_driver(table)
        frame = self._spark.sql(spark_sql)
        if not recompute:
            # each row its own group: a partial aggregation before the shuffle would only copy the rows into a
            # hash table (Spark 4's bypassPartialAggregation; older versions ignore the setting). The table is
            # computed here, so the setting holds for this statement alone
            with self._setting("spark.sql.execution.bypassPartialAggregation", "true") if distinct_keys \
                    else nullcontext():
                self._register(table, frame, base)
            return
        # a view: the clean rows are a filter of the checked rows, which are kept; building their in-memory
        # columns again cost more CPU than the passes that read them
        frame.createOrReplaceTempView(table)
        previous = self._frames.get(table)
        self._frames[table] = frame
        self._sizes.pop(table, None)
        if previous is not None:
            _release(previous)

    @contextmanager
    def _setting(self, key: str, value: str) -> Iterator[None]:
        """``key`` set to ``value`` for the block, then put back as it was (a cluster's or a user's own)."""
        before = self._spark.conf.get(key, None)
        self._spark.conf.set(key, value)
        try:
            yield
        finally:
            if before is None:
                self._spark.conf.unset(key)
            else:
                self._spark.conf.set(key, before)

    def rows(self, select_sql: str) -> list[dict[str, Any]]:
        spark_sql, tables = self._inputs(select_sql)
        if self._in_driver(tables):
            return self._hold(tables).rows(select_sql)
        self._send(tables)
        return [{k: _plain(v) for k, v in row.asDict().items()} for row in self._spark.sql(spark_sql).collect()]

    def read_file(self, table: str, path: Path, fmt: str) -> list[str]:
        from pyspark.sql import functions as F  # noqa: N812, PLC0415
        from pyspark.sql.types import StringType, StructField, StructType  # noqa: PLC0415

        if fmt == "csv":
            # the header's fields and one more, as DuckDB's (``EXTRA``): a row with fewer or more fields than the
            # schema is malformed to Spark, which in PERMISSIVE mode keeps the values it has
            header = csv_header(path)
            schema = StructType([StructField(name, StringType()) for name in [*header, EXTRA]])
            frame = self._spark.read.csv(str(path), header=True, schema=schema, enforceSchema=True, quote='"',
                                         escape='"', mode="PERMISSIVE")
            extra, names = F.col(EXTRA), header
        else:
            frame = self._spark.read.parquet(str(path))
            extra, names = F.lit(None).cast("string"), frame.columns
        columns = [c.strip().lower() for c in names]
        text = [F.col(f"`{c}`").cast("string").alias(n) for c, n in zip(names, columns, strict=True)]
        text.append(extra.alias(EXTRA))
        if fmt != "csv" and path.is_file():
            # one Parquet file: the row number as the file stores it (Spark's row_index, as DuckDB's
            # file_row_number), with no pass to count the rows of each part and no join to number them;
            # asked of the file's metadata, never of a column of its own that a file may call _metadata
            index = frame.metadataColumn("_metadata").getField("row_index")
            numbered = frame.select(*text, (index + 1).cast("bigint").alias("_row"))
            numbered.createOrReplaceTempView(table)
            self._frames[table] = numbered
            return columns
        frame = frame.select(*text)
        # the row number in file order, without a window over every row (one partition): the id
        # Spark gives a row is its partition's index << 33 plus its place in the partition, and the
        # partitions of a file follow its order, so the row number is the rows of the partitions
        # before plus the place, plus one. The reading is deterministic, so like DuckDB's the
        # table is a view: the checks read the file again instead of keeping a text copy of it.
        mid = F.monotonically_increasing_id()
        part, place = F.shiftright(mid, 33), F.col("_mid").bitwiseAND((1 << 33) - 1)
        sizes = sorted((int(r[0]), int(r[1])) for r in frame.groupBy(part.alias("p")).count().collect())
        before, offsets = 0, []
        for index, count in sizes:
            offsets.append((index, before))
            before += count
        starts = self._spark.createDataFrame(offsets or [(0, 0)], "_part BIGINT, _before BIGINT")
        numbered = (frame.withColumn("_mid", mid).withColumn("_part", F.shiftright(F.col("_mid"), 33))
                    .join(F.broadcast(starts), "_part")
                    .withColumn("_row", (F.col("_before") + place + 1).cast("bigint"))
                    .drop("_mid", "_part", "_before"))
        numbered.createOrReplaceTempView(table)
        self._frames[table] = numbered
        return columns

    def close(self) -> None:
        for table, frame in self._frames.items():
            self._spark.catalog.dropTempView(table)
            _release(frame)
        self._frames.clear()
        self._sizes.clear()
        if self._driver is not None:
            self._driver.close()
            self._driver = None
        self._held.clear()


def _tables_read(tree: Any) -> set[str]:
    """The tables a parsed statement reads: each table it names but where a CTE of that name is in scope (the CTEs
    of an enclosing WITH; in a CTE's own body, the ones defined before it)."""
    from sqlglot import exp  # noqa: PLC0415

    read = set()
    for table in tree.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):   # a table function, e.g. range(…)
            continue
        child, node, shadowed = table, table.parent, False
        while node is not None and not shadowed:
            clause = node.args.get("with_") or node.args.get("with")
            if isinstance(node, exp.With):
                before = next(i for i, cte in enumerate(node.expressions) if cte is child)
                scope = node.expressions if node.args.get("recursive") else node.expressions[:before]
                shadowed = table.name in {cte.alias_or_name for cte in scope}
            elif isinstance(clause, exp.With) and child is not clause:
                shadowed = table.name in {cte.alias_or_name for cte in clause.expressions}
            child, node = node, node.parent
        if not shadowed:
            read.add(table.name)
    return read


def _spark_type(table: str, column: str, kind: str) -> tuple[Any, str, str]:
    """How a DuckDB column is sent to Spark: its Spark type as sent, how DuckDB reads its values and how Spark reads
    the column back (formats of the quoted name)."""
    from pyspark.sql import types as T  # noqa: N812, PLC0415

    plain = {"VARCHAR": T.StringType(), "BIGINT": T.LongType(), "INTEGER": T.IntegerType(),
             "SMALLINT": T.ShortType(), "DOUBLE": T.DoubleType(), "FLOAT": T.FloatType(),
             "BOOLEAN": T.BooleanType(), "DATE": T.DateType()}
    if kind in plain:
        return plain[kind], "{}", "{}"
    if kind == "HUGEINT":   # DuckDB's sum of integers; Spark's is a BIGINT, or a DECIMAL(38, 0) beyond it
        return T.DecimalType(38, 0), "CAST({} AS DECIMAL(38, 0))", "{}"
    if kind.startswith("DECIMAL("):
        precision, scale = (int(n) for n in kind[len("DECIMAL("):-1].split(","))
        return T.DecimalType(precision, scale), "{}", "{}"
    if kind == "TIMESTAMP":
        # a UTC wall time as microseconds since 1970: a Python datetime would be read in the process's own time zone
        return T.LongType(), "EPOCH_US({})", "TIMESTAMP_MICROS({})"
    raise TypeError(f"{table}.{column}: a {kind} column is not sent from the driver to Spark")


def _release(frame: Any) -> None:
    """Free the executors' blocks of a table (replaced or closed): its cache and its checkpoint."""
    frame.unpersist()
    _drop_checkpoint(frame)


def _drop_checkpoint(frame: Any) -> None:
    """Free the blocks of the local checkpoint ``frame`` reads, if it reads one."""
    plan = frame._jdf.queryExecution().analyzed()  # noqa: SLF001 - the checkpoint's RDD is only reachable here
    if plan.getClass().getSimpleName() == "LogicalRDD":
        plan.rdd().unpersist(False)


def _plain(value: Any) -> Any:
    """An engine's value as the analysis reads it: DECIMAL results (Spark's sums and averages) as float."""
    # the analysis speaks floats (US dollars to the cent) on both engines: a Decimal from one
    # engine only would give `--json` a different type per engine
    return float(value) if isinstance(value, Decimal) else value


def open_analysis_engine(name: str = "duckdb", settings: EngineSettings | None = None) -> AnalysisEngine:
    """An engine by name: ``duckdb`` (default) or ``spark`` (needs the ``spark`` extra and Java)."""
    if name == "duckdb":
        return DuckDBEngine(settings)
    if name == "spark":
        # without pyspark: not the input's fault (exit 7), an optional extra is missing (exit 10), with the
        # exact command that installs it, which the CLI prints verbatim
        return SparkEngine(settings)
    raise InvalidInputError(f"unknown engine {name!r}: choose one of {', '.join(ENGINES)}")


def open_csv_text(path: Path) -> IO[str]:
    """A CSV file as text for Python's CSV reader (a gzipped one unpacked), as the engines read it: UTF-8, a byte
    order mark dropped, an undecodable byte replaced."""
    if path.suffix.lower() == ".gz":
        return gzip.open(path, "rt", encoding="utf-8-sig", errors="replace", newline="")
    return path.open(encoding="utf-8-sig", errors="replace", newline="")


def csv_header(path: Path) -> list[str]:
    """The field names of a CSV file's first record, as written (a gzipped file's too); a file that cannot be
    opened or has no first line gives none, and the engine's own read then names the fault."""
    try:
        with open_csv_text(path) as handle:
            names = next(csv.reader([handle.readline()]), [])
    except (OSError, EOFError):
        return []
    # an unnamed field (a header ending in a comma) gets the name DuckDB's sniffer gives it
    return [name or f"column{index}" for index, name in enumerate(names)]


def _quote(text: str) -> str:
    return text.replace("'", "''")

