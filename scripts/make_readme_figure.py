"""The README's before / after picture, made by the tool itself: three CelebA photos enlarged to
several hundred pixels, each with a painted hole, filled by `ganfill inpaint` (the CLI, default
method), shown as photo-with-hole over result.

    python scripts/make_readme_figure.py -o docs/images/photos.png
"""
import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from ganfill.data import default_data_root, save_image_atomic

p = argparse.ArgumentParser()
p.add_argument("-o", "--output", type=Path, default=Path("docs/images/photos.png"))
args = p.parse_args()

photos = ["000001.jpg", "000009.jpg", "000011.jpg"]
size = (356, 436)       # 4x the aligned 89 x 109


def stroke_mask(kind: str) -> np.ndarray:
    mask = np.zeros(size[::-1], np.uint8)
    if kind == "eyes":        # a bar over the eyes
        cv2.rectangle(mask, (100, 190), (262, 232), 255, -1)
    elif kind == "scratch":   # a brush stroke across the cheek and nose
        cv2.line(mask, (90, 300), (250, 215), 255, 18)
    else:                     # a sticker over the mouth
        cv2.ellipse(mask, (178, 292), (50, 26), 0, 0, 360, 255, -1)
    return mask


rows_before, rows_after = [], []
with tempfile.TemporaryDirectory() as tmp:
    tmp = Path(tmp)
    for name, kind in zip(photos, ["eyes", "scratch", "mouth"]):
        photo = Image.open(default_data_root() / "celeba-aligned" / name).convert("RGB").resize(size, Image.BICUBIC)
        photo.save(tmp / "photo.png")
        mask = stroke_mask(kind)
        Image.fromarray(mask).save(tmp / "mask.png")
        subprocess.run([sys.executable, "-m", "ganfill", "inpaint", tmp / "photo.png", "--mask", tmp / "mask.png",
                        "-o", tmp / "out.png"], check=True)
        before = np.asarray(photo).copy()
        before[mask > 0] = (0.4 * before[mask > 0] + 0.6 * np.array([255, 40, 40])).astype(np.uint8)
        rows_before.append(before)
        rows_after.append(np.asarray(Image.open(tmp / "out.png").convert("RGB")))
gap = np.full((size[1], 6, 3), 255, np.uint8)
line = lambda row: np.concatenate(sum([[im, gap] for im in row], [])[:-1], axis=1)  # noqa: E731
figure = np.concatenate([line(rows_before), np.full((6, line(rows_before).shape[1], 3), 255, np.uint8),
                         line(rows_after)], axis=0)
save_image_atomic(figure, args.output)
print(f"wrote {args.output}")
