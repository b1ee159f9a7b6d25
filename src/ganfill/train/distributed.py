"""DistributedDataParallel set-up: the process group ``torchrun`` describes, and the global CUDA flags."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

from ..models.device import resolve_device


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
    device = resolve_device(device).type
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


def wrap(module: nn.Module, env: Dist) -> nn.Module:
    """``module`` in DistributedDataParallel on ``env``'s device."""
    ids = [env.device.index] if env.device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(module, device_ids=ids)


def unwrapped(module: nn.Module) -> nn.Module:
    return module.module if isinstance(module, nn.parallel.DistributedDataParallel) else module


def sync_buffers(modules, env: Dist) -> None:
    """Copy rank 0's buffers (batch-norm statistics) to every rank, as DDP does at each forward:
    done before anything is saved, so that every replica holds the same model."""
    if env.world > 1:
        for m in modules:
            for buf in unwrapped(m).buffers():
                dist.broadcast(buf, 0)


def agree(stop: bool, env: Dist) -> bool:
    """True on every rank when any rank wants to stop (so that none hangs in the next all-reduce)."""
    if env.world <= 1:
        return stop
    flag = torch.tensor([float(stop)], device=env.device)
    dist.all_reduce(flag, op=dist.ReduceOp.MAX)
    return bool(flag.item())
