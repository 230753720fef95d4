"""Tracing terrorist financing through transactions: who funded a designated group, from where, through whom.

    from jointwatch.network import TraceSettings, analyse
    result = analyse(Path("transactions.parquet"), ["ACC-123"], TraceSettings(hops=4))
    for c in result.trace.countries:
        print(c.country, c.amount, c.originators)

The analysis is SQL written once in DuckDB's dialect (``trace.py``, ``typologies.py``,
``quality.py``) and run by DuckDB (embedded default) or by Spark through sqlglot
(``engines.py``); the tests prove both give the same answers. The attribution rule is
stated in ``trace.py`` and docs/network.md.
"""

from jointwatch.network.analysis import Analysis, analyse
from jointwatch.network.designate import HolderMatch, account_ids, designated_accounts, screen_holders
from jointwatch.network.engines import (
    ENGINES,
    AnalysisEngine,
    DuckDBEngine,
    EngineSettings,
    SparkEngine,
    open_analysis_engine,
)
from jointwatch.network.features import FEATURES, account_features
from jointwatch.network.laundering import CONFIGURATIONS, TYPOLOGIES, LaunderingSettings, simulate_laundering
from jointwatch.network.quality import Issue, Quality, load_transactions, require_traceable
from jointwatch.network.ranking import (
    DEFAULT_TRAINING,
    RankedAccount,
    RankingModel,
    rank_accounts,
    train_on_configuration,
    train_on_folder,
)
from jointwatch.network.report import ROLE_COLOURS, flow_graph, world_map, write_report
from jointwatch.network.result import CountryTotal, Edge, Intermediary, Originator, TraceResult
from jointwatch.network.schema import (
    COLUMNS,
    METHOD_NAMES,
    METHODS,
    REQUIRED,
    TraceSettings,
    default_rates,
    method_label,
    read_rates,
)
from jointwatch.network.simulate import SimulationSettings, simulate
from jointwatch.network.typologies import DETECTORS, Finding, detect_all

__all__ = [
    "CONFIGURATIONS",
    "DEFAULT_TRAINING",
    "FEATURES",
    "TYPOLOGIES",
    "Analysis",
    "AnalysisEngine",
    "COLUMNS",
    "CountryTotal",
    "DETECTORS",
    "DuckDBEngine",
    "ENGINES",
    "Edge",
    "EngineSettings",
    "Finding",
    "HolderMatch",
    "Intermediary",
    "Issue",
    "LaunderingSettings",
    "METHODS",
    "METHOD_NAMES",
    "Originator",
    "Quality",
    "RankedAccount",
    "RankingModel",
    "REQUIRED",
    "ROLE_COLOURS",
    "SimulationSettings",
    "SparkEngine",
    "TraceResult",
    "TraceSettings",
    "account_features",
    "account_ids",
    "analyse",
    "default_rates",
    "method_label",
    "designated_accounts",
    "detect_all",
    "flow_graph",
    "load_transactions",
    "require_traceable",
    "open_analysis_engine",
    "rank_accounts",
    "read_rates",
    "screen_holders",
    "simulate",
    "simulate_laundering",
    "train_on_configuration",
    "train_on_folder",
    "world_map",
    "write_report",
]
