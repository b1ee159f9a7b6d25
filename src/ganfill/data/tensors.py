"""uint8 images and bool masks to the networks' float tensors and back."""

from __future__ import annotations

import numpy as np
import torch


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 ``(H, W, 3)`` or ``(N, H, W, 3)`` -> float ``(N, 3, H, W)`` in ``[-1, 1]``."""
    arr = np.asarray(images)
    if arr.ndim == 3:
        arr = arr[None]
    t = torch.from_numpy(np.ascontiguousarray(arr)).permute(0, 3, 1, 2).float()
    return t / 127.5 - 1.0


class NonFiniteError(ValueError):
    """A network's output held NaN or infinite values: never written or returned as pixels."""


def to_uint8(tensor: torch.Tensor) -> np.ndarray:
    """float ``(N, 3, H, W)`` in ``[-1, 1]`` -> uint8 ``(N, H, W, 3)``, rounded to nearest.  NaN or
    inf is a :class:`NonFiniteError` (cast to uint8 it would be silently black)."""
    t = tensor.detach().float().cpu()
    if not bool(torch.isfinite(t).all()):
        raise NonFiniteError("the model produced NaN or infinite values; its weights may be damaged")
    t = ((t.clamp(-1, 1) + 1.0) * 127.5).round()
    return t.permute(0, 2, 3, 1).to(torch.uint8).numpy()


def mask_to_tensor(masks: np.ndarray) -> torch.Tensor:
    """bool/0-1 ``(H, W)`` or ``(N, H, W)`` -> float ``(N, 1, H, W)`` with 1 = hole."""
    arr = np.asarray(masks)
    if arr.ndim == 2:
        arr = arr[None]
    return torch.from_numpy((arr > 0).astype(np.float32))[:, None]
