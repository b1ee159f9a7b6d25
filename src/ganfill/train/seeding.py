"""Seeds for training: every random draw of a run comes from ``(seed, ...)`` through :func:`mix_seed`.

Training re-seeds from ``(seed, rank, step)`` at every step, so a resumed run draws exactly the
numbers the uninterrupted run would have drawn, without storing generator states.
"""

from __future__ import annotations

import hashlib
from typing import Any

import torch


def mix_seed(*parts: Any) -> int:
    """A 63-bit seed from any parts, stable across machines and Python runs."""
    return int.from_bytes(hashlib.blake2b("/".join(map(str, parts)).encode(), digest_size=8).digest(), "little") \
        & (2**63 - 1)


def seeded(*parts: Any, device: str | torch.device = "cpu") -> torch.Generator:
    return torch.Generator(device=device).manual_seed(mix_seed(*parts))


def seed_init(seed: int) -> None:
    """Seed weight initialisation, so that every DDP rank starts from the same weights."""
    torch.manual_seed(mix_seed(seed, "init"))
