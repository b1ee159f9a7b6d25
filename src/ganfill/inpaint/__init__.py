"""Semantic inpainting with the LSGAN prior: importance weights, losses, latent search, blending."""

from .blend import BLEND_MODES, blend
from .losses import binary_weights, contextual_loss, importance_weights, perceptual_loss
from .optimize import LatentSearchConfig, LatentSearchResult, latent_search
from .pipeline import PRESETS, InpaintOutput, Inpainter, InpainterConfig

__all__ = ["BLEND_MODES", "blend", "binary_weights", "contextual_loss", "importance_weights", "perceptual_loss",
           "LatentSearchConfig", "LatentSearchResult", "latent_search", "PRESETS", "InpaintOutput", "Inpainter",
           "InpainterConfig"]
