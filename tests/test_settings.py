"""The settings are declared once, documented, and the only way the code reads the environment."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from jointwatch import settings
from jointwatch.screening import ListPolicy
from jointwatch.screening.freshness import DEFAULT_MAX_LIST_AGE_DAYS, MAX_LIST_AGE_DAYS
from jointwatch.store.media_bank import DISPUTES_PER_DAY
from jointwatch.store.members import LOCAL_MEMBER

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src" / "jointwatch"
PAGE = REPO / "docs" / "settings.md"


def _source_files() -> list[Path]:
    return [p for p in SRC.rglob("*") if p.is_file() and "__pycache__" not in p.parts]


def test_docs_settings_page_is_current() -> None:
    page = PAGE.read_text(encoding="utf-8")
    assert page == settings.with_current_table(page), (
        "docs/settings.md is not current: run `python -m jointwatch.settings docs/settings.md`")


@pytest.mark.parametrize("setting", settings.SETTINGS, ids=lambda s: s.env)
def test_every_setting_is_described(setting: settings.Setting[object]) -> None:
    assert setting.description.strip() and "\n" not in setting.description, "one line, not empty"
    assert setting.description.endswith("."), "a sentence"
    assert setting.kind.strip() and setting.applies.strip()
    assert setting.env == settings.PREFIX + setting.name.upper()
    assert setting.flag is None or re.fullmatch(r"--[a-z0-9]+(-[a-z0-9]+)*", setting.flag)


def test_names_variables_and_flags_are_unique() -> None:
    for attribute in ("name", "env", "flag"):
        values = [getattr(s, attribute) for s in settings.SETTINGS if getattr(s, attribute)]
        assert len(values) == len(set(values)), attribute


def test_every_variable_the_code_names_is_declared() -> None:
    named = {(m, p.relative_to(SRC).as_posix()) for p in _source_files()
             for m in re.findall(r"JOINTWATCH_[A-Z0-9_]+", p.read_text(encoding="utf-8", errors="replace"))}
    undeclared = sorted((m, path) for m, path in named if m not in settings.BY_ENV)
    assert not undeclared, f"declare these in jointwatch/settings.py: {undeclared}"


def test_only_the_settings_module_reads_the_environment() -> None:
    readers = re.compile(r"os\.environ|getenv|\benvvar=")
    allowed = {"settings.py", "cli/output.py"}  # the declarations, and the one builder of Typer options
    found = sorted(p.relative_to(SRC).as_posix() for p in SRC.rglob("*.py")
                   if "__pycache__" not in p.parts and readers.search(p.read_text(encoding="utf-8")))
    assert [f for f in found if f not in allowed] == []


def test_declared_defaults_agree_with_their_domains() -> None:
    assert settings.MAX_LIST_AGE.default == DEFAULT_MAX_LIST_AGE_DAYS == ListPolicy().max_age_days
    assert f"at most {MAX_LIST_AGE_DAYS:.0f}." in settings.MAX_LIST_AGE.description
    assert settings.STALE_LISTS.default == ListPolicy().on_stale.value
    assert settings.MEDIA_DISPUTES_PER_DAY.default == DISPUTES_PER_DAY
    assert settings.MEMBER.default == LOCAL_MEMBER


def test_a_blank_variable_is_unset() -> None:
    assert settings.DB.read({"JOINTWATCH_DB": "  "}) is None
    assert settings.DB.read({"JOINTWATCH_DB": " x.db "}) == "x.db"
    assert settings.environment_value("JOINTWATCH_EU_FSF_URL", {"JOINTWATCH_EU_FSF_URL": ""}) is None
    assert settings.cache_dir({"JOINTWATCH_CACHE": " "}) == Path.home() / ".cache" / "jointwatch"
    assert settings.cache_dir({"JOINTWATCH_CACHE": "~/c"}) == Path.home() / "c"


def test_an_undeclared_variable_is_never_read() -> None:
    with pytest.raises(LookupError, match="JOINTWATCH_NOWHERE is not a declared setting"):
        settings.environment_value("JOINTWATCH_NOWHERE", {"JOINTWATCH_NOWHERE": "x"})


def test_the_table_lists_every_setting() -> None:
    table = settings.markdown_table()
    assert all(f"`{s.env}`" in table for s in settings.SETTINGS)
    assert "| `JOINTWATCH_MAX_BODY_BYTES` | `--max-body-bytes` | bytes | `1,000,000` | serve |" in table
