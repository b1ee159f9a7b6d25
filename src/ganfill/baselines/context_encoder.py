"""The Context Encoder baseline (Pathak et al. 2016) behind the method registry's contract."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from ..data import MODEL_SIZE, mask_to_tensor, to_tensor, to_uint8
from ..inpaint.base import InpaintMethod
from ..models.device import frozen, resolve_device


class ContextEncoderMethod(InpaintMethod):
    """``context-encoder``: one forward pass of the trained context encoder (``context-encoder.safetensors``)."""

    name = "context-encoder"

    def __init__(self, device: str = "auto", weights=None):
        from ..weights import load_context_encoder

        self.device = resolve_device(device)
        self.net = frozen(load_context_encoder(weights, self.device))

    def fill(self, images: np.ndarray, masks: np.ndarray, seeds: Sequence[int], k: int = 1) -> np.ndarray:
        with torch.no_grad():
            out = self.net(to_tensor(images).to(self.device), mask_to_tensor(masks).to(self.device))
        return np.where(masks[..., None], to_uint8(out), images)[:, None]
