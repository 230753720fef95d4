"""The optional `media` extra: imported when first needed, with a clear error when missing."""

from __future__ import annotations

import importlib
from types import ModuleType

from jointwatch.errors import MissingExtraError


def require(module: str, package: str) -> ModuleType:
    """The module, or MissingExtraError telling how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtraError(f"the media hash bank needs {package!r}, from jointwatch's optional 'media' "
                                "extra; install jointwatch with that extra") from None
