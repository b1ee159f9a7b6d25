"""One base class and one name -> class registry for every inpainting method.

The CLI, the web server and the evaluator all go through :func:`get_method`, so a method is run
the same way wherever it is used.  Registered classes are imported lazily, so that asking for
``telea`` never loads a neural network.
"""

from __future__ import annotations

import importlib
import inspect

import numpy as np


class InpaintMethod:
    """Fills holes in 64x64 (or any size, for the classical methods) RGB images.

    Subclasses implement :meth:`inpaint_one` or, when they can batch, :meth:`inpaint_batch`.
    Every method returns the known pixels exactly as they were given.
    """

    name: str = "method"
    #: whether the method needs 64x64 input (the learned ones) or works at any size
    fixed_size: int | None = None

    def inpaint_one(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return self.inpaint_batch(image[None], mask[None])[0]

    def inpaint_batch(self, images: np.ndarray, masks: np.ndarray) -> np.ndarray:
        """uint8 ``(N, H, W, 3)`` images and bool ``(N, H, W)`` masks (True = hole) -> uint8 ``(N, H, W, 3)``."""
        return np.stack([self.inpaint_one(img, m) for img, m in zip(images, masks)])

    def __call__(self, images: np.ndarray, masks: np.ndarray) -> np.ndarray:
        images = np.asarray(images, dtype=np.uint8)
        masks = np.asarray(masks).astype(bool)
        single = images.ndim == 3
        if single:
            images, masks = images[None], masks[None]
        if images.shape[:3] != masks.shape:
            raise ValueError(f"images {images.shape[1:3]} and masks {masks.shape[1:]} differ in size")
        out = self.inpaint_batch(images, masks)
        out = np.where(masks[..., None], out, images)  # the known pixels, exactly
        return out[0] if single else out

    def candidates(self, images: np.ndarray, masks: np.ndarray, k: int) -> np.ndarray:
        """``k`` different completions per image, best first: uint8 ``(N, k, H, W, 3)``."""
        if k == 1:
            return self(images, masks)[:, None]
        raise ValueError(f"method {self.name!r} gives a single answer; several candidates need an lsgan method")


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
    "context-encoder": "ganfill.baselines.context_encoder:ContextEncoderMethod",
}


def register(name: str, target: str) -> None:
    """Add a method: ``target`` is ``"module:Class"``."""
    _REGISTRY[name] = target


def method_names() -> list[str]:
    return list(_REGISTRY)


def _method_class(name: str) -> type[InpaintMethod]:
    try:
        target = _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown method {name!r}; choose from {', '.join(_REGISTRY)}") from None
    module, cls = target.split(":")
    return getattr(importlib.import_module(module), cls)


def method_options(name: str) -> set[str]:
    """The keyword options that method ``name`` takes."""
    cls = _method_class(name)
    params = inspect.signature(cls.__init__).parameters
    return {p for p in params if p != "self" and params[p].kind is not inspect.Parameter.VAR_KEYWORD}


def get_method(name: str, **options) -> InpaintMethod:
    """Build the method called ``name``; ``options`` go to its constructor (unknown ones are an error)."""
    cls = _method_class(name)
    unknown = set(options) - method_options(name)
    if unknown and not any(p.kind is inspect.Parameter.VAR_KEYWORD
                           for p in inspect.signature(cls.__init__).parameters.values()):
        raise ValueError(f"method {name!r} takes no option {sorted(unknown)[0]!r}")
    method = cls(**options)
    method.name = name
    return method
