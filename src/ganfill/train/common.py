"""The training machinery every model shares: DDP set-up, the epoch loop, atomic checkpoints, resume.

A model plugs in as a :class:`Recipe`: its modules, its optimisers and one ``train_step``.
Randomness is re-seeded from ``(seed, rank, step)`` at every step, so a resumed run draws exactly
the numbers the uninterrupted run would have drawn, without storing generator states.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from ..data import save_image_atomic, to_uint8
from ..models.io import CheckpointError, load_tensors, save_tensors
from ..viz import image_grid, plot_curves

CHECKPOINT = "checkpoint.safetensors"


def mix_seed(*parts: Any) -> int:
    """A 63-bit seed from any parts, stable across machines and Python runs."""
    return int.from_bytes(hashlib.blake2b("/".join(map(str, parts)).encode(), digest_size=8).digest(), "little") \
        & (2**63 - 1)


def seeded(*parts: Any, device: str | torch.device = "cpu") -> torch.Generator:
    return torch.Generator(device=device).manual_seed(mix_seed(*parts))


@dataclass
class Dist:
    rank: int = 0
    world: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def main(self) -> bool:
        return self.rank == 0


def setup_distributed(device: str = "auto") -> Dist:
    """Join the process group that ``torchrun`` describes in the environment (gloo on CPU, nccl on GPU)."""
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if device == "cuda":
        # TF32 matrix products and autotuned convolutions: several times faster on recent GPUs,
        # and a GAN's training noise dwarfs TF32's rounding.
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.benchmark = True
    if world <= 1:
        return Dist(0, 1, torch.device(device))
    rank = int(os.environ["RANK"])
    if device == "cuda":
        local = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local)
        dev = torch.device("cuda", local)
    else:
        dev = torch.device("cpu")
    if not dist.is_initialized():
        dist.init_process_group("nccl" if dev.type == "cuda" else "gloo")
    return Dist(rank, world, dev)


class Recipe:
    """One model's training: subclasses fill in the modules, optimisers and a single step."""

    name: str = "recipe"
    loss_keys: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.modules: dict[str, nn.Module] = {}
        self.optimizers: dict[str, torch.optim.Optimizer] = {}

    def config_dict(self) -> dict:
        raise NotImplementedError

    def wrap_ddp(self, env: Dist) -> None:
        """Wrap the trained modules in DistributedDataParallel (called only when world > 1)."""

    def train_step(self, batch: torch.Tensor, gen: torch.Generator, step: int) -> dict[str, float]:
        raise NotImplementedError

    def epoch_end(self, out_dir: Path, epoch: int) -> None:
        """Write the epoch's pictures (samples, glimpses)."""


# ---------------------------------------------------------------- checkpoints

def _optimizer_tensors(opt: torch.optim.Optimizer, prefix: str) -> tuple[dict[str, torch.Tensor], list]:
    sd = opt.state_dict()
    tensors = {}
    for pid, state in sd["state"].items():
        for key, value in state.items():
            tensors[f"{prefix}.state.{pid}.{key}"] = value if torch.is_tensor(value) else torch.tensor(value)
    return tensors, sd["param_groups"]


def _load_optimizer(opt: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], prefix: str, groups: list) -> None:
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


def _unwrapped(module: nn.Module) -> nn.Module:
    return module.module if isinstance(module, nn.parallel.DistributedDataParallel) else module


def save_checkpoint(path: Path, recipe: Recipe, progress: dict) -> None:
    tensors: dict[str, torch.Tensor] = {}
    groups = {}
    for name, module in recipe.modules.items():
        for k, v in _unwrapped(module).state_dict().items():
            tensors[f"{name}.{k}"] = v
    for name, opt in recipe.optimizers.items():
        t, g = _optimizer_tensors(opt, f"opt_{name}")
        tensors.update(t)
        groups[name] = g
    save_tensors(path, tensors, {"recipe": recipe.name, "config": recipe.config_dict(),
                                 "progress": progress, "optimizer_groups": groups})


def read_checkpoint_meta(path: Path) -> dict:
    _, meta = load_tensors(path)
    return meta


def load_checkpoint(path: Path, recipe: Recipe) -> dict:
    """Restore modules and optimisers from ``path``; returns the saved progress record."""
    from ..models.io import load_state, unprefixed

    tensors, meta = load_tensors(path)
    if meta.get("recipe") != recipe.name:
        raise CheckpointError(f"{path}: a {meta.get('recipe')!r} checkpoint, not {recipe.name!r}")
    for name, module in recipe.modules.items():
        load_state(_unwrapped(module), unprefixed(tensors, name), f"{path} [{name}]")
    for name, opt in recipe.optimizers.items():
        _load_optimizer(opt, tensors, f"opt_{name}", meta["optimizer_groups"][name])
    return meta["progress"]


# ---------------------------------------------------------------- the loop

@dataclass
class LoopConfig:
    epochs: int = 1
    batch_size: int = 64
    seed: int = 0
    checkpoint_minutes: float = 5.0
    max_steps: int | None = None      # stop after this many steps in total (tests, smoke runs)
    max_minutes: float | None = None  # stop (with a checkpoint) after this much wall time in this run
    log_every: int = 25
    progress: bool = True
    dump_replicas: bool = False       # every process writes replica-RANK.safetensors at the end


def fit(recipe: Recipe, dataset, out_dir: str | os.PathLike, loop: LoopConfig, env: Dist | None = None,
        resume: bool = False) -> dict:
    """Train ``recipe`` on ``dataset`` (a :class:`~ganfill.data.FaceFolder`), checkpointing into ``out_dir``.

    ``loop.batch_size`` is the global batch; under DDP each of the ``world`` processes takes a
    slice of it.  Returns the final progress record.
    """
    env = env or Dist()
    out = Path(out_dir)
    ckpt_path = out / CHECKPOINT
    if env.main:
        out.mkdir(parents=True, exist_ok=True)
    progress = {"epoch": 0, "step_in_epoch": 0, "global_step": 0, "images_seen": 0, "train_seconds": 0.0,
                "batch_size": loop.batch_size, "seed": loop.seed, "world": env.world}
    if env.main:
        # Temp files of checkpoint writes that a kill cut short: never read, safe to drop.
        for stale in out.glob(f".{CHECKPOINT}.*.tmp"):
            stale.unlink(missing_ok=True)
    if resume and ckpt_path.exists():
        saved = load_checkpoint(ckpt_path, recipe)
        for key in ("batch_size", "seed"):
            if saved.get(key) != getattr(loop, key):
                print(f"resume: using the checkpoint's {key}={saved.get(key)} (not {getattr(loop, key)})")
                setattr(loop, key, saved[key])
        progress.update(saved)
        progress["world"] = env.world
        if env.main:
            print(f"resumed from {ckpt_path}: epoch {progress['epoch']}, step {progress['global_step']}, "
                  f"{progress['images_seen']} images seen")
    if env.world > 1:
        recipe.wrap_ddp(env)

    n = len(dataset)
    if loop.batch_size % env.world:
        raise ValueError(f"batch size {loop.batch_size} is not divisible by {env.world} processes")
    steps_per_epoch = n // loop.batch_size
    if steps_per_epoch == 0:
        raise ValueError(f"{n} images are fewer than one batch of {loop.batch_size}")
    log_path = out / "log.jsonl"
    last_ckpt = run_start = time.monotonic()
    window: dict[str, list[float]] = {}
    window_start, window_images = time.monotonic(), 0

    def checkpoint() -> None:
        if env.main:
            save_checkpoint(ckpt_path, recipe, progress)
            if log_path.exists():
                plot_curves(log_path, out / "losses.png", list(recipe.loss_keys), f"{recipe.name} training")

    def sync_buffers() -> None:
        # DDP copies rank 0's buffers (batch-norm statistics) to the others at each forward; do the
        # same before anything is saved so that every replica holds the same model.
        if env.world > 1:
            for m in recipe.modules.values():
                for buf in _unwrapped(m).buffers():
                    dist.broadcast(buf, 0)

    stop = False
    while progress["epoch"] < loop.epochs and not stop:
        epoch = progress["epoch"]
        perm = torch.randperm(n, generator=seeded(loop.seed, "perm", epoch))
        bar = None
        if env.main and loop.progress:
            from tqdm import tqdm
            bar = tqdm(total=steps_per_epoch, initial=progress["step_in_epoch"], desc=f"epoch {epoch + 1}/{loop.epochs}",
                       unit="step", dynamic_ncols=True)
        while progress["step_in_epoch"] < steps_per_epoch:
            s = progress["step_in_epoch"]
            idx = perm[s * loop.batch_size:(s + 1) * loop.batch_size][env.rank::env.world]
            step = progress["global_step"]
            torch.manual_seed(mix_seed(loop.seed, "global", env.rank, step))
            gen = seeded(loop.seed, "step", env.rank, step)
            batch = dataset.batch(idx, gen).to(env.device)
            t0 = time.monotonic()
            losses = recipe.train_step(batch, gen, step)
            progress["train_seconds"] += time.monotonic() - t0
            progress["step_in_epoch"] += 1
            progress["global_step"] += 1
            progress["images_seen"] += loop.batch_size
            window_images += loop.batch_size
            for k, v in losses.items():
                window.setdefault(k, []).append(v)
            if bar is not None:
                rate = window_images / max(time.monotonic() - window_start, 1e-9)
                bar.set_postfix({**{k: f"{v:.3f}" for k, v in losses.items()}, "img/s": f"{rate:.0f}"}, refresh=False)
                bar.update(1)
            if env.main and (progress["global_step"] % loop.log_every == 0):
                now = time.monotonic()
                row = {"step": progress["global_step"], "epoch": epoch, "images_seen": progress["images_seen"],
                       "img_per_s": round(window_images / max(now - window_start, 1e-9), 2),
                       **{k: float(np.mean(v)) for k, v in window.items()}}
                with open(log_path, "a") as fh:
                    fh.write(json.dumps(row) + "\n")
                window, window_start, window_images = {}, now, 0
            if loop.max_steps is not None and progress["global_step"] >= loop.max_steps:
                stop = True
            if loop.max_minutes is not None and time.monotonic() - run_start > loop.max_minutes * 60:
                stop = True
            if env.world > 1 and loop.max_minutes is not None:
                # Ranks must agree to stop at the same step, or the others hang in the next all-reduce.
                flag = torch.tensor([float(stop)], device=env.device)
                dist.all_reduce(flag, op=dist.ReduceOp.MAX)
                stop = bool(flag.item())
            if stop:
                break
            if time.monotonic() - last_ckpt > loop.checkpoint_minutes * 60:
                checkpoint()
                last_ckpt = time.monotonic()
        if bar is not None:
            bar.close()
        sync_buffers()
        if progress["step_in_epoch"] >= steps_per_epoch:
            progress["epoch"] += 1
            progress["step_in_epoch"] = 0
            if env.main:
                recipe.epoch_end(out, epoch + 1)
        checkpoint()
        last_ckpt = time.monotonic()
    if loop.dump_replicas:
        # Each process writes its own copy of the weights, so replica equality can be checked
        # from outside (tests) rather than trusted.
        tensors = {f"{name}.{k}": v for name, m in recipe.modules.items()
                   for k, v in _unwrapped(m).state_dict().items()}
        tensors.update({k: v for name, opt in recipe.optimizers.items()
                        for k, v in _optimizer_tensors(opt, f"opt_{name}")[0].items()})
        save_tensors(out / f"replica-{env.rank}.safetensors", tensors, {"rank": env.rank})
    return progress


def save_grid(images: torch.Tensor, path: Path, ncols: int = 8) -> None:
    """Write a ``(N, 3, H, W)`` tensor in ``[-1, 1]`` as one grid PNG."""
    save_image_atomic(image_grid(to_uint8(images), ncols), path)
