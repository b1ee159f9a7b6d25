"""What a run draws: sample and glimpse grids at each epoch's end, and the loss curves."""

from __future__ import annotations

from pathlib import Path

import torch

from ..data import save_image_atomic, to_uint8
from ..viz import image_grid, plot_curves


def save_grid(images: torch.Tensor, path: Path, ncols: int = 8) -> None:
    """Write a ``(N, 3, H, W)`` tensor in ``[-1, 1]`` as one grid PNG."""
    save_image_atomic(image_grid(to_uint8(images), ncols), path)


def save_epoch_grid(rows: list[torch.Tensor], out_dir: Path, folder: str, epoch: int) -> None:
    """Rows of equally many images (input / output / truth, ...) as ``OUT/FOLDER/epoch-NNN.png``."""
    save_grid(torch.cat(rows), Path(out_dir) / folder / f"epoch-{epoch:03d}.png", ncols=len(rows[0]))


def plot_losses(out_dir: Path, recipe) -> None:
    """``losses.png`` from the run's ``log.jsonl`` (nothing before the first log row)."""
    log_path = Path(out_dir) / "log.jsonl"
    if log_path.exists():
        plot_curves(log_path, Path(out_dir) / "losses.png", list(recipe.loss_keys), f"{recipe.name} training")


@torch.no_grad()
def sample_grid(G: torch.nn.Module, n: int, seed: int = 0):
    """``n`` faces of generator ``G`` from latents seeded by ``(seed, "sample")``, as one uint8 grid
    of about √n columns (what ``ganfill sample`` writes)."""
    from .seeding import seeded

    images = G(G.sample_z(n, seeded(seed, "sample")))
    return image_grid(to_uint8(images), int(max(1, round(n ** 0.5))))


@torch.no_grad()
def evaluated(module: torch.nn.Module, *inputs: torch.Tensor) -> torch.Tensor:
    """``module(*inputs)`` in eval mode and without gradients, for an epoch's pictures; the module
    is back in training mode after."""
    module.eval()
    try:
        return module(*inputs)
    finally:
        module.train()
