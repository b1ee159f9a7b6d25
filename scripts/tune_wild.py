"""Choose the photo refiner's inference settings (``lsgan+ae-wild``) on the validation split.

    GANFILL_THREADS=1 .venv/bin/python scripts/tune_wild.py --weights runs/photo-refiner/photo-refiner.safetensors \
        --n 200 --mask center [--json out.jsonl]

The validation split is celeba-wild/train faces 22211-22710 (128 px; no model trained on them).
Each setting (latent-search iterations at inference, flip averaging) is scored as the evaluator
scores a method: PSNR, SSIM, hole sharpness, fd_dlib, identity, and the diversity of 4 candidates,
next to today's default ``lsgan+ae`` on the same faces and masks.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ganfill.data import make_masks, wild_validation_faces
from ganfill.evaluate import evaluate_method
from ganfill.face_descriptors import descriptors


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", type=Path, required=True, help="the photo refiner to tune")
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--mask", default="center")
    ap.add_argument("--iterations", default="0,10", help="comma-separated latent-search iterations to try")
    ap.add_argument("--flip", default="1,0", help="flip averaging: 1, 0 or both")
    ap.add_argument("--candidates", type=int, default=4)
    ap.add_argument("--baseline", default="lsgan+ae", help="'' to skip")
    ap.add_argument("--json", type=Path, default=None, help="append one JSON line per setting")
    args = ap.parse_args()
    images = wild_validation_faces(args.n)
    masks = make_masks(args.mask, len(images), images.shape[1], 0)
    truth = descriptors(images)
    settings = [("lsgan+ae-wild", {"refiner_weights": args.weights, "iterations": int(it), "flip": bool(int(f))})
                for it in args.iterations.split(",") for f in args.flip.split(",")]
    if args.baseline:
        settings.insert(0, (args.baseline, {}))
    print(f"{len(images)} validation faces, {args.mask}, {images.shape[1]} px, {args.candidates} candidates", flush=True)
    for name, options in settings:
        r = evaluate_method(name, images, masks, batch_size=50, options=options, candidates=args.candidates,
                            truth_descriptors=truth)
        shown = {k: v for k, v in options.items() if k != "refiner_weights"}
        row = {"method": name, **shown, "mask": args.mask, "n": len(images),
               **{k: round(float(v), 4) for k, v in r.scores.items()}, "s_per_image": round(r.sec_per_image, 3)}
        print(json.dumps(row), flush=True)
        if args.json:
            with open(args.json, "a") as fh:
                fh.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
