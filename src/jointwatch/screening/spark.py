"""Screening on Apache Spark: the same engine, run on every core of a cluster.

A bank's customer base or a day of a country's travellers is millions of subjects, each
screened on its own: work that splits into partitions with nothing to share but the index.
The driver builds the screener's index once (or reads it from the index cache) and
broadcasts it, pickled; each executor's Python worker unpickles it once, the first time one
of its tasks needs it, and keeps the screener for every later partition
(``spark.python.worker.reuse``, Spark's default). Partitions are screened in parallel by the
very ``Screener`` the local run uses, with the member's decided false positives broadcast
too, so every answer is the local run's (tests/screening/test_spark.py compares them row for
row). Local mode (``local[N]``) runs on this machine's cores; a master URL (``spark://…``,
``yarn``, ``k8s://…``) on a cluster's, where the output must be on storage the executors
share (docs/screening.md, "On Spark").
"""

from __future__ import annotations

import gc
import os
import pickle
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from jointwatch.screening.config import ScoringConfig
from jointwatch.screening.index import ScreeningIndex
from jointwatch.screening.screener import Screener
from jointwatch.spark import spark_session

T = TypeVar("T")
R = TypeVar("R")
APP = "jointwatch-screening"
PARTITIONS_PER_CORE = 4       # small partitions keep every core busy to the end
# the screener each executor's Python worker holds, by the key of the SparkScreening that broadcast it
_EXECUTOR: dict[str, Screener] = {}


@dataclass(frozen=True)
class SparkSettings:
    """Where screening runs on Spark: ``master`` "local[2]" (default: every core of this
    machine), "spark://host:7077", "yarn" …; ``partitions`` how many pieces the subjects are cut
    into (default: four per core the session has); ``memory`` the driver's ("4g")."""

    master: str | None = None
    partitions: int | None = None
    memory: str | None = None


def _decided(decided: frozenset[tuple[str, str]]) -> Callable[[str, list[str], int | None], set[str]]:
    """The member's decided false positives as ``Screener`` asks for them (store.decided_false_positives)."""
    def suppressed(query_key: str, entity_ids: list[str], member_id: int | None) -> set[str]:
        if member_id is None:
            return set()
        return {e for e in entity_ids if (query_key, e) in decided}
    return suppressed


def executor_screener(key: str, index: Any, decided: Any, config: ScoringConfig) -> Screener:
    """The screener of this Python worker: the broadcast index unpickled the first time a task
    asks for it, then kept (and frozen out of the garbage collector's passes)."""
    held = _EXECUTOR.get(key)
    if held is None:
        _EXECUTOR.clear()
        built: ScreeningIndex = pickle.loads(index.value)  # noqa: S301 - pickled by our own driver
        held = _EXECUTOR[key] = Screener(built, config=config, false_positives=_decided(decided.value))
        gc.collect()
        gc.freeze()
    return held


class SparkScreening:
    """A Spark session holding one screener's index and one member's decisions, broadcast."""

    def __init__(self, screener: Screener, decided: frozenset[tuple[str, str]] = frozenset(),
                 settings: SparkSettings | None = None) -> None:
        self.settings = settings or SparkSettings()
        self.session = spark_session(APP, self.settings.master or "local[*]", memory=self.settings.memory)
        context = self.session.sparkContext
        self.config = screener.config
        self._index = context.broadcast(pickle.dumps(screener.index, protocol=pickle.HIGHEST_PROTOCOL))
        self._decided = context.broadcast(decided)
        self._key = uuid.uuid4().hex

    @property
    def cores(self) -> int:
        return int(self.session.sparkContext.defaultParallelism)

    def _rdd(self, items: list[T]) -> Any:
        slices = self.settings.partitions or PARTITIONS_PER_CORE * self.cores
        return self.session.sparkContext.parallelize(items, max(1, min(slices, len(items))))

    def _mapped(self, items: list[T], screen_one: Callable[[Screener, T], R]) -> Any:
        key, index, decided, config = self._key, self._index, self._decided, self.config

        def partition(rows: Iterable[T]) -> Iterator[R]:
            screener = executor_screener(key, index, decided, config)
            for row in rows:
                yield screen_one(screener, row)

        return self._rdd(items).mapPartitions(partition)

    def map(self, items: list[T], screen_one: Callable[[Screener, T], R]) -> list[R]:
        """``screen_one(screener, item)`` of every item, screened on the executors, in the items' order."""
        if not items:
            return []
        return list(self._mapped(items, screen_one).collect())

    def write_lines(self, items: list[T], screen_one: Callable[[Screener, T], str], output: Path) -> None:
        """``screen_one``'s line for every item appended to ``output`` in the items' order: the
        executors write their partitions beside it, then they are joined into it in order."""
        if not items:
            return
        parts = Path(tempfile.mkdtemp(prefix=f".{output.name}.", dir=output.parent))
        try:
            target = parts / "lines"
            self._mapped(items, screen_one).saveAsTextFile(str(target))
            with output.open("ab") as out:
                for part in sorted(target.glob("part-*")):
                    with part.open("rb") as handle:
                        shutil.copyfileobj(handle, out)
                out.flush()
                os.fsync(out.fileno())
        finally:
            shutil.rmtree(parts, ignore_errors=True)

    def write_parquet(self, items: list[T], screen_one: Callable[[Screener, T], dict[str, Any]], output: Path,
                      schema: str) -> None:
        """``screen_one``'s row for every item written by the executors as a Parquet dataset."""
        rows = self._mapped(items, screen_one)
        self.session.createDataFrame(rows, schema).write.mode("overwrite").parquet(str(output))
