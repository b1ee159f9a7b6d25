"""Yeh et al.'s losses for semantic inpainting: importance-weighted contextual loss and the prior
(perceptual) loss from the discriminator.  All tensors are ``(N, C, H, W)``; masks are 1 = hole."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def importance_weights(mask: torch.Tensor, window: int = 7) -> torch.Tensor:
    """Yeh et al.'s Eq. 3: for a known pixel, the fraction of hole pixels in its ``window`` x ``window``
    neighbourhood (only neighbours inside the image count); 0 inside the hole.

    Known pixels far from the hole get weight 0 too: only the context near the hole constrains z.
    ``mask`` ``(N, 1, H, W)`` with 1 = hole -> weights of the same shape in ``[0, 1]``.
    """
    if window % 2 == 0 or window < 1:
        raise ValueError(f"importance window must be odd and positive, got {window}")
    frac = F.avg_pool2d(mask, window, stride=1, padding=window // 2, count_include_pad=False)
    return frac * (1.0 - mask)


def binary_weights(mask: torch.Tensor) -> torch.Tensor:
    """Plain weights: 1 on every known pixel, 0 in the hole."""
    return 1.0 - mask


def contextual_loss(generated: torch.Tensor, target: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """‖W ⊙ (G(z) − y)‖₁ per image: a sum over channels and pixels -> ``(N,)``."""
    return (weights * (generated - target)).abs().flatten(1).sum(1)


def perceptual_loss(d_out: torch.Tensor, kind: str = "lsq", target: float = 1.0) -> torch.Tensor:
    """The prior loss per image, from the discriminator's unbounded score ``(N,)``.

    ``log``: log(1 − σ(D(G(z)))), the thesis's form (lower when D finds G(z) real).
    ``lsq``: (D(G(z)) − c)², the least-squares form that matches how the LSGAN's D was trained.
    """
    if kind == "log":
        return -F.softplus(d_out)          # log(1 - sigmoid(x)) = -softplus(x), numerically stable
    if kind == "lsq":
        return (d_out - target) ** 2
    raise ValueError(f"unknown perceptual loss {kind!r}; choose log or lsq")
