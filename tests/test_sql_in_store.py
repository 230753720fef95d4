"""All SQL lives in ``jointwatch.store``; domain packages call store functions (issue 14, items 3 and 4).

The rule, as this test reads it (by parsing the source, not by running it):

* Outside ``src/jointwatch/store/``, a module imports from SQLAlchemy at most the ``Engine``
  type (the handle it passes to store functions; ``jointwatch.store.Engine`` is the same
  class and needs no SQLAlchemy import) and exception classes from ``sqlalchemy.exc`` (to
  tell a database that failed from a bug). It builds no statement (``select``, ``insert``,
  ``update``, ``delete``, ``text``, ``func`` … all come from SQLAlchemy, so the import rule
  catches them).
* Outside the store, nothing opens a connection or a transaction on the store's engine or
  runs a statement on it: no ``.connect()``, ``.begin()``, ``.begin_nested()``,
  ``.execute()``, ``.scalar()``, ``.scalars()``, ``.exec_driver_sql()`` called on something
  named ``engine``, ``connection`` or ``conn``. (The receiver is judged by its name: the
  DuckDB connection of ``network``, the analysis engine rather than the store, is ``_con``
  and is not the store's to police.)
* The media package goes further: it imports nothing from SQLAlchemy at all.

Modules that still break the rule are listed in ``ALLOWED`` with the reason; an entry that
no longer breaks it fails the test too, so the list only shrinks.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "jointwatch"
ALLOWED_SQLALCHEMY_NAMES = {"Engine"}
RUNS_SQL = {"connect", "begin", "begin_nested", "execute", "scalar", "scalars", "exec_driver_sql"}
STORE_HANDLE = re.compile(r"(^|[._])(engine|connection|conn)$")
# module (relative to src/jointwatch) -> why it may still run SQL; remove an entry when it is fixed
ALLOWED = {
    # issue 14 item 3 (not named in the issue): iter_listed reads the entities for the screening index
    "screening/from_store.py": "issue 14 item 3",
    # issue 14 item 3 (not named in the issue): /readyz runs `SELECT 1`; a store.ping(engine) would do
    "api/routes/ops.py": "issue 14 item 3",
}


def _modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if p.relative_to(SRC).parts[0] != "store")


def _faults(path: Path, root: Path = SRC) -> list[str]:
    """Where ``path`` (a module under ``root``) reaches past the store into SQL: one line per fault."""
    relative = path.relative_to(root).as_posix()
    strict = relative.startswith("media/")
    faults = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        where = f"{relative}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Import):
            faults += [f"{where}: import {a.name}" for a in node.names if a.name.split(".")[0] == "sqlalchemy"]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "sqlalchemy":
            names = {a.name for a in node.names}
            if strict:
                faults.append(f"{where}: media imports from {node.module}")
            elif node.module == "sqlalchemy.exc":
                continue
            elif node.module != "sqlalchemy" or names - ALLOWED_SQLALCHEMY_NAMES:
                faults.append(f"{where}: from {node.module} import {', '.join(sorted(names))}")
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in RUNS_SQL
              and STORE_HANDLE.search(ast.unparse(node.func.value))):
            faults.append(f"{where}: {ast.unparse(node.func)}()")
    return faults


def test_no_sql_outside_the_store() -> None:
    """No module outside ``jointwatch.store`` builds SQL or opens a transaction, but those in ALLOWED."""
    faults = [fault for path in _modules() if path.relative_to(SRC).as_posix() not in ALLOWED
              for fault in _faults(path)]
    assert faults == [], "SQL outside jointwatch.store (move it into a store function):\n" + "\n".join(faults)


def test_the_allow_list_only_names_modules_that_still_run_sql() -> None:
    """An allowed module that no longer breaks the rule is taken off the list (and so kept off it)."""
    fixed = [name for name in ALLOWED if not (SRC / name).exists() or not _faults(SRC / name)]
    assert fixed == [], f"remove from ALLOWED in {Path(__file__).name}: {', '.join(fixed)}"


def test_the_rule_sees_what_it_forbids(tmp_path: Path) -> None:
    """The checker itself: each kind of fault is found, and what is allowed is not."""
    cases = {
        "payments/ok.py": ("from sqlalchemy import Engine\nfrom sqlalchemy.exc import SQLAlchemyError\n"
                           "def f(con):\n    con.execute('SELECT 1')\n", 0),
        "payments/select.py": ("from sqlalchemy import Engine, select\n", 1),
        "payments/module.py": ("import sqlalchemy\n", 1),
        "payments/tx.py": ("def f(engine):\n    with engine.begin() as connection:\n"
                           "        connection.execute(1)\n", 2),
        "media/engine.py": ("from sqlalchemy import Engine\n", 1),
    }
    for name, (text, expected) in cases.items():
        path = tmp_path / name
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
        assert len(_faults(path, tmp_path)) == expected, (name, _faults(path, tmp_path))


def test_other_packages_use_the_public_api_of_media_and_store() -> None:
    """Front ends and domain packages import ``jointwatch.media`` and ``jointwatch.store``, not their modules.

    Checked for the media package and its front ends (cli/media.py, api/routes/media.py,
    api/models_media.py): what they need is in the package's ``__all__``.
    """
    faults = []
    for relative in ("cli/media.py", "api/routes/media.py", "api/models_media.py", *(
            p.relative_to(SRC).as_posix() for p in sorted((SRC / "media").glob("*.py")))):
        tree = ast.parse((SRC / relative).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                inside_media = relative.startswith("media/") and node.module.startswith("jointwatch.media")
                if node.module.startswith(("jointwatch.store.", "jointwatch.media.")) and not inside_media:
                    faults.append(f"{relative}:{node.lineno}: from {node.module} import …")
    assert faults == [], "import from the package, not its modules:\n" + "\n".join(faults)
