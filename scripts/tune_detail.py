"""Tune the photo path's detail above the model's size (ganfill.inpaint.detail) on the validation split.

    GANFILL_THREADS=1 OMP_NUM_THREADS=1 .venv/bin/python scripts/tune_detail.py --n 150

The validation split is celeba-wild/train faces 22211-22710 (128 px, no model trained on them).
The method's 64-px fills are made once; each setting only changes the paste-back, so a sweep costs
the seam, not the model.  Prints PSNR, SSIM, sharpness and fd_dlib per setting (docs/results.md).
"""

from __future__ import annotations

import argparse
import itertools
import time

import numpy as np

from ganfill.data import make_masks, wild_validation_faces
from ganfill.data.faces import Box
from ganfill.face_descriptors import descriptors, frechet_distance, identity_distance
from ganfill.methods import get_method
from ganfill.metrics import score_batch, sharpness
from ganfill.photo import _paste_back, prepare_photo


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=150)
    ap.add_argument("--mask", default="center")
    ap.add_argument("--method", default="lsgan+ae")
    ap.add_argument("--grid", default="cell=2,4;top_k=1,4;patch=3", help="KEY=V,V;KEY=V...: every combination")
    args = ap.parse_args()
    images = wild_validation_faces(args.n)
    side = images.shape[1]
    masks = make_masks(args.mask, len(images), side, 0)
    method = get_method(args.method)
    whole = Box(0, 0, side, side)
    prepared = [prepare_photo(img, m, method, whole) for img, m in zip(images, masks)]
    fills = method.candidates(np.stack([p.face for p in prepared]), np.stack([p.hole for p in prepared]), 1, 0, 0)[:, 0]
    truth = descriptors(images)

    def run(options):
        tic = time.perf_counter()
        out = np.stack([_paste_back(p.image, p.mask, f, whole, p.hole, options) for p, f in zip(prepared, fills)])
        sec = (time.perf_counter() - tic) / len(out)
        s = score_batch(out, images, masks)
        found = descriptors(out)
        return (f"psnr {s['psnr']:.2f} ssim {s['ssim']:.4f} sharp {sharpness(out, images, masks):.3f} "
                f"fd {frechet_distance(found, truth):.4f} id {identity_distance(found, truth):.3f} s/img {sec:.4f}")

    print(f"{args.method}, {args.mask}, {len(images)} validation faces at {side} px", flush=True)
    print(f"detail off: {run(None)}", flush=True)
    keys, values = [], []
    for part in args.grid.split(";"):
        key, vals = part.split("=")
        keys.append(key)
        values.append([float(v) if "." in v else int(v) for v in vals.split(",")])
    for combo in itertools.product(*values):
        options = dict(zip(keys, combo))
        print(f"{options}: {run(options)}", flush=True)


if __name__ == "__main__":
    main()
