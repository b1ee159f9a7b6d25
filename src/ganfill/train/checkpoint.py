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


#: the largest file of a run's state (:func:`split_checkpoint`), in bytes: borrowed GPU machines
#: bring back files of at most 16 MB
STATE_FILE_BYTES = 15_000_000
STATE_PATTERN = "state-{:03d}.safetensors"


def split_checkpoint(path: Path, folder: Path, max_bytes: int = STATE_FILE_BYTES,
                     optimizers: bool = True, dtype: torch.dtype | None = None) -> list[Path]:
    """A training checkpoint as ``folder/state-NNN.safetensors`` files of at most ``max_bytes`` each
    (tensors larger than a file are cut into pieces along their flattened length), every file with the
    checkpoint's metadata.  ``optimizers=False`` leaves the optimiser state out (a resume then starts
    Adam's moments afresh); ``dtype`` stores floating tensors in it (a resume is then not exact).
    Earlier state files in ``folder`` are replaced.  :func:`join_checkpoint` puts it back together."""
    tensors, meta = load_tensors(path)
    if not optimizers:
        tensors = {k: v for k, v in tensors.items() if not k.startswith("opt_")}
    if dtype is not None:
        tensors = {k: v.to(dtype) if v.is_floating_point() else v for k, v in tensors.items()}
    budget = max_bytes - 64 * 1024          # room for each file's header and metadata
    pieces: list[tuple[str, torch.Tensor]] = []
    shapes = {}
    for key, t in tensors.items():
        flat = t.contiguous().view(-1)
        per = max(1, budget // max(1, flat.element_size()))
        if flat.numel() * flat.element_size() <= budget:
            pieces.append((key, t))
            continue
        shapes[key] = list(t.shape)
        pieces += [(f"{key}@{i}", flat[s:s + per].clone()) for i, s in enumerate(range(0, flat.numel(), per))]
    files: list[dict[str, torch.Tensor]] = [{}]
    used = 0
    for key, t in pieces:              # greedy: in order, a new file when the next piece does not fit
        size = t.numel() * t.element_size()
        if files[-1] and used + size > budget:
            files.append({})
            used = 0
        files[-1][key] = t
        used += size
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for i, part in enumerate(files):
        out = folder / STATE_PATTERN.format(i)
        save_tensors(out, part, {**meta, "state_file": [i, len(files)], "split_shapes": shapes})
        written.append(out)
    for stale in sorted(folder.glob("state-*.safetensors")):
        if stale not in written:
            stale.unlink()
    return written


def join_checkpoint(folder: Path, path: Path) -> dict:
    """The state files of ``folder`` (:func:`split_checkpoint`) as one training checkpoint at ``path``
    (what ``--resume`` reads); returns its metadata.  A missing or foreign file is a CheckpointError."""
    files = sorted(Path(folder).glob("state-*.safetensors"))
    if not files:
        raise CheckpointError(f"{folder}: no state-NNN.safetensors files")
    tensors: dict[str, torch.Tensor] = {}
    meta: dict = {}
    for f in files:
        part, meta = load_tensors(f)
        if meta.get("state_file", [None, None])[1] != len(files):
            raise CheckpointError(f"{folder}: {len(files)} state files, but {f.name} belongs to a set of "
                                  f"{meta.get('state_file', ['?', '?'])[1]}")
        tensors.update(part)
    shapes = meta.pop("split_shapes", {})
    meta.pop("state_file", None)
    for key, shape in shapes.items():
        parts = sorted((k for k in tensors if k.startswith(key + "@")), key=lambda k: int(k.rsplit("@", 1)[1]))
        tensors[key] = torch.cat([tensors.pop(k) for k in parts]).view(shape)
    save_tensors(path, tensors, meta)
    return meta
