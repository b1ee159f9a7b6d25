"""LSGAN training: each step is (1) a discriminator step, then (2) a generator step."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from ..models.gan import GAN_PRESETS, LOSS_VARIANTS, Discriminator, GANConfig, Generator
from ..models.io import config_to_dict
from .common import Dist, Recipe, save_grid, seeded


class GANRecipe(Recipe):
    name = "lsgan"
    loss_keys = ("loss_d", "loss_g", "d_real", "d_fake")

    def __init__(self, config: GANConfig, device: torch.device | str = "cpu", sample_seed: int = 0):
        super().__init__()
        self.config = config
        self.device = torch.device(device)
        self.G = Generator(config.generator).to(self.device)
        self.D = Discriminator(config.discriminator).to(self.device)
        self.loss = LOSS_VARIANTS[config.loss]
        betas = (config.beta1, config.beta2)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=config.lr, betas=betas)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=config.lr, betas=betas)
        self.modules = {"G": self.G, "D": self.D}
        self.optimizers = {"G": self.opt_g, "D": self.opt_d}
        # A fixed z, so that the per-epoch sample grids show the same 64 faces evolving.
        self.fixed_z = self.G.sample_z(64, seeded(sample_seed, "fixed-z")).to(self.device)
        self.g_train: nn.Module = self.G
        self.d_train: nn.Module = self.D

    def config_dict(self) -> dict:
        return config_to_dict(self.config)

    def wrap_ddp(self, env: Dist) -> None:
        ids = [env.device.index] if env.device.type == "cuda" else None
        self.g_train = nn.parallel.DistributedDataParallel(self.G, device_ids=ids)
        self.d_train = nn.parallel.DistributedDataParallel(self.D, device_ids=ids)

    def train_step(self, real: torch.Tensor, gen: torch.Generator, step: int) -> dict[str, float]:
        z = self.G.sample_z(real.shape[0], gen)
        fake = self.g_train(z)

        # (1) D step: push D(x) towards b and D(G(z)) towards a.  Real and fake go through D
        # separately (DCGAN keeps batch-norm statistics per kind), each with its own backward so
        # that DDP sees one forward per backward.
        self.opt_d.zero_grad(set_to_none=True)
        d_real = self.d_train(real)
        loss_real = 0.5 * ((d_real - self.loss.b) ** 2).mean()
        loss_real.backward()
        d_fake = self.d_train(fake.detach())
        loss_fake = 0.5 * ((d_fake - self.loss.a) ** 2).mean()
        loss_fake.backward()
        self.opt_d.step()

        # (2) G step: push D(G(z)) towards c.  D's weights are frozen so no gradient is spent on
        # them; the plain (unwrapped) D is used because its gradients are not to be averaged.
        self.opt_g.zero_grad(set_to_none=True)
        self.D.requires_grad_(False)
        d_gen = self.D(fake)
        loss_g = self.loss.generator(d_gen)
        loss_g.backward()
        self.D.requires_grad_(True)
        self.opt_g.step()
        return {"loss_d": (loss_real + loss_fake).item(), "loss_g": loss_g.item(),
                "d_real": d_real.detach().mean().item(), "d_fake": d_fake.detach().mean().item()}

    def epoch_end(self, out_dir: Path, epoch: int) -> None:
        self.G.eval()
        with torch.no_grad():
            samples = self.G(self.fixed_z)
        self.G.train()
        save_grid(samples, Path(out_dir) / "samples" / f"epoch-{epoch:03d}.png")


def gan_config(name: str, loss: str | None = None) -> GANConfig:
    import copy

    if name not in GAN_PRESETS:
        raise ValueError(f"unknown GAN config {name!r}; choose from {', '.join(GAN_PRESETS)}")
    config = copy.deepcopy(GAN_PRESETS[name])
    if loss is not None:
        if loss not in LOSS_VARIANTS:
            raise ValueError(f"unknown LSGAN loss {loss!r}; choose from {', '.join(LOSS_VARIANTS)}")
        config.loss = loss
    return config
