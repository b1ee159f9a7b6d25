"""The autoencoder refiner of the thesis (its Figures 5 and 6) and our U-Net variant; no I/O or training.

The refiner takes the LSGAN's blended completion (or, for the ``ae-only`` ablation, the image with
an empty hole) plus the mask as a fourth channel, and returns

    x = (1 − mask)⊙image + mask⊙AE(image, mask)          (mask = 1 on the hole)

so the known pixels come back exactly as given and only the hole is refined.

* ``paper``: the thesis's encoder-decoder.  Four stride-2 convolutions take 64x64 down to a
  512 x 4 x 4 code (8,192 values at width 1, "a relevant layer of size 8192"), and four
  upsampling levels (nearest-neighbour upsampling + 3x3 convolution, the thesis's "UpSampling")
  bring it back to 64 x 64 x 3.  Batch norm and LeakyReLU throughout, as in the thesis.
* ``unet``: the same four levels with skip connections (U-Net), so the sharp detail of the input
  need not squeeze through the 4x4 code, and a block of dilated 3x3 convolutions at 8x8 so that
  every position of the deepest skip sees the whole face.  (At 4x4, a dilation above 1 would reach
  mostly padding; at 8x8 dilations 2 and 4 cover the map in two layers.)  ~1.5 M parameters at
  the default width 0.5, cheap enough to train on a CPU.
* ``detail_head``: the U-Net's last skip is at half the side, so without it the hole holds
  detail of half the input's resolution at best (a 2-pixel pattern at the top octave).  The head
  is three 3x3 convolutions at full resolution on the coarse answer and the input, added to the
  coarse answer before the tanh; its last convolution starts at zero, so a head added to a
  trained U-Net starts as exactly that U-Net and learns only the missing octave.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .gan import init_dcgan
from .layers import conv_down, dcgan_down

# The thesis's autoencoder widths at 32, 16, 8 and 4 px: the 4x4 code is 512 x 4 x 4 = 8,192 values.
PAPER_AE_CHANNELS = (64, 128, 256, 512)
REFINER_ARCHS = ("paper", "unet")


@dataclass
class RefinerConfig:
    arch: str = "unet"              # "paper" (the thesis's Figure 5) or "unet" (ours)
    width: float = 0.5              # multiplies the channel counts 64-128-256-512
    batch_norm: bool = True
    leaky_slope: float = 0.2
    dilations: tuple[int, ...] = (2, 4)   # unet only: the dilated 3x3 convolutions at 8x8
    detail_head: int = 0            # unet only: channels of the full-resolution head (0: none)

    def __post_init__(self) -> None:
        self.dilations = tuple(self.dilations)   # JSON metadata gives a list back

    def channels(self) -> tuple[int, ...]:
        return tuple(max(1, int(round(c * self.width))) for c in PAPER_AE_CHANNELS)


REFINER_PRESETS: dict[str, RefinerConfig] = {
    # The thesis's autoencoder: an 8,192-value code.
    "paper": RefinerConfig(arch="paper", width=1.0),
    # Ours: U-Net skips and a dilated context block, at half width (~1.5 M parameters).
    "unet": RefinerConfig(arch="unet", width=0.5),
    # For tests.
    "tiny": RefinerConfig(arch="unet", width=1 / 16),
    "tiny-paper": RefinerConfig(arch="paper", width=1 / 16),
}


def _up(cin: int, cout: int, norm: bool, slope: float) -> list[nn.Module]:
    """Nearest-neighbour upsampling then a 3x3 convolution: doubles the side (no checkerboard)."""
    layers: list[nn.Module] = [nn.Upsample(scale_factor=2, mode="nearest"),
                               nn.Conv2d(cin, cout, 3, 1, 1, bias=not norm)]
    if norm:
        layers.append(nn.BatchNorm2d(cout))
    layers.append(nn.LeakyReLU(slope, inplace=True))
    return layers


class DilatedBlock(nn.Module):
    """A residual 3x3 convolution with ``dilation``: x + act(norm(conv(x))), same shape as x."""

    def __init__(self, channels: int, dilation: int, norm: bool, slope: float):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, 1, padding=dilation, dilation=dilation, bias=not norm)
        self.norm = nn.BatchNorm2d(channels) if norm else nn.Identity()
        self.act = nn.LeakyReLU(slope)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.act(self.norm(self.conv(x)))


class PaperAutoencoder(nn.Module):
    """The thesis's encoder-decoder: ``(N, 4, 64, 64)`` -> ``(N, 3, 64, 64)`` tanh, through a
    ``(c4, 4, 4)`` code."""

    def __init__(self, config: RefinerConfig):
        super().__init__()
        c1, c2, c3, c4 = config.channels()
        bn, slope = config.batch_norm, config.leaky_slope
        # (c1) x 32 x 32 ... (c4) x 4 x 4: the code, 512 x 4 x 4 = 8,192 at width 1
        self.encoder = nn.Sequential(*dcgan_down(4, (c1, c2, c3, c4), bn, slope))
        self.decoder = nn.Sequential(
            *_up(c4, c3, bn, slope),            # (c3) x 8 x 8
            *_up(c3, c2, bn, slope),            # (c2) x 16 x 16
            *_up(c2, c1, bn, slope),            # (c1) x 32 x 32
            nn.Upsample(scale_factor=2, mode="nearest"),  # (c1) x 64 x 64
            nn.Conv2d(c1, 3, 3, 1, 1),          # 3 x 64 x 64
            nn.Tanh(),
        )

    def code(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


class UNetAutoencoder(nn.Module):
    """Our variant: the same four levels with U-Net skips and a dilated context block at 8x8."""

    def __init__(self, config: RefinerConfig):
        super().__init__()
        c1, c2, c3, c4 = config.channels()
        bn, slope = config.batch_norm, config.leaky_slope
        self.down1 = nn.Sequential(*conv_down(4, c1, False, slope))     # (c1) x 32 x 32
        self.down2 = nn.Sequential(*conv_down(c1, c2, bn, slope))       # (c2) x 16 x 16
        self.down3 = nn.Sequential(*conv_down(c2, c3, bn, slope))       # (c3) x 8 x 8
        self.context = nn.Sequential(*[DilatedBlock(c3, d, bn, slope)
                                       for d in config.dilations])   # (c3) x 8 x 8, dilations 2, 4
        self.down4 = nn.Sequential(*conv_down(c3, c4, bn, slope))       # (c4) x 4 x 4: the code
        self.up4 = nn.Sequential(*_up(c4, c3, bn, slope))           # (c3) x 8 x 8
        self.up3 = nn.Sequential(*_up(2 * c3, c2, bn, slope))       # (c2) x 16 x 16   from up4 ⊕ context
        self.up2 = nn.Sequential(*_up(2 * c2, c1, bn, slope))       # (c1) x 32 x 32   from up3 ⊕ down2
        self.up1 = nn.Sequential(
            nn.Upsample(scale_factor=2, mode="nearest"),             # (2 c1) x 64 x 64 from up2 ⊕ down1
            nn.Conv2d(2 * c1, 3, 3, 1, 1),                           # 3 x 64 x 64
            nn.Tanh(),
        )
        h = config.detail_head
        self.head = nn.Sequential(
            nn.Conv2d(3 + 4, h, 3, 1, 1), nn.LeakyReLU(slope),       # (h) x 64 x 64 from coarse ⊕ input
            nn.Conv2d(h, h, 3, 1, 1), nn.LeakyReLU(slope),           # (h) x 64 x 64
            nn.Conv2d(h, 3, 3, 1, 1),                                # 3 x 64 x 64, added to the coarse answer
        ) if h else None

    def _encode(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        d1 = self.down1(x)
        d2 = self.down2(d1)
        d3 = self.context(self.down3(d2))
        return d1, d2, d3, self.down4(d3)

    def code(self, x: torch.Tensor) -> torch.Tensor:
        return self._encode(x)[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        d1, d2, d3, d4 = self._encode(x)
        u = self.up4(d4)
        u = self.up3(torch.cat([u, d3], 1))
        u = self.up2(torch.cat([u, d2], 1))
        if self.head is None:
            return self.up1(torch.cat([u, d1], 1))
        coarse = self.up1[:-1](torch.cat([u, d1], 1))                 # before the tanh
        return torch.tanh(coarse + self.head(torch.cat([coarse, x], 1)))

    def zero_head(self) -> None:
        """Start the head's output at zero: the network is then exactly the U-Net without it."""
        nn.init.zeros_(self.head[-1].weight)
        nn.init.zeros_(self.head[-1].bias)


class Refiner(nn.Module):
    """``(N, 3, 64, 64)`` completion in ``[-1, 1]`` and ``(N, 1, 64, 64)`` mask (1 = hole) ->
    ``(N, 3, 64, 64)`` in ``[-1, 1]``: the known pixels of ``image`` exactly, the refined hole elsewhere.

    The hole's content is an input (the LSGAN's guess, to be refined); callers that have no guess
    pass zeros there (see ``EmptyHoleCompleter`` in :mod:`ganfill.train.refiner`).
    """

    def __init__(self, config: RefinerConfig):
        super().__init__()
        if config.arch not in REFINER_ARCHS:
            raise ValueError(f"unknown refiner architecture {config.arch!r}; choose from {', '.join(REFINER_ARCHS)}")
        self.config = config
        if config.detail_head and config.arch != "unet":
            raise ValueError("detail_head needs the unet architecture")
        self.net = PaperAutoencoder(config) if config.arch == "paper" else UNetAutoencoder(config)
        init_dcgan(self)
        if config.detail_head:
            self.net.zero_head()

    def code(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The 4x4 bottleneck: ``(N, c4, 4, 4)``, 512 x 4 x 4 = 8,192 values per image at width 1."""
        return self.net.code(torch.cat([image, mask], 1))

    def forward(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        out = self.net(torch.cat([image, mask], 1))
        return image * (1.0 - mask) + out * mask


@dataclass
class PatchDiscriminatorConfig:
    width: float = 0.5              # multiplies the channel counts 64-128-256
    leaky_slope: float = 0.2


class PatchDiscriminator(nn.Module):
    """image ``(N, 3, S, S)`` in ``[-1, 1]`` -> unbounded scores ``(N, 1, S/8, S/8)``, one per
    overlapping patch (a PatchGAN, Isola et al. 2017): it judges texture, the thing an L1 loss
    leaves out, at any size.  No batch norm: its statistics would mix real and fake batches."""

    def __init__(self, config: PatchDiscriminatorConfig):
        super().__init__()
        self.config = config
        c1, c2, c3 = (max(1, int(round(c * config.width))) for c in PAPER_AE_CHANNELS[:3])
        slope = config.leaky_slope
        self.net = nn.Sequential(
            *conv_down(3, c1, False, slope),                  # (c1) x S/2 x S/2
            *conv_down(c1, c2, False, slope),                 # (c2) x S/4 x S/4
            *conv_down(c2, c3, False, slope),                 # (c3) x S/8 x S/8
            nn.Conv2d(c3, 1, 3, 1, 1),                        # 1 x S/8 x S/8: a score per patch
        )
        init_dcgan(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)
