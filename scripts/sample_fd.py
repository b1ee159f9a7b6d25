"""The sample FD-dlib of a generator: the Fréchet distance between the dlib descriptors of N of its
samples (the EMA G in a 128-px run's file) and of the validation faces (celeba-wild/train files
22211-22710, in no training set), the measure that steers the 128-px prior's training.  One JSON.

    scripts/sample_fd.py --samples 2000 -o docs/results/sample-fd-lsgan-64.json          # the shipped LSGAN
    scripts/sample_fd.py WEIGHTS.safetensors --samples 2000 -o fd.json                     # an exported G
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("weights", type=Path, nargs="?", default=None, help="an LSGAN weights file (default: shipped)")
    ap.add_argument("--samples", type=int, default=2000)
    ap.add_argument("--reals", type=int, default=500, help="the first N validation faces (500 there are)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("-o", "--out", type=Path, default=None)
    args = ap.parse_args()

    from ganfill.data import wild_validation_faces
    from ganfill.evaluate import write_json_atomic
    from ganfill.face_descriptors import descriptors
    from ganfill.train.gan import sample_fd_dlib
    from ganfill.weights import GAN_WEIGHTS, load_gan, shipped

    path = args.weights or shipped(GAN_WEIGHTS.name)
    G = load_gan(path)[0].float()
    tic = time.perf_counter()
    reals = wild_validation_faces(args.reals)
    fd = sample_fd_dlib(G, args.samples, descriptors(reals), args.seed)
    report = {"weights": path.name, "size": G.config.size, "samples": args.samples, "reals": len(reals),
              "reals_from": "celeba-wild/train validation split (files 22211-22710), 128 px",
              "seed": args.seed, "fd_dlib": round(fd, 5), "seconds": round(time.perf_counter() - tic, 1)}
    print(json.dumps(report))
    if args.out:
        write_json_atomic(report, args.out)


if __name__ == "__main__":
    main()
