"""The training loop every model shares: epochs of seeded batches, a recipe's step, JSONL logs,
atomic checkpoints, resume and time budgets.

A model plugs in as a :class:`Recipe`: its modules, its optimisers and one ``train_step``.
Randomness is re-seeded from ``(seed, rank, step)`` at every step (:mod:`.seeding`).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..data import MODEL_SIZE
from ..models.io import config_to_dict
from .checkpoint import CHECKPOINT, load_checkpoint, save_checkpoint
from .distributed import Dist, agree, sync_buffers, wrap
from .pictures import plot_losses
from .replicas import dump_replica
from .seeding import mix_seed, seeded


class Recipe:
    """One model's training: subclasses register their modules and optimisers and write one step.

    ``self.trained[name]`` is module ``name`` as a step should call it when its gradients are to be
    averaged across processes (wrapped in DistributedDataParallel under ``torchrun``, else itself);
    every module with an optimiser is wrapped.
    """

    name: str = "recipe"
    loss_keys: tuple[str, ...] = ()
    #: the side of the training faces it takes
    image_size: int = MODEL_SIZE

    def __init__(self, config) -> None:
        self.config = config
        self.modules: dict[str, nn.Module] = {}
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        self.trained: dict[str, nn.Module] = {}

    def register(self, modules: dict[str, nn.Module], optimizers: dict[str, torch.optim.Optimizer]) -> None:
        self.modules, self.optimizers = modules, optimizers
        self.trained = dict(modules)

    def config_dict(self) -> dict:
        return config_to_dict(self.config)

    def wrap_ddp(self, env: Dist) -> None:
        """Wrap the trained modules in DistributedDataParallel (called only when world > 1)."""
        for name in self.optimizers:
            self.trained[name] = wrap(self.modules[name], env)

    def train_step(self, batch: torch.Tensor, gen: torch.Generator, step: int) -> dict[str, float]:
        raise NotImplementedError

    @staticmethod
    def update(opt: torch.optim.Optimizer, loss: torch.Tensor) -> None:
        """One optimiser step on ``loss``."""
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    def epoch_end(self, out_dir: Path, epoch: int) -> None:
        """Write the epoch's pictures (samples, glimpses)."""


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


class _Log:
    """Mean losses and images/s over the last ``every`` steps, appended to ``log.jsonl`` by rank 0."""

    def __init__(self, path: Path, every: int, main: bool):
        self.path, self.every, self.main = path, every, main
        self.window: dict[str, list[float]] = {}
        self.start, self.images = time.monotonic(), 0

    def rate(self) -> float:
        return self.images / max(time.monotonic() - self.start, 1e-9)

    def add(self, losses: dict[str, float], images: int, progress: dict, epoch: int) -> None:
        self.images += images
        for k, v in losses.items():
            self.window.setdefault(k, []).append(v)
        if self.main and progress["global_step"] % self.every == 0:
            row = {"step": progress["global_step"], "epoch": epoch, "images_seen": progress["images_seen"],
                   "img_per_s": round(self.rate(), 2), **{k: float(np.mean(v)) for k, v in self.window.items()}}
            with open(self.path, "a") as fh:
                fh.write(json.dumps(row) + "\n")
            self.window, self.start, self.images = {}, time.monotonic(), 0


def _start(recipe: Recipe, out: Path, loop: LoopConfig, env: Dist, resume: bool) -> dict:
    """The progress record of a new run, or the checkpoint's when resuming (its batch size and seed win)."""
    ckpt_path = out / CHECKPOINT
    progress = {"epoch": 0, "step_in_epoch": 0, "global_step": 0, "images_seen": 0, "train_seconds": 0.0,
                "batch_size": loop.batch_size, "seed": loop.seed, "world": env.world}
    if env.main:
        out.mkdir(parents=True, exist_ok=True)
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
    return progress


def fit(recipe: Recipe, dataset, out_dir: str | os.PathLike, loop: LoopConfig, env: Dist | None = None,
        resume: bool = False) -> dict:
    """Train ``recipe`` on ``dataset`` (a :class:`~ganfill.data.FaceFolder`), checkpointing into ``out_dir``.

    ``loop.batch_size`` is the global batch; under DDP each of the ``world`` processes takes a
    slice of it.  Returns the final progress record.
    """
    env = env or Dist()
    out = Path(out_dir)
    progress = _start(recipe, out, loop, env, resume)
    if env.world > 1:
        recipe.wrap_ddp(env)
    n = len(dataset)
    if loop.batch_size % env.world:
        raise ValueError(f"batch size {loop.batch_size} is not divisible by {env.world} processes")
    steps_per_epoch = n // loop.batch_size
    if steps_per_epoch == 0:
        raise ValueError(f"{n} images are fewer than one batch of {loop.batch_size}")
    log = _Log(out / "log.jsonl", loop.log_every, env.main)
    last_ckpt = run_start = time.monotonic()

    def checkpoint() -> None:
        nonlocal last_ckpt
        if env.main:
            save_checkpoint(out / CHECKPOINT, recipe, progress)
            plot_losses(out, recipe)
        last_ckpt = time.monotonic()

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
            s, step = progress["step_in_epoch"], progress["global_step"]
            idx = perm[s * loop.batch_size:(s + 1) * loop.batch_size][env.rank::env.world]
            torch.manual_seed(mix_seed(loop.seed, "global", env.rank, step))
            gen = seeded(loop.seed, "step", env.rank, step)
            batch = dataset.batch(idx, gen).to(env.device)
            t0 = time.monotonic()
            losses = recipe.train_step(batch, gen, step)
            progress["train_seconds"] += time.monotonic() - t0
            progress["step_in_epoch"] += 1
            progress["global_step"] += 1
            progress["images_seen"] += loop.batch_size
            log.add(losses, loop.batch_size, progress, epoch)
            if bar is not None:
                bar.set_postfix({**{k: f"{v:.3f}" for k, v in losses.items()}, "img/s": f"{log.rate():.0f}"},
                                refresh=False)
                bar.update(1)
            stop = (loop.max_steps is not None and progress["global_step"] >= loop.max_steps) or \
                (loop.max_minutes is not None and time.monotonic() - run_start > loop.max_minutes * 60)
            if loop.max_minutes is not None:   # ranks must agree to stop at the same step
                stop = agree(stop, env)
            if stop:
                break
            if time.monotonic() - last_ckpt > loop.checkpoint_minutes * 60:
                checkpoint()
        if bar is not None:
            bar.close()
        sync_buffers(recipe.modules.values(), env)
        if progress["step_in_epoch"] >= steps_per_epoch:
            progress["epoch"] += 1
            progress["step_in_epoch"] = 0
            if env.main:
                recipe.epoch_end(out, epoch + 1)
        checkpoint()
    if loop.dump_replicas:
        dump_replica(out, recipe, env.rank)
    return progress
