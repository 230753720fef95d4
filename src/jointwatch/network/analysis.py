"""One call from a transaction file to a finished trace: load, check, designate, trace, read out."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from jointwatch.errors import InvalidInputError
from jointwatch.network.designate import HolderMatch, screen_holders
from jointwatch.network.engines import AnalysisEngine, EngineSettings, open_analysis_engine
from jointwatch.network.quality import Quality, load_transactions, require_traceable
from jointwatch.network.result import TraceResult, apply_intervals, assemble, originated_by_account
from jointwatch.network.schema import METHOD_NAMES, METHODS, TraceSettings, default_rates
from jointwatch.network.trace import trace_methods


@dataclass
class Analysis:
    """A trace with everything it rests on: the input's quality, the designations, the timings."""

    source: str
    quality: Quality
    designated_given: list[str]
    holder_matches: list[HolderMatch]
    trace: TraceResult
    typologies: list[Any] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    ranking: list[Any] = field(default_factory=list)      # accounts by suspicion (network/ranking.py)
    ranking_model: str | None = None                      # what the ranking's model was trained on

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["trace"] = self.trace.to_dict()
        return out


def analyse(path: Path, designated: list[str], settings: TraceSettings | None = None, *,
            engine: AnalysisEngine | None = None, engine_name: str = "duckdb",
            engine_settings: EngineSettings | None = None,
            rates: dict[str, float] | None = None, screener: Any = None, screen_threshold: float | None = None,
            typologies: bool = False, ranking: bool = False, ranking_top: int = 100,
            step: Callable[[str], None] | None = None) -> Analysis:
    """Trace the funding of ``designated`` accounts (plus holders the screener matches) in ``path``."""
    settings = settings or TraceSettings()
    note = step or (lambda _label: None)
    own = engine is None
    eng = engine or open_analysis_engine(engine_name, engine_settings)
    seconds: dict[str, float] = {}
    try:
        started = time.perf_counter()
        note("loading and checking transactions")
        quality = require_traceable(load_transactions(eng, path, rates or default_rates()))
        seconds["load"] = time.perf_counter() - started
        matches: list[HolderMatch] = []
        if screener is not None:
            note("screening account holders against the register")
            mark = time.perf_counter()
            matches = screen_holders(eng, screener, screen_threshold)
            seconds["screen"] = time.perf_counter() - mark
        targets = sorted(set(designated) | {m.account for m in matches})
        if not targets:
            raise InvalidInputError("nothing to trace: give --designated accounts, or --screen with a register "
                             "whose listed names match account holders")
        known = {r["account"] for r in eng.rows("SELECT account FROM accounts WHERE account IN ("
                                                 + ", ".join("'" + a.replace("'", "''") + "'" for a in targets)
                                                 + ")")}
        unknown = [a for a in targets if a not in known]
        if len(unknown) == len(targets):
            raise InvalidInputError(f"{path}: none of the designated accounts occurs in the transactions "
                             f"(e.g. {', '.join(unknown[:3])})")
        # only accounts in the data are traced, and counted as reached
        targets = [a for a in targets if a in known]
        mark = time.perf_counter()
        # with intervals, every method in one pass (one set of tables with a method column): the
        # chosen method's figures, and the others' for the lowest and highest
        methods = [settings.method, *(m for m in METHODS if m != settings.method and settings.intervals)]
        note(f"tracing {settings.hops} hops upstream of {len(targets)} designated accounts "
             f"({', '.join(METHOD_NAMES[m] for m in methods)})")
        traced = trace_methods(eng, targets, settings, methods)
        others = {m: originated_by_account(eng, traced[m], settings.min_amount) for m in methods[1:]}
        result = assemble(eng, traced[settings.method], targets, settings)
        apply_intervals(result, others)
        result.totals["designated_not_in_data"] = float(len(unknown))
        seconds["trace"] = time.perf_counter() - mark
        found: list[Any] = []
        if typologies or ranking:
            from jointwatch.network.typologies import detect_all  # noqa: PLC0415

            note("running typology detectors")
            mark = time.perf_counter()
            found = detect_all(eng)
            seconds["typologies"] = time.perf_counter() - mark
        ranked: list[Any] = []
        trained_on = None
        if ranking:
            from jointwatch.network.ranking import rank_accounts, train_on_configuration  # noqa: PLC0415

            note("ranking accounts by suspicion (training the model on the simulator)")
            mark = time.perf_counter()
            model = train_on_configuration()
            ranked = rank_accounts(eng, model, found, ranking_top)
            trained_on = model.trained_on
            seconds["ranking"] = time.perf_counter() - mark
        seconds["total"] = time.perf_counter() - started
        return Analysis(str(path), quality, sorted(set(designated)), matches, result, found if typologies else [],
                        {k: round(v, 3) for k, v in seconds.items()}, ranked, trained_on)
    finally:
        if own:
            eng.close()
