"""Without the spark extra, `--engine spark` says how to install it, verbatim, and exits 10.

pyspark is installed in the test environment, so a child process blocks it the way a missing
package looks to Python (``sys.modules["pyspark"] = None`` makes every import of it fail);
our own code runs unchanged.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from jointwatch.errors import MissingExtraError
from tests.network.conftest import tx, write_transactions

WITHOUT_PYSPARK = ("import sys; sys.modules['pyspark'] = None; sys.argv[0] = 'jointwatch'; "
                   "from jointwatch.cli import main; main()")
HINT = "pip install 'jointwatch[spark]'"


def _jointwatch_without_pyspark(*args: object, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", WITHOUT_PYSPARK, *map(str, args)], capture_output=True, text=True,
                          timeout=120, check=False, cwd=cwd, env={"PATH": "/usr/bin:/bin", "HOME": str(cwd)})


def test_trace_with_spark_missing_prints_the_install_command_and_exits_10(tmp_path: Path) -> None:
    path = write_transactions(tmp_path / "tx.csv", [tx("a", 1, 100, "A", "T")])
    result = _jointwatch_without_pyspark("network", "trace", path, "-d", "T", "--engine", "spark", cwd=tmp_path)
    assert result.returncode == MissingExtraError.exit_code == 10, result.stderr
    assert HINT in result.stderr
    result = _jointwatch_without_pyspark("network", "trace", path, "-d", "T", "--engine", "spark", "--json",
                                         cwd=tmp_path)
    assert result.returncode == 10, result.stderr
    error = json.loads(result.stdout)
    assert error["error"] == "MissingExtraError" and HINT in error["message"]


def test_typologies_with_spark_missing_exits_10(tmp_path: Path) -> None:
    path = write_transactions(tmp_path / "tx.csv", [tx("a", 1, 100, "A", "T")])
    result = _jointwatch_without_pyspark("network", "typologies", path, "--engine", "spark", cwd=tmp_path)
    assert result.returncode == 10, result.stderr
    assert HINT in result.stderr
