"""A package whose names are imported from their modules on first use (PEP 562)."""

from __future__ import annotations

import importlib
import sys


def lazy_exports(package: str, where: dict[str, str]):
    """``__getattr__`` and ``__dir__`` for ``package``: name ``n`` comes from its module ``where[n]``
    the first time it is asked for, so that importing the package loads none of them."""

    def __getattr__(name: str):
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f".{where[name]}", package), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(where)

    return __getattr__, __dir__
