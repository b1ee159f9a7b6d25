"""A training run's state as files of at most 15 MB each (what a borrowed GPU machine can bring back,
and what the repository keeps to continue a run), and those files back into the checkpoint that
``ganfill train-* --resume`` reads.

    scripts/run_state.py split runs/gan-128/checkpoint.safetensors -o training-state/lsgan-128 --no-optimizers
    scripts/run_state.py join training-state/lsgan-128 -o runs/gan-128/checkpoint.safetensors

With the optimiser states (the default) a resumed run matches an unbroken one exactly; without them
the weights go on and Adam's moments start afresh.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="what", required=True)
    p = sub.add_parser("split", help="a checkpoint -> state-NNN.safetensors files")
    p.add_argument("checkpoint", type=Path)
    p.add_argument("-o", "--out", type=Path, required=True, help="the folder of the state files (replaced)")
    p.add_argument("--max-mb", type=float, default=15.0, help="the largest file, in MB (1e6 bytes)")
    p.add_argument("--no-optimizers", action="store_true", help="leave the optimiser states out")
    p = sub.add_parser("join", help="state-NNN.safetensors files -> a checkpoint")
    p.add_argument("folder", type=Path)
    p.add_argument("-o", "--out", type=Path, required=True, help="the checkpoint.safetensors to write")
    args = ap.parse_args()

    from ganfill.train.checkpoint import join_checkpoint, split_checkpoint

    if args.what == "split":
        files = split_checkpoint(args.checkpoint, args.out, int(args.max_mb * 1e6), not args.no_optimizers)
        for f in files:
            print(f"{f}: {f.stat().st_size / 1e6:.1f} MB")
    else:
        progress = join_checkpoint(args.folder, args.out)["progress"]
        print(f"wrote {args.out}: step {progress['global_step']}, {progress['images_seen']} images seen")


if __name__ == "__main__":
    main()
