"""Training loops: one recipe per model on the shared machinery of :mod:`ganfill.train.common`."""

from .common import CHECKPOINT, Dist, LoopConfig, Recipe, fit, setup_distributed
from .gan import GANRecipe, gan_config

__all__ = ["CHECKPOINT", "Dist", "LoopConfig", "Recipe", "fit", "setup_distributed", "GANRecipe", "gan_config"]
