"""`jointwatch` imports only what the command it runs uses (jointwatch.cli.LazyGroup).

Each test runs the real `jointwatch` entry point in a fresh interpreter and reads which modules
it had imported when it ended: `jointwatch --help` imports no command module and none of the
libraries under them; `jointwatch lists load` imports the list parsers and the store, and not
the service, screening, sharing, network, media, payments or travel code nor their libraries.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import LISTS

UN = LISTS / "un_consolidated_2026-02-27.xml"
# ours that no load needs, and the libraries under the other commands (httpx: downloads only)
NOT_FOR_LOADING = {
    "jointwatch.api", "jointwatch.web", "jointwatch.screening", "jointwatch.sharing", "jointwatch.network",
    "jointwatch.media", "jointwatch.payments", "jointwatch.travel", "jointwatch.names",
    "jointwatch.cli.screen", "jointwatch.cli.serve", "jointwatch.cli.network", "jointwatch.cli.media",
    "fastapi", "uvicorn", "starlette", "pandas", "duckdb", "pyspark", "sklearn", "numpy", "PIL", "cv2",
    "stix2", "taxii2client", "cryptography", "rapidfuzz", "httpx",
}
# the program's help needs Typer and the summaries only
NOT_FOR_HELP = NOT_FOR_LOADING | {"jointwatch.store", "jointwatch.sources", "jointwatch.cli.lists",
                                  "jointwatch.cli.output", "followthemoney", "sqlalchemy", "lxml"}

# runs `jointwatch ARGS`, then writes the names of the modules it imported to the file $1
RUN = ("import atexit, json, sys; out = sys.argv.pop(1); "
       "atexit.register(lambda: open(out, 'w').write(json.dumps(sorted(sys.modules)))); "
       "sys.argv[0] = 'jointwatch'; from jointwatch.cli import main; main()")


def imported_by(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run `jointwatch ARGS` in a fresh interpreter: its result and every module it imported."""
    modules = tmp_path / "modules.json"
    result = subprocess.run([sys.executable, "-c", RUN, str(modules), *args], capture_output=True, text=True,
                            timeout=120, check=False, cwd=tmp_path, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
                                                                       "COLUMNS": "100"})
    return result, set(json.loads(modules.read_text(encoding="utf-8")))


def loaded(modules: set[str], packages: set[str]) -> list[str]:
    """The modules of these packages (each package or any of its submodules) that were imported."""
    return sorted(m for m in modules if m in packages or any(m.startswith(p + ".") for p in packages))


def test_help_imports_no_command_module(tmp_path: Path) -> None:
    result, modules = imported_by(tmp_path, "--help")
    assert result.returncode == 0, result.stderr
    assert "lists" in result.stdout and "Load official and partner lists" in result.stdout
    assert loaded(modules, NOT_FOR_HELP) == []
    assert [m for m in modules if m.startswith("jointwatch.cli.")] == ["jointwatch.cli.summaries"]


def test_lists_load_imports_only_the_parsers_and_the_store(tmp_path: Path) -> None:
    result, modules = imported_by(tmp_path, "lists", "load", str(UN), "-f", "un", "--db", str(tmp_path / "s.db"))
    assert result.returncode == 0, result.stderr
    assert "loaded" in result.stdout and "1,003 entities" in result.stdout
    assert {"jointwatch.cli.lists", "jointwatch.sources.un", "jointwatch.store.load"} <= modules
    assert loaded(modules, NOT_FOR_LOADING) == []


def test_a_command_still_reaches_the_module_it_needs(tmp_path: Path) -> None:
    """What the summaries hide from the help is there when run: `screen` imports screening."""
    result, modules = imported_by(tmp_path, "screen", "Someone", "--db", str(tmp_path / "none.db"))
    assert result.returncode == 4, result.stderr  # no store there: refused, not created
    assert "no store at" in result.stderr
    assert "jointwatch.cli.screen" in modules and "jointwatch.screening" in modules


def test_screening_from_the_built_index_never_loads_followthemoneys_model(tmp_path: Path) -> None:
    # FollowTheMoney's model (some 70 YAML files) took about half a second of every command that imported the store;
    # a name screened once the index is built makes no entity, so a border officer's `jointwatch screen` skips it
    store = str(tmp_path / "s.db")
    result, modules = imported_by(tmp_path, "lists", "load", str(UN), "-f", "un", "--db", store)
    assert result.returncode == 0, result.stderr
    assert "followthemoney" in modules          # loading a list makes entities
    result, _ = imported_by(tmp_path, "screen", "Tarek Ben Taher Harzi", "--db", store)     # builds the index
    assert "QDi.354" in result.stdout, result.stdout + result.stderr
    result, modules = imported_by(tmp_path, "screen", "Tarek Ben Taher Harzi", "--db", store, "--json")
    assert '"reference": "QDi.354"' in result.stdout, result.stdout + result.stderr
    assert loaded(modules, {"followthemoney"}) == []
