"""Learn the name score's model from the lists, and write it to resources/name_model.yml.

    python benchmarks/train_scoring.py [--db bench.db] [--cap 1500] [--innocents 8000] [--check]

Training pairs come from the lists themselves, built by ``evalsets.py``: a listed name
against another name of the same entity (held-out aliases, original script against Latin,
typos, longer and shorter forms) and the same person on another list, linked by a shared
passport or ID number (UN against OFAC), as positives; every other entity the index
retrieves for those queries, and everything retrieved for innocent persons, businesses and
persons screened as organisations, as negatives (hard negatives: they share words or
skeletons with the query). Only the DEV half is used to fit (split by entity: no entity's
names are on both sides); the TEST half gives the figures printed here and in
bench_screening.py.

Each query's candidates are aligned once by the engine itself (``compare_names``); a pair's
features are ``score.feature_vector``. The model is a logistic regression fitted with
scipy's L-BFGS-B under sign constraints (``config.MODEL_FEATURES``: more matching never
lowers the score, which the retrieval bounds rely on), with each entity scored by its best
name under the current coefficients (three rounds). The default threshold is the lowest
score at which at most ``--alert-rate`` (0.1%) of the dev businesses and persons screened as
organisations alert, and ``--innocent-alert-rate`` (0.5%) of the innocent persons, 30% of
whom are recombined from listed persons' given and family names (the hardest negatives).

Prints the coefficients, the log loss on both halves, the reliability table of the test
half (predicted vs observed share of true pairs per score bin) and the alert rates; writes
the YAML unless ``--check`` (then exits 1 if the written model differs from a refit).
"""

from __future__ import annotations

import argparse
import math
import pickle
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import yaml
from scipy.optimize import minimize

sys.path.insert(0, str(Path(__file__).resolve().parent))

import evalsets  # noqa: E402
from bench_screening import DEFAULT_DATA, load_store, progress  # noqa: E402

from jointwatch.names import analyze_name  # noqa: E402
from jointwatch.screening.compare import SimilarityCache  # noqa: E402
from jointwatch.screening.config import DEFAULT_SCORING, MODEL_FEATURES  # noqa: E402
from jointwatch.screening.index import ScreeningIndex  # noqa: E402
from jointwatch.screening.model import compatible  # noqa: E402
from jointwatch.screening.score import feature_vector  # noqa: E402
from jointwatch.screening.screener import CANDIDATES, compare_names  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
MODEL_FILE = REPO / "src/jointwatch/resources/name_model.yml"
NEGATIVES_PER_QUERY = 3     # hardest other entities kept per positive query
NEGATIVE_QUERY_WEIGHT = 50.0  # weight of an innocent query's best candidate (its alert decision)
L2 = 1e-5
ROUNDS = 3
BINS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


@dataclass
class Pair:
    """One query against one listed entity: the features of each of its retrieved names."""

    query: int
    label: int
    names: np.ndarray          # (names, features)


@dataclass
class QuerySet:
    set_name: str
    split: str
    pairs: list[Pair]
    negative: bool             # a query with no true entity


def collect(sets: dict[str, evalsets.EvalSet], listed_index: ScreeningIndex) -> list[QuerySet]:
    """Every query's retrieved entities with their names' features (both halves)."""
    out: list[QuerySet] = []
    indexes: dict[int, ScreeningIndex] = {}
    for name, evalset in sets.items():
        index = listed_index if evalset.entities is None else indexes.setdefault(
            id(evalset), ScreeningIndex(evalset.entities))
        for query in progress(evalset.queries, f"features {name}"):
            analyzed = analyze_name(query.name, query.schema)
            if not analyzed.tokens:
                continue
            person = query.schema == "Person"
            weights = index.weights_of(analyzed)
            cache = SimilarityCache(analyzed)
            per_entity: dict[int, list[list[float]]] = defaultdict(list)
            for cand in index.retrieve(analyzed, CANDIDATES, person):
                entity = index.entities[cand.entity_index]
                if not compatible(query.schema, entity.schema):
                    continue
                result = compare_names(analyzed, index.names[cand.name_index], weights,
                                       index.name_weights[cand.name_index], cache, person)
                if result.features.matched_words:
                    per_entity[cand.entity_index].append(feature_vector(result.features, DEFAULT_SCORING, person))
            accepted = {query.entity_id, *query.also} if query.entity_id else set()
            pairs = [Pair(len(out), int(index.entities[e].entity_id in accepted), np.asarray(v))
                     for e, v in per_entity.items()]
            out.append(QuerySet(name, query.split, pairs, not accepted))
    return out


def _best(pair: Pair, theta: np.ndarray) -> np.ndarray:
    logits = theta[0] + pair.names @ theta[1:]
    return pair.names[int(np.argmax(logits))]


def design(queries: list[QuerySet], split: str, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(features, labels, sample weights) of one half: each entity by its best name; per
    positive query its true entities and its hardest others; per negative query its hardest."""
    rows, labels, weights = [], [], []
    for q in queries:
        if q.split != split or not q.pairs:
            continue
        best = [(_best(p, theta), p.label) for p in q.pairs]
        best.sort(key=lambda r: -(theta[0] + r[0] @ theta[1:]))
        if q.negative:
            # an innocent alerts by its best candidate: that pair is the one the threshold must stay above
            kept, weight = best[:1], NEGATIVE_QUERY_WEIGHT
        else:
            kept, weight = [r for r in best if r[1]] + [r for r in best if not r[1]][:NEGATIVES_PER_QUERY], 1.0
        for x, y in kept:
            rows.append(x)
            labels.append(y)
            weights.append(weight)
    return np.asarray(rows), np.asarray(labels, dtype=np.float64), np.asarray(weights)


def fit(x: np.ndarray, y: np.ndarray, w: np.ndarray, start: np.ndarray,
        signs: tuple[int, ...] = tuple(s for _, s in MODEL_FEATURES)) -> np.ndarray:
    """Weighted logistic regression with L2 and sign bounds on the coefficients."""
    design_x = np.hstack([np.ones((len(x), 1)), x])

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        z = design_x @ theta
        p = 1 / (1 + np.exp(-z))
        value = np.sum(w * (np.logaddexp(0, z) - y * z)) / w.sum() + L2 * np.sum(theta[1:] ** 2)
        grad = design_x.T @ (w * (p - y)) / w.sum()
        grad[1:] += 2 * L2 * theta[1:]
        return float(value), grad

    bounds = [(None, None)] + [((0, None) if s > 0 else (None, 0) if s < 0 else (None, None)) for s in signs]
    return np.asarray(minimize(loss, start, jac=True, method="L-BFGS-B", bounds=bounds,
                               options={"maxiter": 20_000, "ftol": 1e-13, "gtol": 1e-9}).x)


def calibrate(queries: list[QuerySet], theta: np.ndarray) -> np.ndarray:
    """The fitted model rescaled (Platt) on the dev pairs unweighted, so that the score is the
    share of true pairs among pairs scored alike: the fit weighs innocents' best candidates up
    to rank well where alerts are decided, which leaves its raw output too low. A positive
    slope keeps the order, the signs and so the retrieval bounds."""
    x, y, _ = design(queries, "dev", theta)
    z = theta[0] + x @ theta[1:]
    a, b = fit(z[:, None], y, np.ones(len(y)), np.asarray([0.0, 1.0]), signs=(1,))
    b = max(b, 1e-6)
    return np.concatenate([[a + b * theta[0]], b * theta[1:]])


def log_loss(x: np.ndarray, y: np.ndarray, theta: np.ndarray) -> float:
    z = theta[0] + x @ theta[1:]
    return float(np.mean(np.logaddexp(0, z) - y * z))


def query_max(queries: list[QuerySet], split: str, set_name: str, theta: np.ndarray) -> list[float]:
    """Per query of a set and half, its highest score (the alert decision)."""
    out = []
    for q in queries:
        if q.split == split and q.set_name == set_name:
            scores = [1 / (1 + math.exp(-(theta[0] + float(np.max(p.names @ theta[1:]))))) for p in q.pairs]
            out.append(max(scores, default=0.0))
    return out


def positives_at(queries: list[QuerySet], split: str, set_name: str, theta: np.ndarray,
                 threshold: float) -> tuple[int, float, float]:
    """(queries, R@1, recall at the threshold) of a positive set's half, as bench_screening
    counts them (a tie at the top shared by k entities counts 1/k)."""
    credit, found, count = 0.0, 0, 0
    for q in queries:
        if q.split != split or q.set_name != set_name or q.negative:
            continue
        count += 1
        scores = [(theta[0] + float(np.max(p.names @ theta[1:])), p.label) for p in q.pairs]
        true = max((z for z, y in scores if y), default=-math.inf)
        best = max((z for z, _ in scores), default=-math.inf)
        if true > -math.inf and true >= best:
            top = [y for z, y in scores if z >= best]
            credit += sum(top) / len(top)
        found += true > -math.inf and 1 / (1 + math.exp(-true)) >= threshold
    return count, credit / max(count, 1), found / max(count, 1)


def threshold_for(maxima: list[float], rate: float) -> float:
    ordered = sorted(maxima, reverse=True)
    allowed = int(rate * len(ordered))
    return math.nextafter(ordered[allowed], math.inf) if allowed < len(ordered) else 0.0


def reliability(x: np.ndarray, y: np.ndarray, theta: np.ndarray) -> list[tuple[str, int, float, float]]:
    """(bin, pairs, mean predicted, observed share true) per score bin."""
    p = 1 / (1 + np.exp(-(theta[0] + x @ theta[1:])))
    out = []
    for low, high in zip(BINS, BINS[1:], strict=False):
        inside = (p >= low) & ((p < high) if high < 1 else (p <= high))
        if inside.any():
            out.append((f"{low:.1f}–{high:.1f}", int(inside.sum()), float(p[inside].mean()), float(y[inside].mean())))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="store to (re)use; default: a new one in a temp dir")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--cap", type=int, default=1500, help="queries per positive set")
    parser.add_argument("--innocents", type=int, default=8000)
    parser.add_argument("--negatives", type=int, default=4000, help="queries of each other negative set")
    parser.add_argument("--alert-rate", type=float, default=0.001,
                        help="the default threshold's most alerts in the dev half of the businesses and of the "
                             "persons screened as organisations")
    parser.add_argument("--innocent-alert-rate", type=float, default=0.005,
                        help="the same for the innocent persons (30%% of them recombined from listed name parts)")
    parser.add_argument("--check", action="store_true", help="refit and compare with the written model")
    parser.add_argument("--features", type=Path,
                        help="keep the aligned features in this file and reuse them (while changing the fit only)")
    args = parser.parse_args()
    started = time.perf_counter()
    if args.features and args.features.exists():
        queries = pickle.loads(args.features.read_bytes())  # noqa: S301 - our own file, written below
    else:
        with tempfile.TemporaryDirectory() as tmp:
            listed = load_store(args.db, args.data, Path(tmp))
        sets = evalsets.build_sets(listed, cap=args.cap, innocent_count=args.innocents,
                                   negative_count=args.negatives)
        queries = collect(sets, ScreeningIndex(listed))
        if args.features:
            args.features.write_bytes(pickle.dumps(queries))
    # a fixed start (not the shipped model), so that a refit gives the same weights
    theta = np.zeros(len(MODEL_FEATURES) + 1)
    for round_ in range(ROUNDS):
        x, y, w = design(queries, "dev", theta)
        theta = fit(x, y, w, theta)
        print(f"round {round_ + 1}: {len(y)} dev pairs ({int(y.sum())} true), log loss {log_loss(x, y, theta):.4f}",
              file=sys.stderr)
    theta = calibrate(queries, theta)
    x_dev, y_dev, _ = design(queries, "dev", theta)
    x_test, y_test, _ = design(queries, "test", theta)
    negatives = [evalsets.INNOCENTS, *evalsets.NEGATIVE_SETS]
    rates = {s: args.innocent_alert_rate if s == evalsets.INNOCENTS else args.alert_rate for s in negatives}
    # rounded up: a threshold written with four decimals must not let one more negative alert
    threshold = math.ceil(max(threshold_for(query_max(queries, "dev", s, theta), rates[s]) for s in negatives)
                          * 10_000) / 10_000

    print("| feature | weight | sign held |")
    print("|---|---:|---|")
    print(f"| intercept | {theta[0]:.4f} | |")
    for (name, sign), value in zip(MODEL_FEATURES, theta[1:], strict=True):
        print(f"| {name} | {value:.4f} | {'≥ 0' if sign > 0 else '≤ 0' if sign < 0 else 'free'} |")
    print(f"\nPairs: dev {len(y_dev)} ({int(y_dev.sum())} true), test {len(y_test)} ({int(y_test.sum())} true). "
          f"Log loss dev {log_loss(x_dev, y_dev, theta):.4f}, test {log_loss(x_test, y_test, theta):.4f}.\n")
    print("Reliability on the TEST half (each entity by its best name; per query its true entities and "
          f"its {NEGATIVES_PER_QUERY} hardest others):\n")
    print("| score | pairs | mean score | share true |")
    print("|---|---:|---:|---:|")
    for label, count, predicted, observed in reliability(x_test, y_test, theta):
        print(f"| {label} | {count} | {predicted:.3f} | {observed:.3f} |")
    print(f"\nDefault threshold {threshold} (at most {args.innocent_alert_rate:.1%} of the innocent persons' dev "
          f"queries alert, {args.alert_rate:.1%} of the other negative sets'). Alert rates at it:\n")
    print("| negative set | dev | test |")
    print("|---|---:|---:|")
    for s in negatives:
        dev, test = (query_max(queries, half, s, theta) for half in ("dev", "test"))
        print(f"| {s} | {np.mean(np.asarray(dev) >= threshold):.4f} | {np.mean(np.asarray(test) >= threshold):.4f} |")

    print("\n| positive set (test half) | queries | R@1 | recall at the default threshold |")
    print("|---|---:|---:|---:|")
    for s in evalsets.POSITIVE_SETS:
        count, r1, recall = positives_at(queries, "test", s, theta, threshold)
        print(f"| {s} | {count} | {r1:.3f} | {recall:.3f} |")

    model = {
        "intercept": round(float(theta[0]), 4),
        "threshold": threshold,
        "weights": {name: round(float(v), 4) for (name, _), v in zip(MODEL_FEATURES, theta[1:], strict=True)},
        "trained": {"by": "python benchmarks/train_scoring.py", "on": date.today().isoformat(),
                    "dev_pairs": len(y_dev), "dev_true_pairs": int(y_dev.sum()),
                    "test_log_loss": round(log_loss(x_test, y_test, theta), 4)},
    }
    if args.check:
        written = yaml.safe_load(MODEL_FILE.read_text(encoding="utf-8"))
        same = written["weights"] == model["weights"] and written["intercept"] == model["intercept"]
        print(f"\nwritten model {'matches' if same else 'DIFFERS FROM'} the refit", file=sys.stderr)
        return 0 if same else 1
    header = [line for line in MODEL_FILE.read_text(encoding="utf-8").splitlines() if line.startswith("#")]
    MODEL_FILE.write_text("\n".join(header) + "\n" + yaml.safe_dump(model, sort_keys=False, allow_unicode=True),
                          encoding="utf-8")
    print(f"\nwrote {MODEL_FILE.relative_to(REPO)} in {time.perf_counter() - started:.0f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
