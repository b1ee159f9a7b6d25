"""Images per second of one LSGAN training step (D step + G step) per config, on random input.

    .venv/bin/python scripts/bench_gan_step.py --configs paper,half,quarter --steps 3
    .venv/bin/python scripts/bench_gan_step.py --configs paper,paper-128,half,half-128 --steps 2   # one octave up
"""

from __future__ import annotations

import argparse
import time

import torch

from ganfill.train.seeding import seeded
from ganfill.train.gan import GANRecipe, gan_config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--configs", default="paper,half,quarter")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=3)
    args = parser.parse_args()
    print(f"torch threads: {torch.get_num_threads()}")
    for name in args.configs.split(","):
        torch.manual_seed(0)
        recipe = GANRecipe(gan_config(name))
        side = recipe.image_size
        real = torch.rand(args.batch_size, 3, side, side) * 2 - 1
        recipe.train_step(real, seeded(0, "warm-up"), 0)
        start = time.perf_counter()
        for step in range(args.steps):
            recipe.train_step(real, seeded(0, step), step)
        rate = args.batch_size * args.steps / (time.perf_counter() - start)
        g = sum(p.numel() for p in recipe.G.parameters()) / 1e6
        d = sum(p.numel() for p in recipe.D.parameters()) / 1e6
        print(f"{name:8s} G {g:6.2f} M  D {d:5.2f} M  {rate:6.1f} images/s")


if __name__ == "__main__":
    main()
