"""LSGAN training: each step is (1) a discriminator step, (1b) every ``r1_every`` steps an R1 step on
D when the config has one, (2) a generator step, then (3) the EMA of G's weights moves towards G.

The EMA generator (``G_ema``, when ``ema_decay`` > 0) is what the epoch's sample grid shows, what
the sample FD-dlib measures and what ``ganfill export-gan`` ships.
"""

from __future__ import annotations

import contextlib
import copy
import json
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..data import to_uint8
from ..models.gan import GAN_PRESETS, LOSS_VARIANTS, Discriminator, GANConfig, Generator
from .adversarial import check_loss_options, discriminator_step, generator_loss
from .loop import Recipe
from .pictures import evaluated, save_grid
from .seeding import seeded

#: where each sample FD-dlib measured during training is appended, in the run folder
FD_LOG = "fd.jsonl"


class GANRecipe(Recipe):
    name = "lsgan"

    def __init__(self, config: GANConfig, device: torch.device | str = "cpu", sample_seed: int = 0,
                 fd_faces: np.ndarray | None = None):
        """``fd_faces``: uint8 real faces ``(N, H, W, 3)`` that the sample FD-dlib compares with
        (None: no FD-dlib while training)."""
        super().__init__(config)
        self.device = torch.device(device)
        if config.generator.size != config.discriminator.size:
            raise ValueError(f"G makes {config.generator.size}-px images, "
                             f"but D judges {config.discriminator.size}-px ones")
        self.image_size = config.generator.size
        self.G = Generator(config.generator).to(self.device)
        self.D = Discriminator(config.discriminator).to(self.device)
        self.mixed = config.mixed_precision and self.device.type == "cuda"
        if self.mixed:   # convolutions run fastest on NHWC tensors in bf16
            self.G.to(memory_format=torch.channels_last)
            self.D.to(memory_format=torch.channels_last)
        self.loss = LOSS_VARIANTS[config.loss]
        betas = (config.beta1, config.beta2)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=config.lr, betas=betas)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=config.lr, betas=betas)
        modules: dict[str, nn.Module] = {"G": self.G, "D": self.D}
        self.G_ema: Generator | None = None
        if config.ema_decay > 0:
            self.G_ema = copy.deepcopy(self.G).requires_grad_(False)
            modules["G_ema"] = self.G_ema
        self.register(modules, {"G": self.opt_g, "D": self.opt_d})
        self.loss_keys = ("loss_d", "loss_g", "d_real", "d_fake") + (("r1",) if config.r1_gamma > 0 else ())
        # A fixed z, so that the per-epoch sample grids show the same 64 faces evolving.
        self.fixed_z = self.G.sample_z(64, seeded(sample_seed, "fixed-z")).to(self.device)
        self.sample_seed = sample_seed
        self.fd_faces = fd_faces if config.fd_samples > 0 else None
        self._fd_reference: np.ndarray | None = None
        self.steps_done = 0

    @property
    def shipped_G(self) -> Generator:
        """The generator that is shown, measured and exported: the EMA one when there is one."""
        return self.G_ema if self.G_ema is not None else self.G

    def autocast(self):
        return torch.autocast("cuda", dtype=torch.bfloat16) if self.mixed else contextlib.nullcontext()

    def d_step(self, real: torch.Tensor, fake: torch.Tensor) -> dict[str, float]:
        """(1) D step: push D(x) towards b and D(G(z)) towards a."""
        with self.autocast():
            return discriminator_step(self.trained["D"], self.opt_d, self.loss, real, fake)

    def r1_step(self, real: torch.Tensor, step: int) -> float | None:
        """(1b) R1 step (lazy, every ``r1_every`` steps and weighted as many times): push D's
        gradient on real faces towards zero.  In fp32: a squared gradient overflows bf16's precision."""
        cfg = self.config
        if cfg.r1_gamma <= 0 or step % cfg.r1_every:
            return None
        real = real.detach().requires_grad_(True)
        (grad,) = torch.autograd.grad(self.trained["D"](real).sum(), real, create_graph=True)
        penalty = grad.square().flatten(1).sum(1).mean()
        self.update(self.opt_d, penalty * (cfg.r1_gamma / 2 * cfg.r1_every))
        return penalty.item()

    def g_step(self, fake: torch.Tensor) -> float:
        """(2) G step: push D(G(z)) towards c, D frozen."""
        with self.autocast():
            loss_g = generator_loss(self.D, self.loss, fake)
        self.update(self.opt_g, loss_g)
        return loss_g.item()

    @torch.no_grad()
    def ema_step(self, step: int) -> None:
        """(3) G_ema ← d·G_ema + (1 − d)·G, with d ramped up from 0.1 over the first steps so that the
        average forgets the random initialisation; batch-norm statistics are copied."""
        if self.G_ema is None:
            return
        decay = min(self.config.ema_decay, (1 + step) / (10 + step))
        for ema, p in zip(self.G_ema.parameters(), self.G.parameters()):
            ema.lerp_(p, 1.0 - decay)
        for ema, b in zip(self.G_ema.buffers(), self.G.buffers()):
            ema.copy_(b)

    def train_step(self, real: torch.Tensor, gen: torch.Generator, step: int) -> dict[str, float]:
        if self.mixed:
            real = real.contiguous(memory_format=torch.channels_last)
        with self.autocast():
            fake = self.trained["G"](self.G.sample_z(real.shape[0], gen))
        d = self.d_step(real, fake)                        # (1) D step
        r1 = self.r1_step(real, step)                      # (1b) R1 step, every r1_every steps
        loss_g = self.g_step(fake)                         # (2) G step
        self.ema_step(step)                                # (3) G_ema towards G
        losses = {"loss_d": d["loss_d"], "loss_g": loss_g, "d_real": d["d_real"], "d_fake": d["d_fake"]}
        self.steps_done = step + 1
        return losses if r1 is None else {**losses, "r1": r1}

    def epoch_end(self, out_dir: Path, epoch: int) -> None:
        save_grid(evaluated(self.shipped_G, self.fixed_z), Path(out_dir) / "samples" / f"epoch-{epoch:03d}.png")
        cfg = self.config
        if self.fd_faces is not None and epoch % cfg.fd_every == 0:
            from ..face_descriptors import descriptors

            if self._fd_reference is None:
                self._fd_reference = descriptors(self.fd_faces)
            fd = sample_fd_dlib(self.shipped_G, cfg.fd_samples, self._fd_reference, self.sample_seed)
            row = {"epoch": epoch, "step": self.steps_done, "fd_dlib": round(fd, 5), "samples": cfg.fd_samples,
                   "reals": len(self.fd_faces)}
            with open(Path(out_dir) / FD_LOG, "a") as fh:
                fh.write(json.dumps(row) + "\n")


@torch.no_grad()
def sample_fd_dlib(G: Generator, n: int, reference: np.ndarray, seed: int = 0, batch: int = 200) -> float:
    """The Fréchet distance between the dlib descriptors of ``n`` samples of ``G`` (latents seeded
    by ``(seed, "fd")``, G in eval mode) and the descriptors ``reference`` of real faces."""
    from ..face_descriptors import descriptors, frechet_distance

    gen = seeded(seed, "fd")
    found = []
    for start in range(0, n, batch):
        z = G.sample_z(min(batch, n - start), gen)
        found.append(descriptors(to_uint8(evaluated(G, z))))
    return frechet_distance(np.concatenate(found), reference)


def gan_config(name: str, loss: str | None = None) -> GANConfig:
    if name not in GAN_PRESETS:
        raise ValueError(f"unknown GAN config {name!r}; choose from {', '.join(GAN_PRESETS)}")
    config = copy.deepcopy(GAN_PRESETS[name])
    if loss is not None:
        check_loss_options(loss)
        config.loss = loss
    return config
