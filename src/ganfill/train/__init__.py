"""Training: one recipe per model (gan, encoder, refiner, context_encoder) on the shared loop
(:mod:`.loop`), with its checkpoint format (:mod:`.checkpoint`), DDP set-up (:mod:`.distributed`),
seeds (:mod:`.seeding`) and pictures (:mod:`.pictures`); :mod:`.builders` sets a run up from options."""

from .checkpoint import CHECKPOINT
from .distributed import Dist, setup_distributed
from .gan import GANRecipe, gan_config
from .loop import LoopConfig, Recipe, fit

__all__ = ["CHECKPOINT", "Dist", "LoopConfig", "Recipe", "fit", "setup_distributed", "GANRecipe", "gan_config"]
