"""The LSGAN generator and discriminator of the thesis (its Figures 3 and 4), with no I/O or training.

Both networks are DCGAN-shaped.  Batch norm (DCGAN style) is used in both and can be switched off;
layer normalisation is never used, because the thesis found that it destabilises the LSGAN.  The
128-px recipes regularise D instead with spectral norm or an R1 penalty (:class:`GANConfig`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .layers import dcgan_down

# The thesis's generator widths at 4x4, 8x8, 16x16 and 32x32.
PAPER_G_CHANNELS = (1024, 512, 256, 128)
# DCGAN's discriminator (ndf=64); the thesis does not give its widths.
DCGAN_D_CHANNELS = (64, 128, 256, 512)
#: the side the channel tables above are for; each doubling adds a stage at the fine end
BASE_SIZE = 64


def stage_channels(base: tuple[int, ...], size: int, fine_end: str) -> tuple[int, ...]:
    """``base`` (the widths at 64 px) with one stage of half the width added at the fine end
    (``"last"`` for a generator, ``"first"`` for an encoder) per doubling of ``size`` above 64:
    the generator 1024-512-256-128 becomes 1024-512-256-128-64 at 128 px."""
    doublings = (size // BASE_SIZE).bit_length() - 1
    if size < BASE_SIZE or BASE_SIZE << doublings != size:
        raise ValueError(f"image size must be 64 times a power of two, got {size}")
    fine = base[-1] if fine_end == "last" else base[0]
    extra = tuple(max(1, fine >> (i + 1)) for i in range(doublings))
    return base + extra if fine_end == "last" else extra[::-1] + base


@dataclass
class GeneratorConfig:
    z_dim: int = 100
    width: float = 1.0          # multiplies every channel count; 1.0 is the thesis's table
    dropout: float = 0.0        # spatial dropout after each hidden stage (the thesis lists "drop")
    batch_norm: bool = True     # DCGAN-style batch norm; see docs/architecture.md
    leaky_slope: float = 0.2
    size: int = 64              # the side of G's images: 64, or 128 with one stage more

    def channels(self) -> tuple[int, ...]:
        widths = stage_channels(PAPER_G_CHANNELS, self.size, "last")
        return tuple(max(1, int(round(c * self.width))) for c in widths)


@dataclass
class DiscriminatorConfig:
    width: float = 1.0
    batch_norm: bool = True
    leaky_slope: float = 0.2
    size: int = 64              # the side of the images it judges
    spectral_norm: bool = False  # every convolution's weight divided by its largest singular value

    def channels(self) -> tuple[int, ...]:
        widths = stage_channels(DCGAN_D_CHANNELS, self.size, "first")
        return tuple(max(1, int(round(c * self.width))) for c in widths)


class Generator(nn.Module):
    """z ``(N, z_dim)`` -> image ``(N, 3, size, size)`` in ``[-1, 1]`` (size 64, or 128 one stage deeper)."""

    def __init__(self, config: GeneratorConfig):
        super().__init__()
        self.config = config
        c1, c2, c3, c4, *finer = config.channels()
        bn = config.batch_norm

        def stage(cin: int, cout: int, first: bool) -> list[nn.Module]:
            layers: list[nn.Module] = [
                nn.ConvTranspose2d(cin, cout, 4, 1 if first else 2, 0 if first else 1, bias=not bn)]
            if bn:
                layers.append(nn.BatchNorm2d(cout))
            layers.append(nn.LeakyReLU(config.leaky_slope, inplace=True))
            if config.dropout > 0:
                layers.append(nn.Dropout2d(config.dropout))
            return layers

        layers = [
            *stage(config.z_dim, c1, first=True),   # (c1) x 4 x 4
            *stage(c1, c2, first=False),            # (c2) x 8 x 8
            *stage(c2, c3, first=False),            # (c3) x 16 x 16
            *stage(c3, c4, first=False),            # (c4) x 32 x 32
        ]
        last = c4
        for c in finer:                             # at 128 px: (64 w) x 64 x 64
            layers += stage(last, c, first=False)
            last = c
        self.net = nn.Sequential(
            *layers,
            nn.ConvTranspose2d(last, 3, 4, 2, 1),   # 3 x size x size
            nn.Tanh(),
        )
        init_dcgan(self)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z.view(z.shape[0], -1, 1, 1))

    def sample_z(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` latents from the prior, uniform on ``[-1, 1]^z_dim`` as in Yeh et al., so that the
        inpainting can clip z back into the prior's range."""
        device = next(self.parameters()).device
        z = torch.rand(n, self.config.z_dim, generator=generator, device=generator.device if generator else "cpu")
        return (z * 2 - 1).to(device)


class Discriminator(nn.Module):
    """image ``(N, 3, size, size)`` -> unbounded score ``(N,)``; no sigmoid, as the least-squares loss wants."""

    def __init__(self, config: DiscriminatorConfig):
        super().__init__()
        self.config = config
        channels = config.channels()
        self.net = nn.Sequential(
            *dcgan_down(3, channels, config.batch_norm, config.leaky_slope),   # (c1) x size/2 ... (c_last) x 4 x 4
            nn.Conv2d(channels[-1], 1, 4, 1, 0),                                # 1 x 1 x 1
        )
        init_dcgan(self)
        if config.spectral_norm:    # after the init: the norm is taken of the initialised weights
            for m in self.net:
                if isinstance(m, nn.Conv2d):
                    nn.utils.parametrizations.spectral_norm(m)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).view(-1)


def init_dcgan(module: nn.Module) -> None:
    """DCGAN initialisation: conv weights N(0, 0.02), batch-norm scales N(1, 0.02)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


@dataclass
class LSGANLoss:
    """Least-squares GAN losses (Mao et al. 2017) with targets a (fake), b (real) and c (G's aim).

    D: ½(D(x) − b)² + ½(D(G(z)) − a)²      G: ½(D(G(z)) − c)²

    The default a=0, b=1, c=1 is the "0-1 coding"; a=−1, b=1, c=0 is the variant for which
    Mao et al. show the objective minimises the Pearson χ² divergence.
    """

    a: float = 0.0
    b: float = 1.0
    c: float = 1.0

    def discriminator(self, d_real: torch.Tensor | None = None, d_fake: torch.Tensor | None = None) -> torch.Tensor:
        """D's loss; with only one of the two scores, that term alone (training backpropagates the
        real and the fake term separately, so that DDP sees one forward per backward)."""
        if d_real is None and d_fake is None:
            raise ValueError("the discriminator loss needs D's scores on real or on fake images")
        terms = ([0.5 * ((d_real - self.b) ** 2).mean()] if d_real is not None else []) + \
            ([0.5 * ((d_fake - self.a) ** 2).mean()] if d_fake is not None else [])
        return sum(terms[1:], terms[0])

    def generator(self, d_fake: torch.Tensor) -> torch.Tensor:
        return 0.5 * ((d_fake - self.c) ** 2).mean()


LOSS_VARIANTS = {"01": LSGANLoss(0.0, 1.0, 1.0), "chi2": LSGANLoss(-1.0, 1.0, 0.0)}


@dataclass
class GANConfig:
    """Everything needed to rebuild a GAN from a checkpoint."""

    generator: GeneratorConfig
    discriminator: DiscriminatorConfig
    loss: str = "01"            # a key of LOSS_VARIANTS
    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    ema_decay: float = 0.0      # > 0: keep an exponential moving average of G's weights (the G shipped)
    r1_gamma: float = 0.0       # > 0: the R1 penalty γ/2·|∇D(x)|² on real faces
    r1_every: int = 16          # R1 as its own D step every N steps, weighted N times (lazy regularisation)
    mixed_precision: bool = False   # bf16 autocast and channels-last memory, on CUDA only
    fd_samples: int = 0         # > 0: sample FD-dlib of this many EMA samples at epoch ends ...
    fd_reals: int = 500         # ... against the first this-many validation faces (128 px only) ...
    fd_every: int = 1           # ... every this-many epochs


GAN_PRESETS: dict[str, GANConfig] = {
    # The thesis's table: 1024-512-256-128 generator, with its dropout.
    "paper": GANConfig(GeneratorConfig(width=1.0, dropout=0.1), DiscriminatorConfig(width=1.0)),
    # The same shape at half width (512-256-128-64, i.e. DCGAN's ngf=64): twice the speed on a CPU.
    "half": GANConfig(GeneratorConfig(width=0.5), DiscriminatorConfig(width=1.0)),
    "quarter": GANConfig(GeneratorConfig(width=0.25), DiscriminatorConfig(width=0.5)),
    # One octave up: the generator 1024-512-256-128-64 at 4-8-16-32-64 px -> 128 x 128,
    # the discriminator with a 32-wide stage in front; for a GPU (docs/training.md).
    "paper-128": GANConfig(GeneratorConfig(width=1.0, dropout=0.1, size=128),
                           DiscriminatorConfig(width=1.0, size=128)),
    "half-128": GANConfig(GeneratorConfig(width=0.5, size=128), DiscriminatorConfig(width=1.0, size=128)),
    # The 128-px prior on faces in the wild (docs/training.md): half-128's networks with an EMA of
    # G, bf16 on CUDA, and D regularised by R1 (no batch norm: R1's gradient is per image) or by
    # spectral norm; the two are run side by side and compared.  The sample FD-dlib as it trains
    # is a cheap 500 samples every 20 epochs; scripts/sample_fd.py measures 2,000 at the end.
    "half-128-r1": GANConfig(GeneratorConfig(width=0.5, size=128),
                             DiscriminatorConfig(width=1.0, size=128, batch_norm=False),
                             ema_decay=0.999, r1_gamma=1.0, mixed_precision=True, fd_samples=500, fd_every=20),
    "half-128-sn": GANConfig(GeneratorConfig(width=0.5, size=128),
                             DiscriminatorConfig(width=1.0, size=128, batch_norm=False, spectral_norm=True),
                             ema_decay=0.999, mixed_precision=True, fd_samples=500, fd_every=20),
    # For tests.
    "tiny": GANConfig(GeneratorConfig(z_dim=16, width=1 / 64), DiscriminatorConfig(width=1 / 16)),
    "tiny-128": GANConfig(GeneratorConfig(z_dim=16, width=1 / 64, size=128),
                          DiscriminatorConfig(width=1 / 16, size=128)),
    "tiny-128-r1": GANConfig(GeneratorConfig(z_dim=16, width=1 / 64, size=128),
                             DiscriminatorConfig(width=1 / 16, size=128, batch_norm=False),
                             ema_decay=0.9, r1_gamma=1.0, r1_every=2, mixed_precision=True,
                             fd_samples=8, fd_reals=8),
    "tiny-128-sn": GANConfig(GeneratorConfig(z_dim=16, width=1 / 64, size=128),
                             DiscriminatorConfig(width=1 / 16, size=128, batch_norm=False, spectral_norm=True),
                             ema_decay=0.9, mixed_precision=True),
}
