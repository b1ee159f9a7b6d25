"""Semantic inpainting with the LSGAN prior: importance weights, losses, latent search, blending.

Names are imported from their modules on first use, so that the method catalog and the base class
can be read without loading torch.
"""

import importlib

_WHERE = {
    **dict.fromkeys(["BLEND_MODES", "blend"], "blending"),
    **dict.fromkeys(["binary_weights", "contextual_loss", "importance_weights", "perceptual_loss"], "losses"),
    **dict.fromkeys(["LatentSearchConfig", "LatentSearchResult", "latent_search"], "optimize"),
    **dict.fromkeys(["PRESETS", "InpaintOutput", "Inpainter", "InpainterConfig"], "inpainter"),
}
__all__ = list(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
