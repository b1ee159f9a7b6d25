"""Latent optimisation (Yeh et al. 2017): find ẑ = argmin_z L_contextual(z) + λ L_perceptual(z),
for a whole batch at once, with z clipped to the prior's range after every Adam step."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from .losses import binary_weights, contextual_loss, importance_weights, perceptual_loss


@dataclass
class LatentSearchConfig:
    iterations: int = 1500
    lr: float = 0.03
    lam: float = 0.003              # λ, for the summed contextual L1 (Yeh et al.'s scale)
    perceptual: str = "lsq"         # "lsq" (matches the LSGAN) or "log" (the thesis's form)
    weighting: str = "importance"   # "importance" (Yeh's Eq. 3) or "binary"
    window: int = 7
    # Early stopping, per image: an image whose best loss has not improved by more than ``tol``
    # (relative) over its last ``patience`` iterations keeps the best z it had then, so that its
    # answer does not depend on the other images of the batch.  ``patience=0`` runs every iteration.
    patience: int = 0
    tol: float = 1e-3


@dataclass
class LatentSearchResult:
    z: torch.Tensor                 # (N, z_dim), the best z seen for each image
    loss: torch.Tensor              # (N,), its total loss
    history: list[float] = field(default_factory=list)   # mean total loss per iteration (Figure 7)
    iterations_run: int = 0


def latent_search(G: nn.Module, D: nn.Module, target: torch.Tensor, mask: torch.Tensor, z0: torch.Tensor,
                  config: LatentSearchConfig, record: bool = False) -> LatentSearchResult:
    """Optimise ``z0`` ``(N, z_dim)`` so that G(z) fits ``target`` ``(N, 3, 64, 64)`` outside ``mask``
    ``(N, 1, 64, 64)`` (1 = hole) and D finds it real.  G and D must be in eval mode; the search
    neither reads nor changes their parameters' ``requires_grad`` (inference models are frozen once
    at load, :func:`~ganfill.models.device.frozen`), so concurrent calls on shared networks are safe.

    Each image's loss depends only on its own z, so one Adam over the batch equals N separate runs.
    """
    weights = importance_weights(mask, config.window) if config.weighting == "importance" else \
        binary_weights(mask) if config.weighting == "binary" else None
    if weights is None:
        raise ValueError(f"unknown weighting {config.weighting!r}; choose importance or binary")
    z = z0.detach().clone().clamp_(-1, 1).requires_grad_(True)
    opt = torch.optim.Adam([z], lr=config.lr)
    best_loss = torch.full((z.shape[0],), float("inf"), device=z.device)
    best_z = z.detach().clone()
    history: list[float] = []
    last_improved = torch.zeros(z.shape[0], dtype=torch.long, device=z.device)
    searching = torch.ones(z.shape[0], dtype=torch.bool, device=z.device)
    it = 0
    for it in range(1, config.iterations + 1):
        generated = G(z)
        loss = contextual_loss(generated, target, weights) + \
            config.lam * perceptual_loss(D(generated), config.perceptual)
        with torch.no_grad():
            # relative to |best|, so that it also holds for negative losses (the "log" prior)
            improved = torch.isinf(best_loss) | (loss < best_loss - config.tol * best_loss.abs())
            last_improved = torch.where(improved & searching, it, last_improved)
            better = (loss < best_loss) & searching
            best_loss = torch.where(better, loss, best_loss)
            best_z[better] = z[better]
            if config.patience:
                searching &= it - last_improved < config.patience
        if record:
            history.append(float(loss.detach().mean()))
        if not searching.any():
            break
        # The gradient with respect to z alone: nothing is accumulated in (or toggled on) the
        # networks' parameters, so G and D may be frozen and shared between threads.
        (z.grad,) = torch.autograd.grad(loss.sum(), [z])
        opt.step()
        with torch.no_grad():
            z.clamp_(-1, 1)
    # the last step's z has not been scored yet
    with torch.no_grad():
        generated = G(z)
        loss = contextual_loss(generated, target, weights) + \
            config.lam * perceptual_loss(D(generated), config.perceptual)
        better = (loss < best_loss) & searching
        best_loss = torch.where(better, loss, best_loss)
        best_z[better] = z[better]
    return LatentSearchResult(best_z, best_loss, history, it)
