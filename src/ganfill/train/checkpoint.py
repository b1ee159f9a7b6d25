"""The training checkpoint format: modules and optimiser state flattened into one safetensors file,
with the recipe's name, its config and the progress counters as JSON metadata (nothing pickled)."""

from __future__ import annotations

from pathlib import Path

import torch

from ..models.io import CheckpointError, config_from_dict, load_state, load_tensors, save_tensors, unprefixed
from .distributed import unwrapped

CHECKPOINT = "checkpoint.safetensors"


def optimizer_tensors(opt: torch.optim.Optimizer, prefix: str) -> tuple[dict[str, torch.Tensor], list]:
    """An optimiser's state as flat tensors ``PREFIX.state.PARAM.KEY``, and its param groups (JSON)."""
    sd = opt.state_dict()
    tensors = {}
    for pid, state in sd["state"].items():
        for key, value in state.items():
            tensors[f"{prefix}.state.{pid}.{key}"] = value if torch.is_tensor(value) else torch.tensor(value)
    return tensors, sd["param_groups"]


def load_optimizer(opt: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], prefix: str, groups: list) -> None:
    state: dict[int, dict[str, torch.Tensor]] = {}
    head = f"{prefix}.state."
    for key, value in tensors.items():
        if key.startswith(head):
            pid, name = key[len(head):].split(".", 1)
            state.setdefault(int(pid), {})[name] = value
    for g in groups:
        if "betas" in g:
            g["betas"] = tuple(g["betas"])
    opt.load_state_dict({"state": state, "param_groups": groups})


def recipe_tensors(recipe) -> tuple[dict[str, torch.Tensor], dict[str, list]]:
    """Every module's weights (``NAME.key``) and optimiser state (``opt_NAME.…``) of a recipe, and the
    optimisers' param groups."""
    tensors = {f"{name}.{k}": v for name, module in recipe.modules.items()
               for k, v in unwrapped(module).state_dict().items()}
    groups = {}
    for name, opt in recipe.optimizers.items():
        t, groups[name] = optimizer_tensors(opt, f"opt_{name}")
        tensors.update(t)
    return tensors, groups


def save_checkpoint(path: Path, recipe, progress: dict) -> None:
    tensors, groups = recipe_tensors(recipe)
    save_tensors(path, tensors, {"recipe": recipe.name, "config": recipe.config_dict(),
                                 "progress": progress, "optimizer_groups": groups})


def read_checkpoint_meta(path: Path) -> dict:
    _, meta = load_tensors(path)
    return meta


def load_checkpoint(path: Path, recipe) -> dict:
    """Restore modules and optimisers from ``path``; returns the saved progress record."""
    tensors, meta = load_tensors(path)
    if meta.get("recipe") != recipe.name:
        raise CheckpointError(f"{path}: a {meta.get('recipe')!r} checkpoint, not {recipe.name!r}")
    for name, module in recipe.modules.items():
        load_state(unwrapped(module), unprefixed(tensors, name), f"{path} [{name}]")
    for name, opt in recipe.optimizers.items():
        load_optimizer(opt, tensors, f"opt_{name}", meta["optimizer_groups"][name])
    return meta["progress"]


def saved_config(run_dir: Path, cls, resume: bool):
    """When resuming, the config stored in ``run_dir``'s checkpoint (it rebuilds its own model); else None."""
    ckpt = Path(run_dir) / CHECKPOINT
    if resume and ckpt.exists():
        return config_from_dict(cls, read_checkpoint_meta(ckpt)["config"])
    return None
