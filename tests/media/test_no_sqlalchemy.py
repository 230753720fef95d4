"""The media package speaks to the database only through ``jointwatch.store`` (issue 14, item 3).

tests/test_boundaries.py holds every package to "no SQL outside store/" (the ``Engine`` type
in a signature is allowed there). Media goes further: it imports nothing from SQLAlchemy at
all, not even ``Engine`` (``jointwatch.store.Engine`` is the same class), so every statement
and every transaction of the bank (what an import banks all or nothing, who sees which item)
is a store function that can be read and tested in one place.
"""

from __future__ import annotations

import ast
from pathlib import Path

MEDIA = Path(__file__).resolve().parents[2] / "src" / "jointwatch" / "media"


def test_media_imports_nothing_from_sqlalchemy() -> None:
    found = []
    for path in sorted(MEDIA.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            modules = ([a.name for a in node.names] if isinstance(node, ast.Import)
                       else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            found += [f"{path.name}:{node.lineno} {m}" for m in modules if m.split(".")[0] == "sqlalchemy"]
    assert found == [], "media imports sqlalchemy (use jointwatch.store's functions and Engine):\n" + "\n".join(found)
