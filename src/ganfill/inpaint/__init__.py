"""Semantic inpainting with the LSGAN prior: importance weights, losses, latent search, blending.

Names are imported from their modules on first use, so that the method catalog and the base class
can be read without loading torch.
"""

from ..data.lazy import lazy_exports

_WHERE = {
    **dict.fromkeys(["BLEND_MODES", "blend"], "blending"),
    **dict.fromkeys(["binary_weights", "contextual_loss", "importance_weights", "perceptual_loss"], "losses"),
    **dict.fromkeys(["LatentSearchConfig", "LatentSearchResult", "latent_search"], "optimize"),
    **dict.fromkeys(["PRESETS", "InpaintOutput", "Inpainter", "InpainterConfig"], "inpainter"),
}
__all__ = list(_WHERE)

__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
