"""Seconds for one photo: an in-the-wild test face (celeba-wild/test 22724, in no training set)
enlarged to 512 x 512 with a brush stroke across the cheek (as in the README figure), through `ganfill.Pipeline` with the method loaded (mean of 5
runs), and through one whole `ganfill inpaint` command (start-up included).

    python scripts/bench_photo.py [--method M] [--side 1024]

``--side`` enlarges the face (and scales the stroke); the method defaults to the default one.
"""
import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import Image

from ganfill.data import default_data_root
from ganfill.methods import DEFAULT_METHOD
from ganfill.pipeline import Pipeline

ap = argparse.ArgumentParser()
ap.add_argument("--method", default=DEFAULT_METHOD)
ap.add_argument("--side", type=int, default=512)
args = ap.parse_args()
torch.set_num_threads(2)
side, s = args.side, args.side / 512
photo = Image.open(default_data_root() / "celeba-wild" / "test" / "22724.jpg").convert("RGB").resize((side, side),
                                                                                                 Image.BICUBIC)
mask = np.zeros((side, side), np.uint8)
cv2.line(mask, (round(140 * s), round(340 * s)), (round(340 * s), round(230 * s)), 255, round(22 * s))
image, hole = np.asarray(photo), mask > 0
pipe = Pipeline.from_pretrained(args.method)
print(f"{args.method}, a {side} x {side} photo")
pipe(image, hole)                                       # warm-up
start = time.perf_counter()
for _ in range(5):
    pipe(image, hole)
print(f"Pipeline: {(time.perf_counter() - start) / 5:.2f} s per photo (method loaded)")
with tempfile.TemporaryDirectory() as tmp:
    tmp = Path(tmp)
    photo.save(tmp / "photo.png")
    Image.fromarray(mask).save(tmp / "mask.png")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "ganfill", "inpaint", tmp / "photo.png", "--mask", tmp / "mask.png",
                    "-o", tmp / "out.png", "--method", args.method], check=True, capture_output=True)
    print(f"ganfill inpaint: {time.perf_counter() - start:.2f} s for the whole command")
