"""One base class and one name -> class registry for every inpainting method.

The CLI, the web server and the evaluator all go through :func:`get_method`, so a method is run
the same way wherever it is used.  Registered classes are imported lazily, so that asking for
``telea`` never loads a neural network.
"""

from __future__ import annotations

import importlib
import inspect

from .inpaint.base import InpaintMethod, image_seed, image_seeds
from .inpaint.catalog import CATALOG, DEFAULT_METHOD, MethodInfo

__all__ = ["DEFAULT_METHOD", "InpaintMethod", "MethodInfo", "get_method", "image_seed", "image_seeds", "method_class",
           "method_info", "method_names", "method_options", "register"]


# name -> "module:Class", from the catalog; a class's constructor takes keyword options only.
_REGISTRY: dict[str, str] = {name: info.target for name, info in CATALOG.items()}


def register(name: str, target: str) -> None:
    """Add a method: ``target`` is ``"module:Class"``."""
    _REGISTRY[name] = target


def method_names() -> list[str]:
    return list(_REGISTRY)


def method_info(name: str) -> MethodInfo:
    """What method ``name`` is (size, speed, candidates, cost, description), without importing it."""
    _target(name)
    return CATALOG.get(name) or MethodInfo(_REGISTRY[name], getattr(method_class(name), "description", ""))


def _target(name: str) -> str:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown method {name!r}; choose from {', '.join(_REGISTRY)}") from None


def method_class(name: str) -> type[InpaintMethod]:
    module, cls = _target(name).split(":")
    return getattr(importlib.import_module(module), cls)


def method_options(name: str) -> set[str]:
    """The keyword options that method ``name`` takes."""
    cls = method_class(name)
    params = inspect.signature(cls.__init__).parameters
    return {p for p in params if p != "self" and params[p].kind is not inspect.Parameter.VAR_KEYWORD}


def get_method(name: str, **options) -> InpaintMethod:
    """Build the method called ``name``; ``options`` go to its constructor (unknown ones are an error)."""
    cls = method_class(name)
    unknown = set(options) - method_options(name)
    if unknown and not any(p.kind is inspect.Parameter.VAR_KEYWORD
                           for p in inspect.signature(cls.__init__).parameters.values()):
        raise ValueError(f"method {name!r} takes no option {sorted(unknown)[0]!r}")
    method = cls(**options)
    method.name = name
    return method
