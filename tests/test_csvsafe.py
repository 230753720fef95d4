"""The one CSV writer of the product: OWASP's rule against formula injection, as a property."""

from __future__ import annotations

import csv
import io

from hypothesis import given
from hypothesis import strategies as st

from jointwatch.csvsafe import FORMULA_STARTS, dict_writer, restore, safe_cell, writer

CASES = [
    ("=1+2", "'=1+2"), ("+1+1", "'+1+1"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"),
    ("\rx", "'\rx"), ("Harzi", "Harzi"), ("-25.00", "-25.00"), ("+7", "+7"), ("", ""), ("'=x", "'=x"),
]


def test_cases() -> None:
    for given_value, written in CASES:
        assert safe_cell(given_value) == written, given_value
    assert safe_cell(-3) == -3 and safe_cell(None) is None


@given(st.lists(st.text(), min_size=1, max_size=5))
def test_no_written_cell_starts_a_formula_and_reading_back_restores(cells: list[str]) -> None:
    out = io.StringIO()
    writer(out).writerow(cells)
    [read] = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    for original, cell in zip(cells, read, strict=True):
        assert not cell.startswith(FORMULA_STARTS) or cell.lstrip("+-").replace(".", "", 1).isdigit()
        if not original.startswith("'"):
            assert restore(cell) == original


def test_dict_writer() -> None:
    out = io.StringIO()
    w = dict_writer(out, ["a", "b"])
    w.writeheader()
    w.writerows([{"a": "@x", "b": 5}])
    assert out.getvalue().splitlines() == ["a,b", "'@x,5"]
