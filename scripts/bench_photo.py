"""Seconds for one photo: an in-the-wild test face (celeba-wild/test 22724, in no training set)
enlarged to 512 x 512 with a brush stroke across the cheek (as in the README figure), through `inpaint_photo` with the method loaded (mean of 5
runs), and through one whole `ganfill inpaint` command (start-up included).

    python scripts/bench_photo.py
"""
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
from ganfill.methods import get_method
from ganfill.photo import inpaint_photo

torch.set_num_threads(2)
photo = Image.open(default_data_root() / "celeba-wild" / "test" / "22724.jpg").convert("RGB").resize((512, 512),
                                                                                                 Image.BICUBIC)
mask = np.zeros((512, 512), np.uint8)
cv2.line(mask, (140, 340), (340, 230), 255, 22)
image, hole = np.asarray(photo), mask > 0
method = get_method("lsgan+ae")
inpaint_photo(image, hole, method)                      # warm-up
start = time.perf_counter()
for _ in range(5):
    inpaint_photo(image, hole, method)
print(f"inpaint_photo: {(time.perf_counter() - start) / 5:.2f} s per photo (method loaded)")
with tempfile.TemporaryDirectory() as tmp:
    tmp = Path(tmp)
    photo.save(tmp / "photo.png")
    Image.fromarray(mask).save(tmp / "mask.png")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "ganfill", "inpaint", tmp / "photo.png", "--mask", tmp / "mask.png",
                    "-o", tmp / "out.png"], check=True, capture_output=True)
    print(f"ganfill inpaint: {time.perf_counter() - start:.2f} s for the whole command")
