"""An earlier commit's code for a benchmark's baseline: ``--baseline REV`` runs the same
measurement on ``REV``'s ``src`` in the same run, so a noisy machine slows both alike."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def worktree(rev: str) -> Iterator[Path]:
    """The ``src`` folder of ``rev`` checked out in a temporary git worktree (removed after)."""
    folder = Path(tempfile.mkdtemp(prefix="jw-baseline-"))
    tree = folder / "tree"
    subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(tree), rev], cwd=REPO, check=True)
    try:
        yield tree / "src"
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=REPO, check=False)
        shutil.rmtree(folder, ignore_errors=True)
