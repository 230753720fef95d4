"""Reach never leaves out a subject the screener alerts on, whatever the scoring config.

Reach (the bound delta re-screening relies on) is derived from the screener's own retrieval,
ceilings and qualifiers; these cases check it on real listed names: every (subject, entity)
the screener scores at the threshold or more, with the default config and with a changed
one, the bound keeps.
"""

from __future__ import annotations

import random

import pytest

from jointwatch.names import analyze_name
from jointwatch.screening import Query, Reach, ScoringConfig, Screener, Subject

CHANGED = ScoringConfig(threshold=0.5, evidence_scale=1.5, w_evidence=2.0, w_rarest=0.5, w_one_word=0.0,
                        w_weak_share=-1.0, birth_date_exact=2.5, birth_date_partial=1.0, country_match=0.6,
                        birth_date_mismatch=0.8)


def _queries(screener: Screener) -> list[Query]:
    rng = random.Random(14)
    entities = rng.sample(screener.index.entities, 150)
    out = []
    for i, e in enumerate(entities):
        words = e.caption.split()
        variants = [e.caption, " ".join(words[::-1])]
        if len(e.caption) > 6:
            variants.append(e.caption[:3] + e.caption[4:])       # a letter dropped
        if len(words) > 1:
            variants.append(f"{words[-1]} {rng.choice(['Smith', 'Ahmed', 'Kim', 'Garcia'])}")
        schema = e.schema if e.schema in ("Person", "Organization", "Vessel", "Airplane") else "LegalEntity"
        birth = e.birth_dates[0] if e.birth_dates and len(e.birth_dates[0]) in (4, 7, 10) and i % 2 else None
        if birth and i % 4 == 3 and birth[:4].isdigit():
            # a year or several off the listed one: scaled down, and pruned in numpy by may_reach
            birth = f"{int(birth[:4]) + (1 if i % 8 == 3 else -4)}{birth[4:]}"
        countries = tuple(sorted(e.countries))[:1] if i % 3 == 0 else ()
        out += [Query(v, schema=schema, birth_date=birth, countries=countries) for v in variants]
    return out


@pytest.mark.parametrize("config", [ScoringConfig(), CHANGED], ids=["default", "changed"])
def test_reach_keeps_every_subject_the_screener_alerts_on(screener: Screener, config: ScoringConfig) -> None:
    full = Screener(screener.index, config=config)
    queries = _queries(full)
    changed = screener.index.entities[::9]
    reach = Reach(full.subset(changed))
    changed_ids = {e.entity_id for e in changed}
    subjects = [Subject(q, analyze_name(q.name, q.schema).tokens) for q in queries]
    for threshold in (config.threshold, config.threshold + 0.1):
        kept = reach.may_reach(subjects, threshold).tolist()
        alerted = 0
        for subject, many in zip(subjects, kept, strict=True):
            hits = [m for m in full.screen(subject.query, threshold, limit=50) if m.entity_id in changed_ids]
            if hits:
                alerted += 1
                assert many, f"may_reach dropped {subject.query} (matches {hits[0].reference} at {hits[0].score})"
                assert reach.could_reach(subject, threshold) and reach.may_match(subject, threshold)
        # the bound is a bound, not a yes to everyone
        assert alerted > 20 and sum(kept) < len(subjects) * 0.9
