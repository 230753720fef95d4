"""What the CLI prints when its output is not a terminal (a pipe, a file, a log), as CliRunner runs it.

No COLUMNS here: a pipe has no width, so nothing may be cut to 80 columns, ellipsised or
folded, and text from lists, files and the command line (names with "[...]") prints as given,
never read as rich markup.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from jointwatch.cli import app

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "lists"
UN = DATA / "un_consolidated_2026-02-27.xml"

pytestmark = pytest.mark.skipif(not UN.is_file(), reason=f"{UN} not found")

ENV = {"COLUMNS": None, "LINES": None, "JOINTWATCH_DB": None}
runner = CliRunner()


def jw(*args: object, env: dict[str, str | None] | None = None) -> Result:
    return runner.invoke(app, [str(a) for a in args], env={**ENV, **(env or {})}, catch_exceptions=False)


@pytest.fixture(scope="module")
def un_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    db = tmp_path_factory.mktemp("un") / "register.db"
    result = jw("lists", "load", UN, "--format", "un", "--db", db)
    assert result.exit_code == 0, result.output
    yield db


def _lines_with(text: str, needle: str) -> list[str]:
    return [line for line in text.splitlines() if needle in line]


def test_lists_show_prints_every_cell_in_full(un_db: Path) -> None:
    result = jw("lists", "show", "--db", un_db)
    assert result.exit_code == 0, result.output
    version = json.loads(jw("lists", "show", "--json", "--db", un_db).stdout)[0]
    row = _lines_with(result.stdout, version["version"])   # the whole label, e.g. 2026-02-27-66b392a4
    assert len(row) == 1
    for cell in ("un_sc", version["published"], "Organization 273, Person 730", "30,904", "1,003"):
        assert cell in row[0]
    assert "…" not in result.stdout


def test_entity_show_prints_each_statement_on_one_line(un_db: Path) -> None:
    result = jw("entity", "show", "QDi.354", "--db", un_db)
    assert result.exit_code == 0, result.output
    views = json.loads(jw("entity", "show", "QDi.354", "--json", "--db", un_db).stdout)
    values = [s["value"] for v in views for s in v["statements"] if "\n" not in s["value"]]
    assert max(len(v) for v in values) > 200            # the notes: longer than any terminal line
    for value in values:
        assert _lines_with(result.stdout, value), value


def test_error_message_keeps_a_long_url_whole(tmp_path: Path) -> None:
    url = ("ftp://lists.example.org/sanctions/financial-sanctions-files/"
           "consolidated-list-of-persons-groups-and-entities-with-financial-sanctions.xml")
    result = jw("lists", "update", "--source", "eu_fsf", "--db", tmp_path / "x.db",
                env={"JOINTWATCH_EU_FSF_URL": url, "JOINTWATCH_CACHE": str(tmp_path / "cache")})
    assert result.exit_code == 5, result.output
    assert _lines_with(result.stderr, url), result.stderr


def test_brackets_from_the_command_line_print_verbatim(un_db: Path) -> None:
    name = "TARAK BEN TAHER BEN FALEH OUNI HARZI [spark]"
    result = jw("screen", name, "--db", un_db)
    assert result.exit_code == 0, result.output
    assert f"Matches for {name}" in result.stdout
    name = "TARAK BEN TAHER BEN FALEH OUNI HARZI [bold]aka[/bold] [italic]Abu Omar[/]"
    result = jw("screen", name, "--db", un_db)
    assert result.exit_code == 0, result.output
    # the listed name with markup-like words around it still finds the listing (extra words cost
    # little), and the title prints the brackets as typed
    assert f"Matches for {name}" in result.stdout
    result = jw("screen", "Nobody [bold]at all[/bold]", "--db", un_db)
    assert result.exit_code == 0, result.output
    assert "No listed entity matches Nobody [bold]at all[/bold] at this threshold, in un_sc " in result.stdout
    result = jw("compare", "Ali [spark] Hassan", "Ali Hassan", "--db", un_db)
    assert result.exit_code == 0, result.output
    assert re.search(r"  Ali \[spark\] Hassan  ~  Ali Hassan$", result.stdout, re.M), result.stdout


def test_error_message_prints_brackets_verbatim(un_db: Path) -> None:
    result = jw("entity", "show", "QDi.354[red]x[/red]", "--db", un_db)
    assert result.exit_code == 6, result.output
    assert "QDi.354[red]x[/red]" in result.stderr
