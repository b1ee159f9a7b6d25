"""Where the networks run, and how an inference network is held.  Every front end (CLI, server,
evaluator, training, the methods) resolves a device here, so ``"auto"`` means the same everywhere."""

from __future__ import annotations

import torch

DEVICES = ("auto", "cpu", "cuda")


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """``"auto"`` (or None) -> CUDA if a GPU is visible, else the CPU; any other name as
    :class:`torch.device` takes it (``"cpu"``, ``"cuda"``, ``"cuda:1"``).  A clear ValueError for an
    unknown name or for CUDA on a machine without it."""
    if device is None or (isinstance(device, str) and device == "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"unknown device {device!r}; choose from {', '.join(DEVICES)}") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for, but no CUDA GPU is visible to PyTorch; use --device cpu or auto")
    return resolved


def frozen(module: torch.nn.Module) -> torch.nn.Module:
    """``module`` in eval mode with every parameter's ``requires_grad`` off, set once when an
    inference model is loaded: nothing is toggled per call, so threads may share the model (the
    latent search differentiates with respect to z only)."""
    module.eval()
    for p in module.parameters():
        p.requires_grad_(False)
    return module
