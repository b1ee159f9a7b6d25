"""Tune the latent search's defaults on held-back *training* faces (never on the test set).

Scores each setting with the same evaluator as `ganfill evaluate` and prints one line per setting:

    .venv/bin/python scripts/tune_latent.py --limit 48 --mask center
"""

from __future__ import annotations

import argparse
import itertools
import json

from ganfill.data import FaceFolder, default_data_root, make_masks
from ganfill.evaluate import evaluate_method


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=48, help="faces from the END of the training folder")
    parser.add_argument("--mask", default="center")
    parser.add_argument("--method", default="lsgan")
    parser.add_argument("--grid", default='{"lam": [0.003], "iterations": [30], "lr": [0.01], "blend": ["poisson"]}',
                        help="JSON dict of option -> list of values")
    args = parser.parse_args()
    faces = FaceFolder(default_data_root() / "celeba" / "train").images[-args.limit:]
    masks = make_masks(args.mask, len(faces), 64, seed=1)
    grid = json.loads(args.grid)
    keys = list(grid)
    for values in itertools.product(*(grid[k] for k in keys)):
        options = dict(zip(keys, values))
        r = evaluate_method(args.method, faces, masks, batch_size=64, options=options)
        print(json.dumps({"method": args.method, **options, **{k: round(v, 3) for k, v in r.scores.items()},
                          "sec_per_image": round(r.sec_per_image, 4)}), flush=True)


if __name__ == "__main__":
    main()
