"""The test-only replica dump: each DDP process writes its own copy of the weights at the end of a
run (``--dump-replicas``), so that replica equality can be checked from outside rather than trusted."""

from __future__ import annotations

from pathlib import Path

from ..models.io import save_tensors
from .checkpoint import recipe_tensors


def dump_replica(out_dir: Path, recipe, rank: int) -> None:
    tensors, _ = recipe_tensors(recipe)
    save_tensors(Path(out_dir) / f"replica-{rank}.safetensors", tensors, {"rank": rank})
