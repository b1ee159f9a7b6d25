"""One base class and one name -> class registry for every inpainting method.

The CLI, the web server and the evaluator all go through :func:`get_method`, so a method is run
the same way wherever it is used.  Registered classes are imported lazily, so that asking for
``telea`` never loads a neural network.
"""

from __future__ import annotations

import importlib
import inspect

from .inpaint.base import InpaintMethod, image_seed, image_seeds

__all__ = ["DEFAULT_METHOD", "InpaintMethod", "image_seed", "image_seeds", "register", "method_names", "method_class", "method_options", "get_method"]


# name -> "module:Class"; a class's constructor takes keyword options only.
_REGISTRY: dict[str, str] = {
    "mean": "ganfill.baselines.classical:MeanFill",
    "telea": "ganfill.baselines.classical:Telea",
    "navier-stokes": "ganfill.baselines.classical:NavierStokes",
    "biharmonic": "ganfill.baselines.classical:Biharmonic",
    "lsgan": "ganfill.inpaint.pipeline:LSGANMethod",
    "lsgan-yeh": "ganfill.inpaint.pipeline:LSGANYehMethod",
    "lsgan+ae": "ganfill.inpaint.refine:LSGANRefineMethod",
    "lsgan+ae-paper": "ganfill.inpaint.refine:LSGANPaperRefineMethod",
    "ae-only": "ganfill.inpaint.refine:AEOnlyMethod",
    "lsgan+ae-wild": "ganfill.inpaint.refine:WildRefineMethod",
    "context-encoder": "ganfill.baselines.context_encoder:ContextEncoderMethod",
}


#: what `ganfill inpaint`, the server, the web page and ganfill.Pipeline use when no method is named
DEFAULT_METHOD = "lsgan+ae-wild"


def register(name: str, target: str) -> None:
    """Add a method: ``target`` is ``"module:Class"``."""
    _REGISTRY[name] = target


def method_names() -> list[str]:
    return list(_REGISTRY)


def method_class(name: str) -> type[InpaintMethod]:
    try:
        target = _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown method {name!r}; choose from {', '.join(_REGISTRY)}") from None
    module, cls = target.split(":")
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
