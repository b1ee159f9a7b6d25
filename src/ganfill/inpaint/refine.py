"""The thesis's joint model: the LSGAN's fast-path completion, then the autoencoder refiner.

* ``lsgan+ae``: the :class:`Inpainter`'s fast path (encoder start, a short latent search, G(ẑ)
  blended as in the refiner's training: pasted, unless its file says otherwise), then our U-Net
  refiner (``refiner.safetensors``) on that completion.
* ``lsgan+ae-paper``: the same with the thesis's autoencoder (``refiner-paper.safetensors``).
* ``ae-only``: the ablation without the LSGAN: a refiner trained on the image with an empty hole
  (``refiner-ae-only.safetensors``).
* ``lsgan+ae-wild``: the joint model one octave up, for photos: the LSGAN's completion made at
  64 px, scaled to 128 px and pasted into the hole, then a U-Net refiner at 128 px trained on
  in-the-wild faces with a patch discriminator (``refiner-wild.safetensors``).

Every method returns the known pixels exactly as given (the refiner composites, and the
:class:`~ganfill.methods.InpaintMethod` base enforces it again).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from ..data import MODEL_SIZE, WILD_SIZE, mask_to_tensor, to_tensor, to_uint8
from ..models.device import frozen, resolve_device
from .base import InpaintMethod
from ..weights import REFINER_AE_ONLY_WEIGHTS, REFINER_PAPER_WEIGHTS, REFINER_WEIGHTS, REFINER_WILD_WEIGHTS
from .inpainter import Inpainter


@torch.no_grad()
def run_refiner(refiner: torch.nn.Module, x: torch.Tensor, m: torch.Tensor, flip: bool = True) -> torch.Tensor:
    """``refiner(x, m)``, averaged with its answer on the mirrored face when ``flip`` (test-time
    augmentation: faces are nearly symmetric, and on the first 300 test faces with the centre mask
    the average gains 0.14 dB PSNR and 0.002 SSIM over one pass, for a second cheap pass)."""
    out = refiner(x, m)
    if flip:
        out = (out + refiner(x.flip(-1), m.flip(-1)).flip(-1)) / 2
    return out


@torch.no_grad()
def refine_candidates(refiner: torch.nn.Module, completed: torch.Tensor, m: torch.Tensor, k: int,
                      flip: bool = True) -> torch.Tensor:
    """The refiner on ``completed`` ``(N·K, 3, S, S)``, the K candidates of an image adjacent and best
    first, with ``m`` ``(N, 1, S, S)``: candidate 1 with the flip average when ``flip``, candidates
    2..K in one pass.  The average is test-time augmentation for the best guess; on an alternative
    it blends the refiner's two answers, and on the validation split (docs/results.md) one pass gave
    alternatives that differ more (13.3 against 12.7), are sharper and more face-like (fd_dlib
    0.129 against 0.136), for 0.08 dB."""
    m_k = m.repeat_interleave(k, 0)
    out = refiner(completed, m_k)
    if flip:
        first = torch.arange(0, len(completed), k, device=completed.device)
        mirrored = refiner(completed[first].flip(-1), m_k[first].flip(-1)).flip(-1)
        out[first] = (out[first] + mirrored) / 2
    return out


def refine(refiner: torch.nn.Module, completed: np.ndarray, masks: np.ndarray, flip: bool = True) -> np.ndarray:
    """Run ``refiner`` on uint8 ``(N, 64, 64, 3)`` completions with bool ``(N, 64, 64)`` masks -> uint8."""
    device = next(refiner.parameters()).device
    out = run_refiner(refiner, to_tensor(completed).to(device), mask_to_tensor(masks).to(device), flip)
    return np.where(masks[..., None], to_uint8(out), completed)


def shrink(images: torch.Tensor, masks: torch.Tensor, side: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Images by area averaging, masks so that a small pixel is hole if any of its pixels is."""
    factor = images.shape[-1] // side
    return F.avg_pool2d(images, factor), (F.max_pool2d(masks, factor) > 0).float()


def upscaled_completion(inpainter: Inpainter, images: torch.Tensor, masks: torch.Tensor, seeds: Sequence[int],
                        candidates: int = 1) -> torch.Tensor:
    """The LSGAN's completion of ``images`` ``(N, 3, S, S)`` in ``[-1, 1]`` at ``S`` (a multiple of 64):
    G(ẑ) found at 64 px, scaled up (bicubic) and pasted into the hole of ``masks`` ``(N, 1, S, S)``
    (1 = hole) -> ``(N·K, 3, S, S)``, the K candidates of an image adjacent and ranked by the latent
    search's loss, best first.  The photo refiner's input, in training and at inference alike."""
    n, k = images.shape[0], candidates
    small, small_masks = shrink(images, masks, MODEL_SIZE)
    result, generated = inpainter.generate(small, small_masks, k, seeds)
    order = torch.sort(result.loss.detach().view(n, k), dim=1, stable=True).indices
    generated = torch.take_along_dim(generated.view(n, k, *small.shape[1:]), order[:, :, None, None, None], dim=1)
    big = F.interpolate(generated.flatten(0, 1), size=images.shape[-2:], mode="bicubic",
                        align_corners=False).clamp(-1, 1)
    images_k, masks_k = images.repeat_interleave(k, 0), masks.repeat_interleave(k, 0)
    return images_k * (1 - masks_k) + big * masks_k


class LSGANRefineMethod(InpaintMethod):
    """``lsgan+ae``: the LSGAN fast path, then the refiner, in the method registry."""

    name = "lsgan+ae"
    preset = "fast"
    refiner_file = REFINER_WEIGHTS.name

    def __init__(self, device: str = "auto", iterations: int | None = None, lam: float | None = None,
                 lr: float | None = None, blend: str | None = None, gan_weights=None, encoder_weights=None,
                 refiner_weights=None, flip: bool = True):
        from ..weights import load_refiner, refiner_input_settings, shipped

        device = resolve_device(device)
        refiner_path = refiner_weights if refiner_weights is not None else shipped(self.refiner_file)
        self.refiner = frozen(load_refiner(refiner_path, device, input="lsgan"))
        # The refiner's input is made as in its training, unless the caller overrides it.
        trained = refiner_input_settings(refiner_path)
        self.inpainter = Inpainter.from_pretrained(
            self.preset, device=device, iterations=iterations if iterations is not None else trained.get("iterations"),
            lam=lam, lr=lr, blend=blend if blend is not None else trained["blend"], gan_weights=gan_weights,
            encoder_weights=encoder_weights)
        self.flip = flip

    def fill(self, images: np.ndarray, masks: np.ndarray, seeds: Sequence[int], k: int = 1) -> np.ndarray:
        """``k`` refined completions per image, in the order of their LSGAN loss (best first), on
        tensors from the LSGAN's completion (made as in the refiner's training) to the refiner's output."""
        device = self.inpainter.device
        m = mask_to_tensor(masks).to(device)
        completed = self.inpainter.complete_tensor(to_tensor(images).to(device), m, k, seeds).images
        out = refine_candidates(self.refiner, completed.flatten(0, 1), m, k, self.flip)
        return to_uint8(out).reshape(len(images), k, MODEL_SIZE, MODEL_SIZE, 3)


class LSGANPaperRefineMethod(LSGANRefineMethod):
    """``lsgan+ae-paper``: the same, with the thesis's autoencoder."""

    name = "lsgan+ae-paper"
    refiner_file = REFINER_PAPER_WEIGHTS.name


class AEOnlyMethod(InpaintMethod):
    """``ae-only``: the refiner alone, on the image with its hole emptied (zeros); no LSGAN."""

    name = "ae-only"
    refiner_file = REFINER_AE_ONLY_WEIGHTS.name

    def __init__(self, device: str = "auto", refiner_weights=None, flip: bool = True):
        from ..weights import load_refiner, shipped

        self.refiner = frozen(load_refiner(refiner_weights if refiner_weights is not None
                                           else shipped(self.refiner_file), resolve_device(device), input="empty"))
        self.flip = flip

    def fill(self, images: np.ndarray, masks: np.ndarray, seeds: Sequence[int], k: int = 1) -> np.ndarray:
        device = next(self.refiner.parameters()).device
        m = mask_to_tensor(masks).to(device)
        x = to_tensor(images).to(device) * (1.0 - m)             # the hole exactly 0, as in training
        out = run_refiner(self.refiner, x, m, self.flip)
        return np.where(masks[..., None], to_uint8(out), images)[:, None]


class WildRefineMethod(InpaintMethod):
    """``lsgan+ae-wild``: the LSGAN's 64-px completion scaled to 128 px, then the photo refiner."""

    name = "lsgan+ae-wild"
    refiner_file = REFINER_WILD_WEIGHTS.name
    # The refiner's last skip is at half its size and the photo is larger still: the top octaves
    # come from the photo (docs/results.md, "Detail above the model's size").
    adds_detail = True

    def __init__(self, device: str = "auto", iterations: int | None = None, lam: float | None = None,
                 lr: float | None = None, gan_weights=None, encoder_weights=None, refiner_weights=None,
                 flip: bool | None = None):
        from ..weights import load_refiner, refiner_input_settings, shipped

        device = resolve_device(device)
        refiner_path = refiner_weights if refiner_weights is not None else shipped(self.refiner_file)
        self.refiner = frozen(load_refiner(refiner_path, device, input="lsgan-upscaled"))
        settings = refiner_input_settings(refiner_path)
        if settings.get("size") != self.fixed_size:
            raise ValueError(f"{refiner_path}: a refiner trained at {settings.get('size')} px; "
                             f"this method needs one trained at {self.fixed_size} px")
        self.inpainter = Inpainter.from_pretrained(
            "fast", device=device, iterations=iterations if iterations is not None else settings["inference_iterations"],
            lam=lam, lr=lr, gan_weights=gan_weights, encoder_weights=encoder_weights)
        self.flip = settings["flip"] if flip is None else flip

    def fill(self, images: np.ndarray, masks: np.ndarray, seeds: Sequence[int], k: int = 1) -> np.ndarray:
        device = self.inpainter.device
        m = mask_to_tensor(masks).to(device)
        completed = upscaled_completion(self.inpainter, to_tensor(images).to(device), m, seeds, k)
        out = refine_candidates(self.refiner, completed, m, k, self.flip)
        return to_uint8(out).reshape(len(images), k, *images.shape[1:])
