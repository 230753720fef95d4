"""The package boundaries: each package's ``__init__`` is its public API, and layers point one way.

Rules (docs/architecture.md):
- a module never imports another package's submodule (``from jointwatch.store.customers import …``
  from payments): it imports the package (``from jointwatch.store import …``), and only names
  the package lists in ``__all__``, none starting with ``_``. What a package does not export
  is its own to change.
- a lower layer never imports a higher one (``LAYERS``); packages on one layer do not import
  each other.
- SQL runs only under ``store/``: no other package calls SQLAlchemy's statement builders or
  opens transactions (the ``Engine`` type in a signature is fine).
Top-level modules (``jointwatch.errors``, ``jointwatch.jsonout`` …) are shared by every layer.
Tests and benchmarks may reach inside a package: they check and measure its parts.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "src" / "jointwatch"
LAYERS: list[set[str]] = [
    {"resources"},
    {"names", "sources"},
    {"store"},
    {"screening"},
    {"travel", "payments", "network", "media"},
    {"sharing"},
    {"api"},
    {"web"},  # the console: pages over the API's rights and screeners, mounted by `serve`
    {"cli"},
]
LAYER = {package: rank for rank, packages in enumerate(LAYERS) for package in packages}
SQL_CALLS = {"select", "insert", "update", "delete", "text", "bindparam", "Table", "MetaData", "begin",
             "execute", "connect"}


def _modules() -> Iterator[tuple[str, Path, ast.Module]]:
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        if "migrations" in parts:
            continue
        package = parts[0] if len(parts) > 1 else ""
        yield package, path, ast.parse(path.read_text(encoding="utf-8"))


def _imports(tree: ast.Module) -> Iterator[tuple[int, str, list[str]]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("jointwatch."):
            yield node.lineno, node.module, [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("jointwatch."):
                    yield node.lineno, alias.name, []


def test_every_package_is_on_a_layer() -> None:
    packages = {p.name for p in ROOT.iterdir() if (p / "__init__.py").exists()}
    assert packages == set(LAYER), "add the package to LAYERS (and docs/architecture.md)"


def test_packages_import_each_other_only_through_their_public_api() -> None:
    wrong = []
    for package, path, tree in _modules():
        for line, module, names in _imports(tree):
            target = module.split(".")[1]
            if target == package or target not in LAYER:
                continue
            where = f"{path.relative_to(ROOT)}:{line}"
            if module.count(".") > 1:
                wrong.append(f"{where} imports {module}: import from jointwatch.{target}")
                continue
            exported = set(getattr(importlib.import_module(module), "__all__", ()))
            wrong += [f"{where} imports {module}.{n}, which {module}.__all__ does not list"
                      for n in names if n.startswith("_") or n not in exported]
    assert not wrong, "\n".join(wrong)


def test_lower_layers_never_import_higher_ones() -> None:
    wrong = []
    for package, path, tree in _modules():
        if package not in LAYER:
            continue
        for line, module, _ in _imports(tree):
            target = module.split(".")[1]
            if target in LAYER and target != package and LAYER[target] >= LAYER[package]:
                wrong.append(f"{path.relative_to(ROOT)}:{line} ({package}) imports {target}")
    assert not wrong, "\n".join(wrong)


def test_every_public_name_is_importable() -> None:
    for package in LAYER:
        module = importlib.import_module(f"jointwatch.{package}")
        missing = [n for n in getattr(module, "__all__", ()) if not hasattr(module, n)]
        assert not missing, f"jointwatch.{package}.__all__ lists {missing}, which it does not define"


def test_sql_runs_only_in_the_store() -> None:
    wrong = []
    for package, path, tree in _modules():
        if package == "store":
            continue
        sqlalchemy_names: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
                sqlalchemy_names |= {a.asname or a.name for a in node.names}
            elif isinstance(node, ast.Import) and any(a.name.startswith("sqlalchemy") for a in node.names):
                wrong.append(f"{path.relative_to(ROOT)}:{node.lineno} imports sqlalchemy whole")
        used = sqlalchemy_names & SQL_CALLS
        wrong += [f"{path.relative_to(ROOT)} imports sqlalchemy's {n}" for n in sorted(used)]
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in {"begin", "connect", "execute"} \
                    and _names_a_database(node.value):
                wrong.append(f"{path.relative_to(ROOT)}:{node.lineno} calls {ast.unparse(node)}()")
    assert not wrong, "\n".join(wrong)


def _names_a_database(node: ast.expr) -> bool:
    """``engine``, ``connection`` or ``….engine`` (e.g. ``request.app.state.engine``)."""
    if isinstance(node, ast.Name):
        return node.id in {"engine", "store", "connection", "conn"}
    return isinstance(node, ast.Attribute) and node.attr in {"engine", "connection"}


@pytest.mark.parametrize("package", sorted(LAYER))
def test_a_package_exports_no_private_name(package: str) -> None:
    module = importlib.import_module(f"jointwatch.{package}")
    assert not [n for n in getattr(module, "__all__", ()) if n.startswith("_")]
