"""Time the photo seam (the Poisson blend of the model's fill into the photo's hole) and compare it
with the exact direct solve: a square hole of 300 x 300 and 600 x 600 pixels in a 2,000 x 2,000 photo.

The photo is an in-the-wild test face scaled up to 2,000 px (smooth, with its JPEG grain); the fill is
another face at 64 px, as the model's answer would be, scaled back up by the photo path.

    .venv/bin/python scripts/bench_seam.py            # numbers in docs/photos.md
"""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np

from ganfill.data import default_data_root, load_image
from ganfill.data.faces import Box
from ganfill.photo.paste import _paste_back, _upscaled, _window

argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()

from ganfill.inpaint import blending as blend_module  # noqa: E402

root = default_data_root() / "celeba-wild" / "test"   # test faces: in no training set
photo = cv2.resize(load_image(root / "22713.jpg"), (2000, 2000), interpolation=cv2.INTER_CUBIC)
other = cv2.resize(load_image(root / "22714.jpg"), (64, 64), interpolation=cv2.INTER_AREA)
box = Box(0, 0, 2000, 2000)

for side in (300, 600):
    mask = np.zeros((2000, 2000), bool)
    y0 = 1000 - side // 2
    mask[y0:y0 + side, y0:y0 + side] = True
    start = time.perf_counter()
    out = _paste_back(photo, mask, other, box)
    took = time.perf_counter() - start
    assert np.array_equal(out[~mask], photo[~mask])
    window = _window(mask, box)
    known, generated, hole = photo[window].astype(np.float64), _upscaled(other, box, window), mask[window]
    start = time.perf_counter()
    exact = blend_module._poisson_direct(known, generated, hole)
    took_direct = time.perf_counter() - start
    fast = blend_module.poisson(known, generated, hole)
    diff = np.abs(fast - exact).max(axis=-1)[hole]
    dist = cv2.distanceTransform(hole.astype(np.uint8), cv2.DIST_L2, 3)[hole]
    rounded = (np.round(np.clip(fast, 0, 255)) != np.round(np.clip(exact, 0, 255))).any(axis=-1)[hole]
    print(f"{side} x {side} hole: photo seam {took:.2f} s (direct solve alone {took_direct:.1f} s); "
          f"difference from the direct solve: max {diff.max():.2f} levels, "
          f"{diff[dist <= 3].max():.2f} within 3 px of the edge; {rounded.mean():.1%} of hole pixels round differently")
