"""Accounts ranked by suspicion: gradient boosting over the graph features (``features.py``).

The model is trained on labelled transactions — by default the AMLSim-family simulator's
configuration ``a`` (``laundering.py``), or a folder of the user's own (``transactions.parquet``
or ``.csv`` and a ``truth.json`` listing ``illicit_accounts``) — and scores the accounts of
another file. Each ranked account carries its score, its features and the typology rules that
flag it, so the analyst sees why it is high. scikit-learn's HistGradientBoostingClassifier is
the model (the optional ``ranking`` extra).
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from jointwatch.errors import InvalidInputError, MissingExtraError
from jointwatch.network.engines import AnalysisEngine, DuckDBEngine, EngineSettings
from jointwatch.network.features import FEATURES, account_features
from jointwatch.network.typologies import Finding, detect_all

INSTALL = "pip install 'jointwatch[ranking]'"
DEFAULT_TRAINING = "a"


@dataclass
class RankedAccount:
    rank: int
    account: str
    name: str | None
    country: str | None
    score: float                          # the model's probability that the account is illicit
    rules: list[str] = field(default_factory=list)   # typology rules that flag it
    features: dict[str, float] = field(default_factory=dict)


@dataclass
class RankingModel:
    """A fitted classifier and what it was trained on."""

    estimator: Any
    trained_on: str
    accounts: int
    illicit: int

    def scores(self, rows: list[dict[str, Any]]) -> list[float]:
        if not rows:
            return []
        with _one_thread():
            return [float(p) for p in self.estimator.predict_proba(_matrix(rows))[:, 1]]


def _one_thread() -> Any:
    """OpenMP limited to one thread: on a busy machine its spinning workers made a 1-second fit take 15-30."""
    from threadpoolctl import threadpool_limits  # noqa: PLC0415 - scikit-learn's own dependency

    return threadpool_limits(1)


def _matrix(rows: list[dict[str, Any]]) -> Any:
    import numpy as np  # noqa: PLC0415

    return np.array([[float(r[f] or 0.0) for f in FEATURES] for r in rows], dtype=float)


def _sklearn() -> Any:
    try:
        from sklearn.ensemble import HistGradientBoostingClassifier  # noqa: PLC0415
    except ImportError as exc:
        raise MissingExtraError(f"the ranking needs scikit-learn, jointwatch's optional 'ranking' extra: {INSTALL}") \
            from exc
    return HistGradientBoostingClassifier


def fit(rows: list[dict[str, Any]], illicit: set[str], trained_on: str, seed: int = 0) -> RankingModel:
    """Fit the model on accounts' features, ``illicit`` the positive class."""
    labels = [1 if r["account"] in illicit else 0 for r in rows]
    if not 0 < sum(labels) < len(labels):
        raise InvalidInputError(f"{trained_on}: training needs both illicit and other accounts "
                                f"({sum(labels)} of {len(labels)} labelled illicit)")
    model = _sklearn()(max_iter=200, learning_rate=0.1, max_leaf_nodes=15, l2_regularization=1.0,
                       random_state=seed)
    with _one_thread():
        model.fit(_matrix(rows), labels)
    return RankingModel(model, trained_on, len(rows), sum(labels))


def features_of(path: Path, engine: AnalysisEngine | None = None) -> tuple[list[dict[str, Any]], list[Finding]]:
    """Load a transaction file, run the typology rules and compute every account's features."""
    from jointwatch.network.quality import load_transactions  # noqa: PLC0415
    from jointwatch.network.schema import default_rates  # noqa: PLC0415

    own = engine is None
    eng = engine or DuckDBEngine(EngineSettings(threads=2))
    try:
        load_transactions(eng, path, default_rates())
        findings = detect_all(eng)
        return account_features(eng), findings
    finally:
        if own:
            eng.close()


def train_on_folder(folder: Path) -> RankingModel:
    """Train on a folder of labelled transactions: transactions.parquet (or .csv) and truth.json."""
    truth_path = folder / "truth.json"
    data = next((p for p in (folder / "transactions.parquet", folder / "transactions.csv") if p.exists()), None)
    if data is None or not truth_path.exists():
        raise InvalidInputError(f"{folder}: a training folder holds transactions.parquet (or .csv) and truth.json")
    try:
        illicit = set(json.loads(truth_path.read_text(encoding="utf-8"))["illicit_accounts"])
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidInputError(f"{truth_path}: a JSON object with an 'illicit_accounts' list is needed ({exc})") \
            from exc
    rows, _ = features_of(data)
    return fit(rows, illicit, str(folder))


@lru_cache(maxsize=4)
def train_on_configuration(name: str = DEFAULT_TRAINING) -> RankingModel:
    """Train on the AMLSim-family simulator's configuration ``name`` (generated in a temporary folder)."""
    from jointwatch.network.laundering import CONFIGURATIONS, simulate_laundering  # noqa: PLC0415

    if name not in CONFIGURATIONS:
        raise InvalidInputError(f"unknown simulator configuration {name!r}: choose one of {', '.join(CONFIGURATIONS)}")
    _sklearn()
    with tempfile.TemporaryDirectory(prefix="jointwatch-ranking-") as tmp:
        simulate_laundering(Path(tmp), CONFIGURATIONS[name])
        model = train_on_folder(Path(tmp))
    model.trained_on = f"simulator configuration {name}"
    return model


def rank_accounts(engine: AnalysisEngine, model: RankingModel, findings: list[Finding], top: int = 100,
                  rows: list[dict[str, Any]] | None = None) -> list[RankedAccount]:
    """The ``top`` accounts of table ``tx`` by the model's score (features computed unless given)."""
    rows = rows if rows is not None else account_features(engine)
    scores = model.scores(rows)
    order = sorted(range(len(rows)), key=lambda i: (-scores[i], rows[i]["account"]))[:top]
    chosen = [rows[i]["account"] for i in order]
    holders: dict[str, dict[str, Any]] = {}
    for start in range(0, len(chosen), 500):
        part = chosen[start:start + 500]
        quoted = ", ".join("'" + a.replace("'", "''") + "'" for a in part)
        if quoted:
            holders.update({r["account"]: r for r in engine.rows(
                f"SELECT account, name, country FROM accounts WHERE account IN ({quoted})")})
    rules: dict[str, set[str]] = {}
    for f in findings:
        for a in f.accounts:
            rules.setdefault(a, set()).add(f.typology)
    return [RankedAccount(n + 1, rows[i]["account"], holders.get(rows[i]["account"], {}).get("name"),
                          holders.get(rows[i]["account"], {}).get("country"), round(scores[i], 4),
                          sorted(rules.get(rows[i]["account"], set())),
                          {f: round(float(rows[i][f] or 0.0), 3) for f in FEATURES})
            for n, i in enumerate(order)]
