"""Training the Context Encoder baseline (Pathak et al. 2016) with its own discriminator.

Each step draws random masks of every kind and is (1) a discriminator step, then (2) a step of
the context encoder CE on

    rec_weight · L2 over the hole  +  adv_weight · ½(D(CE(y, M)) − c)²

Pathak et al. weigh 0.999 reconstruction against 0.001 adversarial; the adversarial loss here is
the least-squares one, like the rest of ganfill, and D sees the whole composited image (the hole
may be anywhere, so there is no fixed patch to judge).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..models.context_encoder import CONTEXT_ENCODER_PRESETS, ContextEncoder, ContextEncoderConfig
from ..models.gan import LOSS_VARIANTS, Discriminator, DiscriminatorConfig
from .adversarial import check_loss_options, discriminator_step, generator_loss
from .loop import Recipe
from .pictures import evaluated, save_epoch_grid
from .seeding import seeded
from .encoder import TRAIN_MASK_KINDS, random_masks
from .refiner import hole_mean


@dataclass
class ContextEncoderTrainConfig:
    context_encoder: ContextEncoderConfig = field(default_factory=ContextEncoderConfig)
    discriminator: DiscriminatorConfig = field(default_factory=DiscriminatorConfig)
    rec_weight: float = 0.999
    adv_weight: float = 0.001
    loss: str = "01"                 # LSGAN targets, a key of LOSS_VARIANTS
    lr: float = 2e-4
    lr_d: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    mask_kinds: tuple[str, ...] = TRAIN_MASK_KINDS

    def __post_init__(self) -> None:
        self.mask_kinds = tuple(self.mask_kinds)
        check_loss_options(self.loss, adv_weight=self.adv_weight, rec_weight=self.rec_weight)


def context_encoder_config(name: str, adv_weight: float | None = None) -> ContextEncoderTrainConfig:
    """The training config of preset ``name``; D has the network's width (DCGAN's 64-512 at width 1)."""
    if name not in CONTEXT_ENCODER_PRESETS:
        raise ValueError(f"unknown context-encoder config {name!r}; choose from {', '.join(CONTEXT_ENCODER_PRESETS)}")
    ce = copy.deepcopy(CONTEXT_ENCODER_PRESETS[name])
    config = ContextEncoderTrainConfig(ce, DiscriminatorConfig(width=ce.width))
    if adv_weight is not None:
        config.adv_weight = adv_weight
        config.__post_init__()
    return config


class ContextEncoderRecipe(Recipe):
    name = "context-encoder"
    loss_keys = ("loss_g", "rec_l2", "adv", "loss_d")

    def __init__(self, config: ContextEncoderTrainConfig, device: torch.device | str = "cpu",
                 glimpse: torch.Tensor | None = None):
        super().__init__(config)
        self.device = torch.device(device)
        self.CE = ContextEncoder(config.context_encoder).to(self.device)
        self.D = Discriminator(config.discriminator).to(self.device)
        self.loss = LOSS_VARIANTS[config.loss]
        self.opt_ce = torch.optim.Adam(self.CE.parameters(), lr=config.lr, betas=(config.beta1, config.beta2))
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=config.lr_d, betas=(config.beta1, config.beta2))
        self.register({"CE": self.CE, "D": self.D}, {"CE": self.opt_ce, "D": self.opt_d})
        self.glimpse = glimpse

    def train_step(self, real: torch.Tensor, gen: torch.Generator, step: int) -> dict[str, float]:
        masks = random_masks(len(real), self.config.mask_kinds, gen).to(self.device)
        fake = self.trained["CE"](real, masks)
        adversarial = self.config.adv_weight > 0

        # (1) D step: push D(y) towards b and D(CE(y, M)) towards a.
        loss_d = discriminator_step(self.trained["D"], self.opt_d, self.loss, real, fake)["loss_d"] \
            if adversarial else 0.0

        # (2) CE step: the hole's L2 plus pushing D(CE(y, M)) towards c, with D frozen.
        rec = hole_mean((fake - real) ** 2, masks)
        adv = generator_loss(self.D, self.loss, fake) if adversarial else rec.new_zeros(())
        loss_g = self.config.rec_weight * rec + self.config.adv_weight * adv
        self.update(self.opt_ce, loss_g)
        return {"loss_g": loss_g.item(), "rec_l2": rec.item(), "adv": adv.item(), "loss_d": loss_d}

    def epoch_end(self, out_dir: Path, epoch: int) -> None:
        """Rows: the input (hole white) / the context encoder's fill / the truth."""
        if self.glimpse is None:
            return
        truth = self.glimpse.to(self.device)
        masks = random_masks(len(truth), self.config.mask_kinds, seeded(0, "glimpse-masks")).to(self.device)
        holed = truth * (1 - masks) + masks
        save_epoch_grid([holed, evaluated(self.CE, truth, masks), truth], out_dir, "glimpses", epoch)
