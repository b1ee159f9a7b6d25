"""The README's before / after picture, made by the tool itself: scikit-image's astronaut (512 x 512)
and two in-the-wild *test* faces (celeba-wild/test, in no training set) enlarged to 512 x 512, each
with a painted hole, filled by `ganfill inpaint` (the CLI), shown as photo-with-hole over one
row of results per method (default: the default method only).

    python scripts/make_readme_figure.py -o docs/images/photos.png
    python scripts/make_readme_figure.py --methods lsgan+ae,lsgan+ae-wild -o docs/images/photos-compare.jpg
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
p.add_argument("--methods", default="", help="comma-separated methods, one row each (default: the default method)")
args = p.parse_args()

size = (512, 512)


def photos():
    """(name, RGB PIL image of ``size``) for the figure; none of them is in a training set."""
    from skimage import data

    yield "astronaut", Image.fromarray(data.astronaut())
    wild = default_data_root() / "celeba-wild" / "test"
    for name in ("22712.jpg", "22724.jpg"):
        yield name, Image.open(wild / name).convert("RGB").resize(size, Image.BICUBIC)


def stroke_mask(kind: str) -> np.ndarray:
    mask = np.zeros(size[::-1], np.uint8)
    if kind == "eyes":        # a bar over the astronaut's eyes
        cv2.rectangle(mask, (170, 95), (280, 135), 255, -1)
    elif kind == "scratch":   # a brush stroke across the cheek and nose
        cv2.line(mask, (140, 340), (340, 230), 255, 22)
    else:                     # a sticker over the mouth
        cv2.ellipse(mask, (256, 360), (70, 34), 0, 0, 360, 255, -1)
    return mask


methods = [m for m in args.methods.split(",") if m] or [None]
rows_before, rows_after = [], {m: [] for m in methods}
with tempfile.TemporaryDirectory() as tmp:
    tmp = Path(tmp)
    for (name, photo), kind in zip(photos(), ["eyes", "scratch", "mouth"]):
        photo.save(tmp / "photo.png")
        mask = stroke_mask(kind)
        Image.fromarray(mask).save(tmp / "mask.png")
        for method in methods:
            subprocess.run([sys.executable, "-m", "ganfill", "inpaint", tmp / "photo.png", "--mask", tmp / "mask.png",
                            "-o", tmp / "out.png"] + (["--method", method] if method else []), check=True)
            rows_after[method].append(np.asarray(Image.open(tmp / "out.png").convert("RGB")))
        before = np.asarray(photo).copy()
        before[mask > 0] = (0.4 * before[mask > 0] + 0.6 * np.array([255, 40, 40])).astype(np.uint8)
        rows_before.append(before)
gap = np.full((size[1], 6, 3), 255, np.uint8)
line = lambda row: np.concatenate(sum([[im, gap] for im in row], [])[:-1], axis=1)  # noqa: E731
space = np.full((6, line(rows_before).shape[1], 3), 255, np.uint8)
figure = np.concatenate(sum([[line(row), space] for row in [rows_before, *rows_after.values()]], [])[:-1], axis=0)
save_image_atomic(figure, args.output)
print(f"wrote {args.output}: rows " + ", ".join(["photo with hole", *(m or "default method" for m in methods)]))
