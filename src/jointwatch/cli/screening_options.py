"""What the commands that screen share: the list-age and engine options, and the screener of the
store's lists with the partner entries a member may see. Apart from cli/output.py so that the
commands that do not screen (`lists load`, …) never import the screening and sharing code."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.markup import escape

from jointwatch import settings
from jointwatch.cli.consoles import err_console
from jointwatch.cli.output import setting_option
from jointwatch.screening import (
    DEFAULT_MAX_LIST_AGE_DAYS,
    MAX_LIST_AGE_DAYS,
    ListPolicy,
    OnStale,
    Screener,
    SparkScreening,
    SparkSettings,
    open_screener,
)
from jointwatch.sharing import PartnerIndex, SharedScreener, official_screener
from jointwatch.store import member_false_positives

MaxListAgeOption = Annotated[float, setting_option(settings.MAX_LIST_AGE, min=0, max=MAX_LIST_AGE_DAYS,
                                                   metavar="DAYS")]
StaleListsOption = Annotated[OnStale, setting_option(settings.STALE_LISTS, case_sensitive=False)]


class ScreeningEngine(StrEnum):
    """Where subjects are screened: this process, or Apache Spark (local mode or a cluster)."""

    local = "local"
    spark = "spark"


ScreeningEngineOption = Annotated[ScreeningEngine, typer.Option(
    "--engine", "-e", case_sensitive=False,
    help="Where the subjects are screened: local (this process) or spark (Apache Spark, the index broadcast "
         "to its executors; needs the spark extra and Java 17+; official lists only).")]
ScreeningSparkMasterOption = Annotated[str | None, typer.Option(
    "--spark-master", help="With --engine spark: the master URL (spark://host:7077, yarn, k8s://…, local[2]). "
                           "Default local[*]: every core of this machine.")]


def spark_screening(engine: Any, screener: Screener, member_id: int | None, master: str | None) -> SparkScreening:
    """The official lists' screener on Spark, with the member's decided false positives (refused
    when partner entries are releasable to the member: Spark screens the official lists only)."""
    return SparkScreening(official_screener(screener, member_id), member_false_positives(engine, member_id),
                          SparkSettings(master=master))


def screener_for(engine: Any, threshold: float | None = None,
                 max_list_age: float = DEFAULT_MAX_LIST_AGE_DAYS,
                 stale_lists: OnStale = OnStale.refuse) -> Screener:
    """The screener of the store's newest lists and of the partner entries releasable to the
    member a command screens as (its ``member_id``), failing closed (exit 9) when the lists
    cannot be screened against; warnings about old lists go to stderr, where a person or a log
    sees them."""
    official = open_screener(engine, threshold, policy=ListPolicy(max_list_age, OnStale(stale_lists)))
    for warning in official.warnings:
        err_console.print(f"[bold yellow]warning:[/] {escape(warning)}", highlight=False)
    return SharedScreener(official, PartnerIndex(engine, official))
