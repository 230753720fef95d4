"""jointwatch: screening, asset freezing and information sharing against official
terrorist and sanctions lists.

The public API is deliberately small; see :mod:`jointwatch.store` for the register and
:mod:`jointwatch.sources` for the official list formats.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
