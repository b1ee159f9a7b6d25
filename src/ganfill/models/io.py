"""Saving and loading model weights as safetensors with their config in the metadata; never pickle."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from safetensors import safe_open

from ..data.files import atomic_write


class CheckpointError(ValueError):
    """A weights file that cannot be used; the message is one line, fit for a user."""


def config_to_dict(config: Any) -> dict:
    return dataclasses.asdict(config)


def config_from_dict(cls, data: dict):
    """Rebuild a (possibly nested) config dataclass from a dict, ignoring nothing silently."""
    kwargs = {}
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(data) - set(fields)
    if unknown:
        raise CheckpointError(f"config for {cls.__name__} has unknown fields: {sorted(unknown)}")
    for name, value in data.items():
        ftype = fields[name].type
        sub = _dataclass_type(cls, ftype)
        kwargs[name] = config_from_dict(sub, value) if sub is not None and isinstance(value, dict) else value
    return cls(**kwargs)


def _dataclass_type(owner, annotation):
    if isinstance(annotation, str):
        import sys
        annotation = getattr(sys.modules[owner.__module__], annotation, None)
    return annotation if dataclasses.is_dataclass(annotation) else None


def save_tensors(path: str | os.PathLike, tensors: dict[str, torch.Tensor], metadata: dict[str, Any],
                 dtype: torch.dtype | None = None) -> None:
    """Write ``tensors`` atomically; ``metadata`` values are stored as JSON strings."""
    out = {}
    for k, v in tensors.items():
        v = v.detach().cpu()
        if dtype is not None and v.is_floating_point():
            v = v.to(dtype)
        out[k] = v.contiguous()
    meta = {k: json.dumps(v) for k, v in metadata.items()}
    atomic_write(Path(path), lambda tmp: save_file(out, tmp, metadata=meta))


def load_tensors(path: str | os.PathLike) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such weights file")
    try:
        with safe_open(str(path), framework="pt") as fh:
            raw_meta = fh.metadata() or {}
        tensors = load_file(str(path))
        meta = {k: json.loads(v) for k, v in raw_meta.items()}
    except (SafetensorError, OSError, ValueError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path}: not a valid safetensors weights file ({exc})") from None
    for name, tensor in tensors.items():
        # One NaN in a weight turns every fill black: refuse the file, never the result.
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise CheckpointError(f"{path}: tensor {name} holds NaN or infinite values; the file is damaged")
    return tensors, meta


def load_state(module: torch.nn.Module, state: dict[str, torch.Tensor], source: str = "weights") -> None:
    """Load ``state`` into ``module`` strictly, with a one-line error on any missing key or wrong shape."""
    own = module.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    if missing or unexpected:
        raise CheckpointError(f"{source}: does not match {type(module).__name__} "
                              f"(missing {missing[:3]}, unexpected {unexpected[:3]})")
    for k, v in state.items():
        if tuple(v.shape) != tuple(own[k].shape):
            raise CheckpointError(f"{source}: {k} has shape {tuple(v.shape)}, "
                                  f"{type(module).__name__} expects {tuple(own[k].shape)}")
    module.load_state_dict({k: v.to(own[k].dtype) for k, v in state.items()})


def prefixed(module: torch.nn.Module, prefix: str) -> dict[str, torch.Tensor]:
    return {f"{prefix}.{k}": v for k, v in module.state_dict().items()}


def unprefixed(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    p = prefix + "."
    return {k[len(p):]: v for k, v in tensors.items() if k.startswith(p)}
