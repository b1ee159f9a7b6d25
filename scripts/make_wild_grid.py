"""The 256-px benchmark's picture grid (docs/results.md, the README): the first faces of
celeba-wild/test (in no training set) with the benchmark's own masks, one row per method, through
the evaluator's own path (`evaluate.run_method`: the photo path for the 64-px models).

    python scripts/make_wild_grid.py -o docs/images/wild-grid.jpg [--mask center] [--n 6]
"""
import argparse
from pathlib import Path

import cv2
import numpy as np

from ganfill.data import FaceFolder, default_data_root, make_masks, save_image_atomic
from ganfill.evaluate import masked_input, run_method
from ganfill.methods import get_method
from ganfill.viz import image_grid

p = argparse.ArgumentParser()
p.add_argument("-o", "--output", type=Path, default=Path("docs/images/wild-grid.jpg"))
p.add_argument("--mask", default="center")
p.add_argument("--n", type=int, default=6)
p.add_argument("--side", type=int, default=192, help="each tile's side in the picture")
args = p.parse_args()

faces = FaceFolder(default_data_root() / "celeba-wild" / "test", size=256, limit=args.n).images
masks = make_masks(args.mask, len(faces), 256, seed=0)         # the benchmark's masks (seed 0)
rows = [("input", masked_input(faces, masks))]
for label, name, options in [("telea", "telea", {}), ("context-encoder", "context-encoder", {}),
                             ("ae-only", "ae-only", {}), ("lsgan", "lsgan", {}), ("lsgan+ae", "lsgan+ae", {}),
                             ("lsgan+ae --detail", "lsgan+ae", {"detail": True}), ("lsgan+ae-wild", "lsgan+ae-wild", {})]:
    method = get_method(name)
    rows.append((label, run_method(method, faces, masks, 1, seed=0, **options)[:, 0]))
rows.append(("truth", faces))
tiles = np.stack([cv2.resize(img, (args.side, args.side), interpolation=cv2.INTER_AREA)
                  for _, row in rows for img in row])
save_image_atomic(image_grid(tiles, ncols=len(faces)), args.output)
print(f"wrote {args.output}: rows " + ", ".join(label for label, _ in rows))
