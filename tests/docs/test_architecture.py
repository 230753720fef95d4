"""docs/architecture.md lists each package's public API as its ``__all__`` says it is.

Run ``python -m tests.docs.test_architecture`` to rewrite the block after changing an ``__all__``.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

from tests.test_boundaries import LAYERS

DOC = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"
BLOCK = re.compile(r"(<!-- public-api:start -->\n)(.*?)(<!-- public-api:end -->)", re.S)


def public_api() -> str:
    """One line per package, highest layer first: its purpose and the names it exports."""
    lines = []
    for layer in reversed(LAYERS):
        for package in sorted(layer):
            module = importlib.import_module(f"jointwatch.{package}")
            purpose = (module.__doc__ or "").strip().splitlines()[0] if module.__doc__ else ""
            names = ", ".join(f"`{n}`" for n in sorted(getattr(module, "__all__", ()), key=str.lower))
            lines.append(f"- **`jointwatch.{package}`**: {purpose}\n  {names or '(nothing: used by its layer only)'}\n")
    return "".join(lines)


def rendered(text: str) -> str:
    return BLOCK.sub(lambda m: m.group(1) + public_api() + m.group(3), text)


def test_the_public_api_block_is_current() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert BLOCK.search(text), "docs/architecture.md lost its public-api markers"
    assert rendered(text) == text, "run: python -m tests.docs.test_architecture"


if __name__ == "__main__":
    DOC.write_text(rendered(DOC.read_text(encoding="utf-8")), encoding="utf-8")
