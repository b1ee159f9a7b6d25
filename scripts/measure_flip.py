"""What flip averaging adds to the `lsgan+ae` refiner: the same completions refined with one pass
and with the mirrored pass averaged in, scored by the evaluator's metrics (docs/refiner.md).

    python scripts/measure_flip.py --n 300
"""
import argparse

import numpy as np
import torch

from ganfill.data import FaceFolder, default_data_root, make_masks
from ganfill.inpaint.refine import refine
from ganfill.methods import get_method, image_seeds
from ganfill.metrics import score_batch

p = argparse.ArgumentParser()
p.add_argument("--n", type=int, default=300)
p.add_argument("--mask", default="center")
args = p.parse_args()
torch.set_num_threads(2)
faces = FaceFolder(default_data_root() / "celeba" / "test", limit=args.n).images
masks = make_masks(args.mask, len(faces), 64, 0)
method = get_method("lsgan+ae")
completed = np.concatenate([method.inpainter.complete(faces[i:i + 64], masks[i:i + 64], 1,
                                                      image_seeds(0, i, len(faces[i:i + 64]))).images[:, 0]
                            for i in range(0, len(faces), 64)])
for flip in (False, True):
    scores = score_batch(refine(method.refiner, completed, masks, flip), faces, masks)
    print(f"flip={flip}: PSNR {scores['psnr']:.2f}, SSIM {scores['ssim']:.4f}")
