"""Seconds per image of each inpainting method on this machine, apart from any scoring: the first
N test faces with the centre mask, in batches of 64 as the evaluator runs them, after one warm-up
batch, with a fixed number of CPU threads.

    python scripts/bench_methods.py --threads 2 --json docs/results/speed.json \
        --methods telea,lsgan,lsgan+ae,lsgan+ae-paper,ae-only,context-encoder --n 200 --yeh-n 16
"""
import argparse
import json
import platform
import time

import torch

from ganfill.data import FaceFolder, default_data_root, make_masks
from ganfill.methods import get_method

p = argparse.ArgumentParser()
p.add_argument("--methods", default="telea,lsgan,lsgan+ae")
p.add_argument("--n", type=int, default=200, help="faces per method")
p.add_argument("--yeh-n", type=int, default=16, help="faces for lsgan-yeh (1,500 iterations each)")
p.add_argument("--threads", type=int, default=2)
p.add_argument("--json", default=None)
args = p.parse_args()
torch.set_num_threads(args.threads)
names = [m for m in args.methods.split(",") if m]
faces = FaceFolder(default_data_root() / "celeba" / "test", limit=max(args.n, args.yeh_n)).images
masks = make_masks("center", len(faces), 64, 0)
report = {"threads": args.threads, "machine": platform.processor() or platform.machine(), "mask": "center",
          "methods": {}}
for name in names:
    n = args.yeh_n if name == "lsgan-yeh" else args.n
    method = get_method(name)
    method(faces[:8], masks[:8])                    # warm-up
    start = time.perf_counter()
    for i in range(0, n, 64):
        method(faces[i:min(i + 64, n)], masks[i:min(i + 64, n)])
    sec = (time.perf_counter() - start) / n
    report["methods"][name] = {"sec_per_image": round(sec, 5), "n_images": n}
    print(f"{name:<16} {sec:8.4f} s/image  ({n} faces)", flush=True)
if args.json:
    with open(args.json, "w") as fh:
        json.dump(report, fh, indent=2)
