"""Training the latent encoder E against a frozen generator G.

Each step mixes two kinds of pairs:
(1) generated faces x = G(z) under random masks, where the true z is known: E learns z directly,
    and G(E(x, M)) must rebuild x;
(2) real faces y under random masks: G(E(y, M)) must rebuild the whole face, hole included, so
    E learns to pick the latent whose face agrees with what the hole hid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..data import make_mask
from ..models.encoder import EncoderConfig, LatentEncoder
from .loop import Recipe
from .pictures import evaluated, save_epoch_grid

TRAIN_MASK_KINDS = ("center", "box", "free", "half")


@dataclass
class EncoderTrainConfig:
    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    lr: float = 5e-4
    latent_weight: float = 1.0       # weight of ‖E(x) − z‖² on generated faces
    synthetic_fraction: float = 0.5  # share of each batch that is generated faces
    mask_kinds: tuple[str, ...] = TRAIN_MASK_KINDS
    gan_weights: str = ""            # which generator E was trained against (for the record)


def random_masks(n: int, kinds: tuple[str, ...], gen: torch.Generator, size: int = 64) -> torch.Tensor:
    """``n`` masks of kinds drawn at random, seeded from ``gen`` -> float ``(n, 1, size, size)``, 1 = hole."""
    rng = np.random.default_rng(int(torch.randint(0, 2**62, (1,), generator=gen)))
    masks = [make_mask(kinds[int(rng.integers(len(kinds)))], size, rng) for _ in range(n)]
    return torch.from_numpy(np.stack(masks).astype(np.float32))[:, None]


class EncoderRecipe(Recipe):
    name = "encoder"
    loss_keys = ("loss", "real_l1", "synth_l1", "latent_mse")

    def __init__(self, config: EncoderTrainConfig, G: nn.Module, device: torch.device | str = "cpu",
                 glimpse: torch.Tensor | None = None):
        super().__init__(config)
        self.device = torch.device(device)
        if G.config.size != config.encoder.size:
            raise ValueError(f"the encoder is for {config.encoder.size}-px images but G makes {G.config.size}-px ones")
        self.image_size = config.encoder.size
        self.G = G.to(self.device).eval().requires_grad_(False)
        self.E = LatentEncoder(config.encoder).to(self.device)
        self.opt = torch.optim.Adam(self.E.parameters(), lr=config.lr, betas=(0.9, 0.999))
        self.register({"E": self.E}, {"E": self.opt})
        self.glimpse = glimpse

    def train_step(self, real: torch.Tensor, gen: torch.Generator, step: int) -> dict[str, float]:
        n = real.shape[0]
        n_synth = int(round(n * self.config.synthetic_fraction))
        with torch.no_grad():
            z_true = self.G.sample_z(n_synth, gen).to(self.device)
            synth = self.G(z_true)
        images = torch.cat([real, synth])
        masks = random_masks(len(images), self.config.mask_kinds, gen, self.image_size).to(self.device)
        z = self.trained["E"](images, masks)
        rebuilt = self.G(z)
        real_l1 = F.l1_loss(rebuilt[:n], real)
        synth_l1 = F.l1_loss(rebuilt[n:], synth) if n_synth else real_l1.new_zeros(())
        latent = F.mse_loss(z[n:], z_true) if n_synth else real_l1.new_zeros(())
        loss = real_l1 + synth_l1 + self.config.latent_weight * latent
        self.update(self.opt, loss)
        return {"loss": loss.item(), "real_l1": real_l1.item(), "synth_l1": synth_l1.item(),
                "latent_mse": latent.item()}

    def epoch_end(self, out_dir: Path, epoch: int) -> None:
        if self.glimpse is None:
            return
        images = self.glimpse.to(self.device)
        masks = random_masks(len(images), self.config.mask_kinds, torch.Generator().manual_seed(0),
                             self.image_size).to(self.device)
        with torch.no_grad():
            rebuilt = self.G(evaluated(self.E, images, masks))
        holed = images * (1 - masks) + masks
        save_epoch_grid([holed, rebuilt, images], out_dir, "glimpses", epoch)
