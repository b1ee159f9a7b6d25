"""The Context Encoder baseline (Pathak et al. 2016), generalised to any mask; no I/O or training.

An encoder of stride-2 convolutions takes the image (hole zeroed) plus the mask down to
512 x 4 x 4 (at width 1); Pathak et al.'s **channel-wise fully-connected** layer then lets every
position of a channel see every other (each channel's 16 values -> 16 values by its own linear
map, c·16² weights instead of (c·16)²), a 1x1 convolution mixes the channels, and a decoder of
transposed convolutions brings it back to 64 x 64 x 3 tanh.  The encoder uses LeakyReLU and the
decoder ReLU, as in the paper.  Because the mask is an input channel, one network fills the
centre square, boxes, strokes and halves alike.  The adversarial part reuses
:class:`~ganfill.models.gan.Discriminator`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from .gan import init_dcgan
from .layers import dcgan_down

CE_CHANNELS = (64, 128, 256, 512)


@dataclass
class ContextEncoderConfig:
    width: float = 1.0          # multiplies 64-128-256-512; 1.0 is Pathak et al.'s 512 x 4 x 4 bottleneck
    batch_norm: bool = True
    leaky_slope: float = 0.2

    def channels(self) -> tuple[int, ...]:
        return tuple(max(1, int(round(c * self.width))) for c in CE_CHANNELS)


CONTEXT_ENCODER_PRESETS: dict[str, ContextEncoderConfig] = {
    "default": ContextEncoderConfig(width=1.0),
    # Half the channels, a quarter of the work: for training on a CPU.
    "half": ContextEncoderConfig(width=0.5),
    # For tests.
    "tiny": ContextEncoderConfig(width=1 / 16),
}


class ChannelwiseFC(nn.Module):
    """``(N, C, H, W)`` -> ``(N, C, H, W)``: each channel's H·W values go through that channel's own
    fully-connected layer (Pathak et al. 2016, Section 3.1).  No mixing across channels."""

    def __init__(self, channels: int, size: int):
        super().__init__()
        n = size * size
        self.weight = nn.Parameter(torch.empty(channels, n, n))
        self.bias = nn.Parameter(torch.empty(channels, n))
        bound = 1.0 / math.sqrt(n)      # nn.Linear's initialisation, per channel
        nn.init.uniform_(self.weight, -bound, bound)
        nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        y = torch.einsum("ncp,cpq->ncq", x.reshape(n, c, h * w), self.weight) + self.bias
        return y.reshape(n, c, h, w)


class ContextEncoder(nn.Module):
    """``(N, 3, 64, 64)`` image in ``[-1, 1]`` and ``(N, 1, 64, 64)`` mask (1 = hole) -> ``(N, 3, 64, 64)``:
    the known pixels of ``image`` exactly, the network's prediction in the hole.  The hole's content
    is zeroed before encoding, so it cannot leak into the answer."""

    def __init__(self, config: ContextEncoderConfig):
        super().__init__()
        self.config = config
        c1, c2, c3, c4 = config.channels()
        bn, slope = config.batch_norm, config.leaky_slope

        def up(cin: int, cout: int) -> list[nn.Module]:
            layers: list[nn.Module] = [nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=not bn)]
            if bn:
                layers.append(nn.BatchNorm2d(cout))
            layers.append(nn.ReLU(inplace=True))
            return layers

        # (c1) x 32 x 32 ... (c4) x 4 x 4: 512 x 4 x 4 at width 1
        self.encoder = nn.Sequential(*dcgan_down(4, (c1, c2, c3, c4), bn, slope))
        self.bottleneck = nn.Sequential(
            ChannelwiseFC(c4, 4),               # (c4) x 4 x 4, each channel on its own
            nn.Conv2d(c4, c4, 1),               # (c4) x 4 x 4, channels mixed
            nn.ReLU(inplace=True),
        )
        self.decoder = nn.Sequential(
            *up(c4, c3),                        # (c3) x 8 x 8
            *up(c3, c2),                        # (c2) x 16 x 16
            *up(c2, c1),                        # (c1) x 32 x 32
            nn.ConvTranspose2d(c1, 3, 4, 2, 1),  # 3 x 64 x 64
            nn.Tanh(),
        )
        init_dcgan(self)

    def code(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The encoder's output ``(N, c4, 4, 4)``, before the channel-wise layer."""
        return self.encoder(torch.cat([image * (1.0 - mask), mask], 1))

    def forward(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        known = 1.0 - mask
        out = self.decoder(self.bottleneck(self.encoder(torch.cat([image * known, mask], 1))))
        return image * known + out * mask
