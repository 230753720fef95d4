"""Choose the name-score constants and the default threshold on the DEV half of the evaluation sets.

    python benchmarks/tune_scoring.py [--db bench.db] [--cap 1500] [--innocents 8000]

Word alignments are computed once per (query, retrieved name); each candidate setting of
ScoringConfig then only re-scores those features. The objective is the mean, over the
positive sets, of recall at the threshold where 0.1% of dev innocents raise any alert.
Only dev queries are used here; bench_screening.py reports on the test half.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_screening import DEFAULT_DATA, load_store  # noqa: E402
from evalsets import build_sets  # noqa: E402

from jointwatch.names import analyze_name  # noqa: E402
from jointwatch.screening.compare import NameFeatures, SimilarityCache, align, name_features  # noqa: E402
from jointwatch.screening.config import DEFAULT_SCORING as PARAMS  # noqa: E402
from jointwatch.screening.config import ScoringConfig  # noqa: E402
from jointwatch.screening.index import ScreeningIndex  # noqa: E402
from jointwatch.screening.score import name_score  # noqa: E402


@dataclass
class QueryFeatures:
    set_name: str
    entity_ids: frozenset[str]                    # the listing sought and its copies (empty: innocent)
    person: bool
    candidates: list[tuple[str, NameFeatures]]   # (entity id, features) per retrieved name


def collect(index: ScreeningIndex, set_name: str, queries: list, limit: int = 200) -> list[QueryFeatures]:
    out = []
    for q in queries:
        analyzed = analyze_name(q.name, q.schema)
        if not analyzed.tokens:
            continue
        qw = index.weights_of(analyzed)
        cache = SimilarityCache(analyzed)
        feats = []
        for cand in index.retrieve(analyzed, limit):
            listed = index.names[cand.name_index]
            matches = align(analyzed, listed, cache)
            feats.append((index.entities[cand.entity_index].entity_id,
                          name_features(analyzed, listed, matches, qw, index.name_weights[cand.name_index],
                                        q.schema == "Person")))
        wanted = frozenset({q.entity_id, *q.also}) if q.entity_id else frozenset()
        out.append(QueryFeatures(set_name, wanted, q.schema == "Person", feats))
    return out


def best_by_entity(qf: QueryFeatures, p: ScoringConfig) -> dict[str, float]:
    best: dict[str, float] = {}
    for entity_id, f in qf.candidates:
        s = name_score(f, p, qf.person)
        if s > best.get(entity_id, -1.0):
            best[entity_id] = s
    return best


def evaluate(data: list[QueryFeatures], p: ScoringConfig, rate: float = 0.001) -> tuple[float, float, dict[str, float]]:
    innocent_max = sorted(max(best_by_entity(q, p).values(), default=0.0) for q in data if not q.entity_ids)
    k = min(len(innocent_max) - 1, int(len(innocent_max) * (1 - rate)))
    threshold = innocent_max[k] + 1e-6
    recall: dict[str, list[bool]] = defaultdict(list)
    for q in data:
        if q.entity_ids:
            best = best_by_entity(q, p)
            recall[q.set_name].append(max(best.get(e, 0.0) for e in q.entity_ids) >= threshold)
    per_set = {name: sum(v) / len(v) for name, v in recall.items()}
    return sum(per_set.values()) / len(per_set), threshold, per_set


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", help="a store to reuse (else a temporary one)")
    parser.add_argument("--cap", type=int, default=1500)
    parser.add_argument("--innocents", type=int, default=8000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        listed = load_store(args.db, DEFAULT_DATA, Path(tmp))
    sets = build_sets(listed, cap=args.cap, innocent_count=args.innocents)
    full = ScreeningIndex(listed)
    data: list[QueryFeatures] = []
    start = time.perf_counter()
    for name, evalset in sets.items():
        index = full if evalset.entities is None else ScreeningIndex(evalset.entities)
        data += collect(index, name, evalset.split("dev"))
    print(f"features of {len(data)} dev queries in {time.perf_counter() - start:.0f}s")
    recall, threshold, per_set = evaluate(data, PARAMS)
    print(f"current {PARAMS}: mean recall@0.1% {recall:.4f} threshold {threshold:.4f} {per_set}")
    results = []
    grid = itertools.product([0.7, 0.8, 0.9, 0.95, 1.0], [0.6, 0.9, 1.2, 1.6, 2.0, 3.0],
                             [0.0, 0.1, 0.2, 0.3, 0.4], [0.7])
    for share, scale, floor, one in grid:
        p = replace(PARAMS, query_share=share, evidence_scale=scale, evidence_floor=floor, one_word=one)
        results.append((*evaluate(data, p), p))
    results.sort(key=lambda r: -r[0])
    for recall, threshold, per_set, p in results[:8]:
        print(f"{recall:.4f} threshold {threshold:.4f} {per_set} {p}")
    for rate in (0.01, 0.001):
        recall, threshold, per_set = evaluate(data, results[0][3], rate)
        print(f"best at {rate:.1%} of innocents alerting: threshold {threshold:.4f} recall {per_set}")


if __name__ == "__main__":
    main()
