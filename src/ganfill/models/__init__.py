"""Networks and their config dataclasses.  No I/O beyond safetensors, no argparse, no training."""

from .gan import (GAN_PRESETS, LOSS_VARIANTS, Discriminator, DiscriminatorConfig, GANConfig, Generator,
                  GeneratorConfig, LSGANLoss)
from .io import CheckpointError

__all__ = ["GAN_PRESETS", "LOSS_VARIANTS", "Discriminator", "DiscriminatorConfig", "GANConfig", "Generator",
           "GeneratorConfig", "LSGANLoss", "CheckpointError"]
