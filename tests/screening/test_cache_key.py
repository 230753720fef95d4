"""The index cache key covers the code of every class a cached index pickles."""

from __future__ import annotations

import inspect
import io
import pickle
import sys
from pathlib import Path
from typing import Any

from jointwatch.screening.index import PICKLED, ScreeningIndex, analyze_names, fingerprint_files
from jointwatch.screening.model import Listed


class _Recording(pickle.Unpickler):
    """Reads a pickle and notes every class it names."""

    def __init__(self, data: bytes) -> None:
        super().__init__(io.BytesIO(data))
        self.classes: set[tuple[str, str]] = set()

    def find_class(self, module: str, name: str) -> Any:
        self.classes.add((module, name))
        return super().find_class(module, name)


def _index() -> ScreeningIndex:
    person = Listed("un-sc-QDi.1", "Person", "un_sc", "QDi.1", "v1", "Tariq al-Harzi",
                    analyze_names(["Tariq al-Harzi", "طارق الحرزي"], "Person"), ("1982-05-03",),
                    frozenset({"iq"}), "male", frozenset({"A1234567"}))
    vessel = Listed("us-ofac-1", "Vessel", "us_ofac_sdn", "1", "v1", "ALPHA", analyze_names(["ALPHA"], "Vessel"))
    return ScreeningIndex([person, vessel], "un_sc v1")


def test_every_pickled_class_of_ours_is_fingerprinted() -> None:
    reader = _Recording(pickle.dumps(_index(), protocol=pickle.HIGHEST_PROTOCOL))
    assert isinstance(reader.load(), ScreeningIndex)
    ours = {(m, n) for m, n in reader.classes if m.split(".")[0] == "jointwatch"}
    files = set(fingerprint_files())
    for module, name in sorted(ours):
        path = Path(inspect.getfile(sys.modules[module]))
        assert path in files, f"{module}.{name} is pickled into the index cache but {path} is not in its key"
    # PICKLED lists exactly what is pickled, so it stays the source of the fingerprint's modules
    assert {(c.__module__, c.__qualname__) for c in PICKLED} == ours


def test_model_module_is_in_the_key() -> None:
    assert Path(inspect.getfile(Listed)) in set(fingerprint_files())
