"""The latent encoder E: an image with a hole, plus its mask, -> the generator's latent z.

E gives the latent optimisation a starting point close to the answer, so that a few Adam steps
replace Yeh et al.'s 1,500 from a random z.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .gan import init_dcgan, stage_channels
from .layers import dcgan_down


@dataclass
class EncoderConfig:
    z_dim: int = 100
    width: float = 1.0          # multiplies the channel counts 64-128-256-512
    batch_norm: bool = True
    leaky_slope: float = 0.2
    size: int = 64              # the side of its images: one stride-2 stage more per doubling

    def channels(self) -> tuple[int, ...]:
        widths = stage_channels((64, 128, 256, 512), self.size, "first")
        return tuple(max(1, int(round(c * self.width))) for c in widths)


ENCODER_PRESETS = {
    "default": EncoderConfig(width=0.5),
    "default-128": EncoderConfig(width=0.5, size=128),
    "tiny": EncoderConfig(z_dim=16, width=1 / 16),
    "tiny-128": EncoderConfig(z_dim=16, width=1 / 16, size=128),
}


class LatentEncoder(nn.Module):
    """``(N, 3, size, size)`` image in ``[-1, 1]`` and ``(N, 1, size, size)`` mask (1 = hole) -> z ``(N, z_dim)``
    in ``[-1, 1]``, the range of the generator's prior.  The hole is zeroed before encoding."""

    def __init__(self, config: EncoderConfig):
        super().__init__()
        self.config = config
        channels = config.channels()
        # (c1) x size/2 ... (c_last) x 4 x 4 from image and mask
        self.features = nn.Sequential(*dcgan_down(4, channels, config.batch_norm, config.leaky_slope))
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(channels[-1] * 16, config.z_dim), nn.Tanh())  # z_dim
        init_dcgan(self)

    def forward(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        known = 1.0 - mask
        return self.head(self.features(torch.cat([image * known, mask], dim=1)))
