"""Starting Apache Spark, one way for everything that runs on it: the network analysis
(``network``) and customer and traveller screening (``screening.spark``).

Local mode (``local[N]``: N cores of this machine) needs only pyspark and Java 17+; a cluster
is reached by its master URL (``spark://host:7077``, ``yarn``, ``k8s://…``), where the same
code runs on as many executors as it has. pyspark is the optional ``spark`` extra: without it
the caller gets ``MissingExtraError`` with the command that installs it.
"""

from __future__ import annotations

import sys
from typing import Any

from jointwatch.errors import MissingExtraError

INSTALL = "pip install 'jointwatch[spark]'"


def spark_session(app: str, master: str | None = None, threads: int | None = None, memory: str | None = None,
                  shuffle_partitions: int | None = None, temp_directory: str | None = None,
                  settings: dict[str, str] | None = None) -> Any:
    """A SparkSession named ``app`` on ``master`` (default ``local[threads or 2]``): UTC
    timestamps, no web UI or console progress bars, adaptive query execution, 8 shuffle
    partitions in local mode unless ``shuffle_partitions`` says (on a cluster, its own
    setting); ``memory`` is the driver's ("4g"), ``temp_directory`` where Spark spills. An
    existing session is reused (``getOrCreate``): one JVM per process."""
    try:
        from pyspark.sql import SparkSession  # noqa: PLC0415 - pyspark is the optional `spark` extra
    except ImportError as error:
        raise MissingExtraError(f"the spark engine needs pyspark, jointwatch's optional 'spark' extra: {INSTALL}"
                                ) from error
    master = master or f"local[{threads or 2}]"
    builder = (SparkSession.builder.appName(app).master(master)
               # timestamps are compared as epoch seconds: every engine must read them as UTC
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.adaptive.enabled", "true"))
    if shuffle_partitions or master.startswith("local"):
        # local mode: a few partitions per core; a cluster keeps its own setting (spark-defaults.conf)
        builder = builder.config("spark.sql.shuffle.partitions", str(shuffle_partitions or 8))
    if memory:
        builder = builder.config("spark.driver.memory", memory)
    if temp_directory:
        builder = builder.config("spark.local.dir", temp_directory)
    for key, value in (settings or {}).items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    if master.startswith("local"):
        # local mode's Python workers run this interpreter, whose environment holds jointwatch, not
        # whatever `python3` is first on PATH (a cluster's executors run the Python their settings name)
        session.sparkContext.pythonExec = sys.executable
    session.sparkContext.setLogLevel("ERROR")
    return session
