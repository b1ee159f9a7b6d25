"""LSGAN training: each step is (1) a discriminator step, then (2) a generator step."""

from __future__ import annotations

from pathlib import Path

import torch

from ..models.gan import GAN_PRESETS, LOSS_VARIANTS, Discriminator, GANConfig, Generator
from .adversarial import check_loss_options, discriminator_step, generator_loss
from .loop import Recipe
from .pictures import evaluated, save_grid
from .seeding import seeded


class GANRecipe(Recipe):
    name = "lsgan"
    loss_keys = ("loss_d", "loss_g", "d_real", "d_fake")

    def __init__(self, config: GANConfig, device: torch.device | str = "cpu", sample_seed: int = 0):
        super().__init__(config)
        self.device = torch.device(device)
        if config.generator.size != config.discriminator.size:
            raise ValueError(f"G makes {config.generator.size}-px images, "
                             f"but D judges {config.discriminator.size}-px ones")
        self.image_size = config.generator.size
        self.G = Generator(config.generator).to(self.device)
        self.D = Discriminator(config.discriminator).to(self.device)
        self.loss = LOSS_VARIANTS[config.loss]
        betas = (config.beta1, config.beta2)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=config.lr, betas=betas)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=config.lr, betas=betas)
        self.register({"G": self.G, "D": self.D}, {"G": self.opt_g, "D": self.opt_d})
        # A fixed z, so that the per-epoch sample grids show the same 64 faces evolving.
        self.fixed_z = self.G.sample_z(64, seeded(sample_seed, "fixed-z")).to(self.device)

    def d_step(self, real: torch.Tensor, fake: torch.Tensor) -> dict[str, float]:
        """(1) D step: push D(x) towards b and D(G(z)) towards a."""
        return discriminator_step(self.trained["D"], self.opt_d, self.loss, real, fake)

    def g_step(self, fake: torch.Tensor) -> float:
        """(2) G step: push D(G(z)) towards c, D frozen."""
        loss_g = generator_loss(self.D, self.loss, fake)
        self.update(self.opt_g, loss_g)
        return loss_g.item()

    def train_step(self, real: torch.Tensor, gen: torch.Generator, step: int) -> dict[str, float]:
        fake = self.trained["G"](self.G.sample_z(real.shape[0], gen))
        d = self.d_step(real, fake)
        return {"loss_d": d["loss_d"], "loss_g": self.g_step(fake), "d_real": d["d_real"], "d_fake": d["d_fake"]}

    def epoch_end(self, out_dir: Path, epoch: int) -> None:
        save_grid(evaluated(self.G, self.fixed_z), Path(out_dir) / "samples" / f"epoch-{epoch:03d}.png")


def gan_config(name: str, loss: str | None = None) -> GANConfig:
    import copy

    if name not in GAN_PRESETS:
        raise ValueError(f"unknown GAN config {name!r}; choose from {', '.join(GAN_PRESETS)}")
    config = copy.deepcopy(GAN_PRESETS[name])
    if loss is not None:
        check_loss_options(loss)
        config.loss = loss
    return config
