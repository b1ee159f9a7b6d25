"""Training the autoencoder refiner (the thesis's Figure 6) on (completion, truth) pairs.

Each step draws random masks of every kind (centre, box, free-form, half), asks a *completer*
for the refiner's input, and trains the refiner R to give back the truth in the hole:

    input  = completer(truth, mask)          the LSGAN's blended completion, or the empty hole
    output = R(input, mask)                  known pixels kept by construction
    loss   = L1 over the hole pixels (mean over the hole, not the image)
             [+ ssim_weight · (1 − SSIM(output, truth)), the evaluator's SSIM, made differentiable]
             [+ adv_weight · ½(D(output) − c)², D the frozen LSGAN discriminator]

The L1 is averaged over the hole only: outside the hole the output *is* the input, so a
whole-image mean would just scale the loss by the hole's area and weigh small holes less.

A completer is any callable ``(images (N,3,64,64) float, masks (N,1,64,64), gen) -> (N,3,64,64)``
whose output agrees with ``images`` outside the hole.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from ..models.gan import LOSS_VARIANTS
from ..models.refiner import REFINER_PRESETS, Refiner, RefinerConfig
from .adversarial import check_loss_options
from .loop import Recipe
from .pictures import evaluated, save_epoch_grid
from .seeding import seeded
from .encoder import TRAIN_MASK_KINDS, random_masks

Completer = Callable[[torch.Tensor, torch.Tensor, torch.Generator], torch.Tensor]
REFINER_INPUTS = ("lsgan", "empty")


@dataclass
class RefinerTrainConfig:
    refiner: RefinerConfig = field(default_factory=lambda: RefinerConfig(**vars(REFINER_PRESETS["unet"])))
    lr: float = 5e-4
    beta1: float = 0.9               # a regression loss: Adam's usual betas, not the GAN's 0.5
    beta2: float = 0.999
    adv_weight: float = 0.0          # λ_adv of the frozen LSGAN discriminator's generator loss
    ssim_weight: float = 0.0         # weight of 1 − SSIM(output, truth), the evaluator's SSIM
    adv_loss: str = "01"             # the LSGAN's targets (a key of LOSS_VARIANTS), from its weights
    input: str = "lsgan"             # "lsgan": fast-path LSGAN completion; "empty": the hole zeroed (ae-only)
    mask_kinds: tuple[str, ...] = TRAIN_MASK_KINDS
    search_iterations: int = 10      # the LSGAN completer's latent-search iterations (the fast preset's)
    # The LSGAN completer's blending.  A paste: the refiner learns to remove the seam itself, and
    # the completions can be made on a GPU (the Poisson solver runs on the CPU, image by image).
    blend: str = "paste"
    gan_weights: str = ""            # which LSGAN made the inputs / judges the outputs (for the record)
    encoder_weights: str = ""
    init_weights: str = ""           # a refiner weights file the training started from (fine-tuning)

    def __post_init__(self) -> None:
        self.mask_kinds = tuple(self.mask_kinds)
        if self.input not in REFINER_INPUTS:
            raise ValueError(f"unknown refiner input {self.input!r}; choose from {', '.join(REFINER_INPUTS)}")
        check_loss_options(self.adv_loss, adv_weight=self.adv_weight, ssim_weight=self.ssim_weight)


def batch_ssim(out: torch.Tensor, truth: torch.Tensor, differentiable: bool) -> torch.Tensor:
    """The evaluator's SSIM, the batch's mean: a loss term when weighted, else only watched in the log."""
    from ..metrics import ssim_torch    # here: its scipy.stats would cost every command's parser seconds

    with torch.set_grad_enabled(differentiable and torch.is_grad_enabled()):
        return ssim_torch(out, truth).mean()


# ---------------------------------------------------------------- completers

class EmptyHoleCompleter:
    """The hole left empty: zeros (mid-grey in ``[-1, 1]``), for the ``ae-only`` ablation."""

    def __call__(self, images: torch.Tensor, masks: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        return images * (1.0 - masks)


class LSGANCompleter:
    """The LSGAN's blended completion from an :class:`~ganfill.inpaint.Inpainter` (one candidate):
    :meth:`~ganfill.inpaint.Inpainter.complete_tensor`, the very function that makes the ``lsgan+ae``
    method's refiner input at inference time."""

    def __init__(self, inpainter):
        self.inpainter = inpainter

    def __call__(self, images: torch.Tensor, masks: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        starts = torch.randint(0, 2**62, (len(images),), generator=gen).tolist()   # one seed per image
        return self.inpainter.complete_tensor(images, masks, 1, starts).images[:, 0]


def hole_mean(error: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """Mean of a per-pixel ``(N, 3, H, W)`` error over the hole pixels ``(N, 1, H, W)`` of the batch."""
    return (error * masks).sum() / (masks.sum() * error.shape[1]).clamp_min(1.0)


# ---------------------------------------------------------------- the recipe

class RefinerRecipe(Recipe):
    name = "refiner"
    loss_keys = ("loss", "hole_l1", "input_l1", "adv", "ssim")

    def __init__(self, config: RefinerTrainConfig, completer: Completer, D: nn.Module | None = None,
                 device: torch.device | str = "cpu", glimpse: torch.Tensor | None = None):
        super().__init__(config)
        self.device = torch.device(device)
        self.completer = completer
        if config.adv_weight > 0 and D is None:
            raise ValueError("an adversarial weight needs the LSGAN's discriminator")
        self.D = D.to(self.device).eval().requires_grad_(False) if D is not None else None
        self.adv = LOSS_VARIANTS[config.adv_loss]
        self.R = Refiner(config.refiner).to(self.device)
        self.opt = torch.optim.Adam(self.R.parameters(), lr=config.lr, betas=(config.beta1, config.beta2))
        self.register({"R": self.R}, {"R": self.opt})
        self.glimpse = glimpse
        self._glimpse_input: tuple[torch.Tensor, torch.Tensor] | None = None

    def train_step(self, truth: torch.Tensor, gen: torch.Generator, step: int) -> dict[str, float]:
        masks = random_masks(len(truth), self.config.mask_kinds, gen).to(self.device)
        inputs = self.completer(truth, masks, gen).detach()
        out = self.trained["R"](inputs, masks)
        hole_l1 = hole_mean((out - truth).abs(), masks)
        ssim = batch_ssim(out, truth, self.config.ssim_weight > 0)
        loss = hole_l1 + self.config.ssim_weight * (1 - ssim)
        adv = hole_l1.new_zeros(())
        if self.config.adv_weight > 0:
            # D is frozen and in eval mode: it only judges, it is not trained here.
            adv = self.adv.generator(self.D(out))
            loss = loss + self.config.adv_weight * adv
        self.update(self.opt, loss)
        with torch.no_grad():
            input_l1 = hole_mean((inputs - truth).abs(), masks)
        return {"loss": loss.item(), "hole_l1": hole_l1.item(), "input_l1": input_l1.item(), "adv": adv.item(),
                "ssim": ssim.item()}

    def epoch_end(self, out_dir: Path, epoch: int) -> None:
        """Figure 6: rows input / refiner output / truth for the fixed glimpse faces."""
        if self.glimpse is None:
            return
        truth = self.glimpse.to(self.device)
        if self._glimpse_input is None:     # the same masks and inputs every epoch; made once
            masks = random_masks(len(truth), self.config.mask_kinds, seeded(0, "glimpse-masks")).to(self.device)
            self._glimpse_input = (self.completer(truth, masks, seeded(0, "glimpse")).detach(), masks)
        inputs, masks = self._glimpse_input
        save_epoch_grid([inputs, evaluated(self.R, inputs, masks), truth], out_dir, "glimpses", epoch)
