"""Networks and their config dataclasses.  No I/O beyond safetensors, no argparse, no training."""

from .gan import (GAN_PRESETS, LOSS_VARIANTS, Discriminator, DiscriminatorConfig, GANConfig, Generator,
                  GeneratorConfig, LSGANLoss)
from .context_encoder import CONTEXT_ENCODER_PRESETS, ContextEncoder, ContextEncoderConfig
from .io import CheckpointError
from .refiner import REFINER_PRESETS, Refiner, RefinerConfig

__all__ = ["GAN_PRESETS", "LOSS_VARIANTS", "Discriminator", "DiscriminatorConfig", "GANConfig", "Generator",
           "GeneratorConfig", "LSGANLoss", "CheckpointError", "CONTEXT_ENCODER_PRESETS", "ContextEncoder",
           "ContextEncoderConfig", "REFINER_PRESETS", "Refiner", "RefinerConfig"]
