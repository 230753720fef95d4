"""The FORMATS table names each parser by module and function: a typo would only show on use."""

from __future__ import annotations

import importlib
import inspect

import pytest

from jointwatch.sources import FORMATS, ListFormat


@pytest.mark.parametrize("spec", FORMATS.values(), ids=list(FORMATS))
def test_every_format_names_a_parser_of_path_and_source(spec: ListFormat) -> None:
    parse = getattr(importlib.import_module(f"jointwatch.sources.{spec.module}"), spec.function)
    assert list(inspect.signature(parse).parameters)[:2] == ["path", "source"]
