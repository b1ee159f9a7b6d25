"""Photos filled one at a time against one batched call of ganfill.Pipeline: 16 in-the-wild test
photos (256 x 256, a hole over the eyes), the default method (or ``--method``), on ``--threads``
CPU threads (default 1).

    .venv/bin/python scripts/bench_batch.py [--method lsgan+ae] [--threads 2]     # numbers in docs/photos.md
"""

import argparse
import time

import numpy as np
import torch

import ganfill
import ganfill.methods
from ganfill.data import default_data_root, load_image

ap = argparse.ArgumentParser()
ap.add_argument("--method", default=ganfill.methods.DEFAULT_METHOD)
ap.add_argument("--threads", type=int, default=1)
args = ap.parse_args()
torch.set_num_threads(args.threads)
root = default_data_root() / "celeba-wild" / "test"   # test faces: in no training set
photos = [load_image(root / f"{i}.jpg") for i in range(22711, 22750)]


def eyes(shape):
    h, w = shape
    m = np.zeros((h, w), bool)
    m[int(h * .44):int(h * .58), int(w * .28):int(w * .72)] = True
    return m


pipe = ganfill.Pipeline.from_pretrained(args.method, device="cpu")
# photos where the detector finds the face
found = pipe(photos, [eyes(p.shape[:2]) for p in photos], errors="return")
ok = [p for p, r in zip(photos, found) if not isinstance(r, Exception)][:16]
masks = [eyes(p.shape[:2]) for p in ok]
pipe(ok[:2], masks[:2])                          # warm-up
for rep in range(2):
    t = time.perf_counter()
    pipe(ok, masks)
    b = (time.perf_counter() - t) / len(ok)
    t = time.perf_counter()
    for i, (p, m) in enumerate(zip(ok, masks)):
        pipe(p, m, index=i)
    s = (time.perf_counter() - t) / len(ok)
    print(f"{args.method}, {args.threads} threads, {len(ok)} photos: batched {b:.3f} s/photo, one at a time {s:.3f} s/photo")
