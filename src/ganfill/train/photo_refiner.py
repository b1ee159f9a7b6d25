"""Training the photo-scale refiner: the thesis's joint model one octave up, on in-the-wild faces.

The 64-px LSGAN gives the hole its structure (a face that fits the context); the refiner, at
``size`` (128) and fully convolutional, gives it the texture of the photo.  Each step:

    masks            random masks of every kind at ``size``
    completion       the truth shrunk to 64 px, the LSGAN's encoder start (+ a short latent search),
                     G(ẑ) scaled back to ``size`` (bicubic) and pasted into the hole
    output = R(completion, mask)                     known pixels kept by construction
    D step           a patch discriminator, least squares (the thesis's GAN loss): real faces
                     towards b, the refiner's outputs towards a
    R step           L1 over the hole + adv_weight · ½(D(output) − c)²
                     [+ ssim_weight · (1 − SSIM(output, truth)), the evaluator's SSIM]

The adversarial term is what makes the hole sharp: L1 alone is minimised by the average of all
plausible faces, a blur; the patch discriminator penalises exactly that blur.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import torch

from ..data import MODEL_SIZE, WILD_SIZE
from ..inpaint.refine import upscaled_completion
from ..models.gan import LOSS_VARIANTS
from ..models.refiner import (REFINER_PRESETS, PatchDiscriminator, PatchDiscriminatorConfig, Refiner,
                              RefinerConfig)
from .adversarial import check_loss_options, discriminator_step, generator_loss
from .encoder import TRAIN_MASK_KINDS, random_masks
from .loop import Recipe
from .pictures import evaluated, save_epoch_grid
from .refiner import batch_ssim, hole_mean
from .seeding import seeded

@dataclass
class PhotoRefinerTrainConfig:
    """The defaults are the settings of the shipped ``refiner-wild.safetensors`` (docs/training.md)."""

    refiner: RefinerConfig = field(default_factory=lambda: RefinerConfig(**{**vars(REFINER_PRESETS["unet"]),
                                                                            "detail_head": 24}))
    discriminator: PatchDiscriminatorConfig = field(default_factory=PatchDiscriminatorConfig)
    size: int = WILD_SIZE            # the training side (the refiner is fully convolutional)
    lr: float = 3e-4
    d_lr: float = 2e-4
    adv_weight: float = 0.1          # λ_adv: chosen on the validation split (docs/results.md)
    ssim_weight: float = 2.0         # weight of 1 − SSIM(output, truth)
    adv_loss: str = "01"
    mask_kinds: tuple[str, ...] = TRAIN_MASK_KINDS
    search_iterations: int = 0       # 0: the encoder's answer as it is (see docs/results.md)
    gan_weights: str = ""
    encoder_weights: str = ""
    init_weights: str = ""           # a refiner weights file the training started from (fine-tuning)
    # Inference choices, made on the validation split and written into the exported file.
    inference_iterations: int = 10   # latent-search iterations of the input at inference
    flip: bool = True                # average the refiner's output with its mirror image's

    def __post_init__(self) -> None:
        self.mask_kinds = tuple(self.mask_kinds)
        if self.size % MODEL_SIZE:
            raise ValueError(f"the photo refiner's size must be a multiple of {MODEL_SIZE}, got {self.size}")
        check_loss_options(self.adv_loss, adv_weight=self.adv_weight, ssim_weight=self.ssim_weight)


#: ``train-photo-refiner``'s options that are fields of its config
PHOTO_REFINER_FIELDS = ("size", "search_iterations", "adv_weight", "ssim_weight", "lr", "inference_iterations", "flip")


def photo_refiner_defaults() -> dict:
    """``train-photo-refiner``'s options and their defaults: :class:`PhotoRefinerTrainConfig`'s, the
    shipped file's settings."""
    cfg = PhotoRefinerTrainConfig()
    return {**{k: getattr(cfg, k) for k in PHOTO_REFINER_FIELDS}, "detail_head": cfg.refiner.detail_head,
            "init": None, "gan": None, "encoder": None}


def photo_refiner_config(**options):
    """A new photo-refiner run's config from the options of :func:`photo_refiner_defaults` (one left
    out keeps its default).  With ``init``, the starting file's architecture, with ``detail_head``."""
    from ..weights import ENCODER_WEIGHTS, GAN_WEIGHTS, load_refiner, shipped

    o = {**photo_refiner_defaults(), **options}
    if min(o["search_iterations"], o["inference_iterations"], o["detail_head"]) < 0:
        raise ValueError("--search-iterations, --inference-iterations and --detail-head must be >= 0")
    if not o["lr"] > 0:
        raise ValueError("--lr must be positive")
    gan = o["gan"] or shipped(GAN_WEIGHTS.name)     # the completion it refines; its own D judges it
    cfg = PhotoRefinerTrainConfig(**{k: o[k] for k in PHOTO_REFINER_FIELDS}, gan_weights=str(gan),
                                  encoder_weights=str(o["encoder"] or shipped(ENCODER_WEIGHTS.name)),
                                  init_weights=str(o["init"] or ""))
    if o["init"] is not None:   # any refiner's weights fit: it is fully convolutional
        cfg.refiner = load_refiner(o["init"], "cpu").config
    cfg.refiner = replace(cfg.refiner, detail_head=o["detail_head"])
    return cfg


class UpscaledLSGANCompleter:
    """The refiner's training input: :func:`upscaled_completion` with seeds drawn from the step's generator."""

    def __init__(self, inpainter):
        self.inpainter = inpainter

    def __call__(self, images: torch.Tensor, masks: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        seeds = torch.randint(0, 2**62, (len(images),), generator=gen).tolist()
        return upscaled_completion(self.inpainter, images, masks, seeds)


class PhotoRefinerRecipe(Recipe):
    name = "photo-refiner"
    loss_keys = ("loss", "hole_l1", "input_l1", "adv", "ssim", "loss_d", "d_real", "d_fake")

    def __init__(self, config: PhotoRefinerTrainConfig, completer, device: torch.device | str = "cpu",
                 glimpse: torch.Tensor | None = None):
        super().__init__(config)
        self.image_size = config.size
        self.device = torch.device(device)
        self.completer = completer
        self.loss = LOSS_VARIANTS[config.adv_loss]
        self.R = Refiner(config.refiner).to(self.device)
        self.D = PatchDiscriminator(config.discriminator).to(self.device)
        self.opt_r = torch.optim.Adam(self.R.parameters(), lr=config.lr, betas=(0.5, 0.999))
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=config.d_lr, betas=(0.5, 0.999))
        self.register({"R": self.R, "D": self.D}, {"R": self.opt_r, "D": self.opt_d})
        self.glimpse = glimpse
        self._glimpse_input: tuple[torch.Tensor, torch.Tensor] | None = None

    def train_step(self, truth: torch.Tensor, gen: torch.Generator, step: int) -> dict[str, float]:
        truth = truth.to(self.device)
        masks = random_masks(len(truth), self.config.mask_kinds, gen, self.config.size).to(self.device)
        inputs = self.completer(truth, masks, gen).detach()
        out = self.trained["R"](inputs, masks)
        logs: dict[str, float] = {"loss_d": 0.0, "d_real": 0.0, "d_fake": 0.0}
        adv = out.new_zeros(())
        if self.config.adv_weight > 0:
            # D step: real faces against the refiner's current outputs.
            logs = discriminator_step(self.trained["D"], self.opt_d, self.loss, truth, out)
            # R step: D judges the output; its weights are frozen for this term.
            adv = generator_loss(self.D, self.loss, out)
        hole_l1 = hole_mean((out - truth).abs(), masks)
        ssim = batch_ssim(out, truth, self.config.ssim_weight > 0)
        loss = hole_l1 + self.config.adv_weight * adv + self.config.ssim_weight * (1 - ssim)
        self.update(self.opt_r, loss)
        with torch.no_grad():
            input_l1 = hole_mean((inputs - truth).abs(), masks)
        return {"loss": loss.item(), "hole_l1": hole_l1.item(), "input_l1": input_l1.item(), "adv": adv.item(),
                "ssim": ssim.item(), **logs}

    def epoch_end(self, out_dir: Path, epoch: int) -> None:
        """Rows: the upscaled LSGAN completion / the refiner's output / the truth, on fixed faces."""
        if self.glimpse is None:
            return
        truth = self.glimpse.to(self.device)
        if self._glimpse_input is None:
            masks = random_masks(len(truth), self.config.mask_kinds, seeded(0, "glimpse-masks"),
                                 self.config.size).to(self.device)
            self._glimpse_input = (self.completer(truth, masks, seeded(0, "glimpse")).detach(), masks)
        inputs, masks = self._glimpse_input
        save_epoch_grid([inputs, evaluated(self.R, inputs, masks), truth], out_dir, "glimpses", epoch)

