"""Domain data (YAML) shipped beside the code, loaded once."""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

import yaml


@cache
def load_resource(name: str) -> Any:
    """The parsed content of ``resources/<name>.yml``."""
    text = files(__name__).joinpath(f"{name}.yml").read_text(encoding="utf-8")
    # libyaml's safe loader when PyYAML was built with it: the same data, ~8x faster to parse
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


__all__ = ["load_resource"]
