"""The least-squares adversarial steps that the LSGAN and the Context Encoder share, on
:class:`~ganfill.models.gan.LSGANLoss` (Mao et al. 2017)."""

from __future__ import annotations

import torch
from torch import nn

from ..models.gan import LOSS_VARIANTS, LSGANLoss


def check_loss_options(loss: str, **weights: float) -> None:
    """A ValueError for an unknown LSGAN loss (a key of LOSS_VARIANTS) or a negative loss weight."""
    if loss not in LOSS_VARIANTS:
        raise ValueError(f"unknown LSGAN loss {loss!r}; choose from {', '.join(LOSS_VARIANTS)}")
    negative = [name for name, value in weights.items() if value < 0]
    if negative:
        raise ValueError(f"the loss weights must be >= 0 ({', '.join(negative)})")


def discriminator_step(D: nn.Module, opt: torch.optim.Optimizer, loss: LSGANLoss, real: torch.Tensor,
                       fake: torch.Tensor) -> dict[str, float]:
    """One D step on ``loss.discriminator``: push D(real) towards b and D(fake) towards a.

    Real and fake go through D separately (DCGAN keeps batch-norm statistics per kind), each term
    with its own backward so that DDP sees one forward per backward.
    """
    opt.zero_grad(set_to_none=True)
    d_real = D(real)
    loss_real = loss.discriminator(d_real=d_real)
    loss_real.backward()
    d_fake = D(fake.detach())
    loss_fake = loss.discriminator(d_fake=d_fake)
    loss_fake.backward()
    opt.step()
    return {"loss_d": (loss_real + loss_fake).item(), "d_real": d_real.detach().mean().item(),
            "d_fake": d_fake.detach().mean().item()}


def generator_loss(D: nn.Module, loss: LSGANLoss, fake: torch.Tensor) -> torch.Tensor:
    """½(D(fake) − c)² with D's weights frozen, so that no gradient is spent on them.  Pass the plain
    (unwrapped) D: its gradients are not to be averaged across processes.

    D's batch norm still normalises with the fake batch's own statistics (as in the D step), but its
    running statistics are not updated: they are what D uses in eval mode, where the latent search
    and the refiner ask it, and the G step would otherwise make them two-thirds fake."""
    norms = [m for m in D.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    momenta = [m.momentum for m in norms]
    D.requires_grad_(False)
    for m in norms:
        m.momentum = 0.0         # running = (1 − 0)·running + 0·batch: unchanged
    try:
        return loss.generator(D(fake))
    finally:
        D.requires_grad_(True)
        for m, momentum in zip(norms, momenta):
            m.momentum = momentum
