"""docs/scoring.md shows the scoring configuration as the code declares it."""

from __future__ import annotations

from dataclasses import fields

from jointwatch.screening import DEFAULT_SCORING, ScoringConfig
from jointwatch.screening.config import with_docs
from tests.conftest import REPO

PAGE = REPO / "docs" / "scoring.md"


def test_scoring_page_is_current() -> None:
    page = PAGE.read_text(encoding="utf-8")
    assert page == with_docs(page), "docs/scoring.md is out of date: run `python -m jointwatch.screening.config`"


def test_every_setting_is_described_and_linked_from_screening_page() -> None:
    for group, name, default, doc in ScoringConfig.rows():
        assert group and doc.strip() and getattr(DEFAULT_SCORING, name) == default, name
    assert [f.name for f in fields(ScoringConfig)] == [r[1] for r in ScoringConfig.rows()]
    assert "(scoring.md)" in (REPO / "docs" / "screening.md").read_text(encoding="utf-8")
