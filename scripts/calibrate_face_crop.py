"""Which crop of OpenCV's face box is framed like the training faces?  For each scale of the Haar
box, crop 64x64 faces from the aligned CelebA photos and compare their mean face with the mean of
the training faces (RMS, 0-255): the eyes, mouth and chin sit where the models expect them at
the right scale.  The rebuild error of the shipped encoder and generator is printed beside it,
but it favours small scales (a zoomed-in crop is smoother), so the mean face decides.
Result in docs/photos.md.

    python scripts/calibrate_face_crop.py --n 300
"""
import argparse

import cv2
import numpy as np
import torch

from ganfill.data import FaceFolder, default_data_root, list_images, load_image, to_tensor
from ganfill.data.faces import CASCADES, _cascade, crop_square, detect_faces
from ganfill.weights import load_encoder, load_gan

p = argparse.ArgumentParser()
p.add_argument("--n", type=int, default=300)
p.add_argument("--scales", default="0.7,0.75,0.8,0.85,0.9,0.95,1.0,1.1,1.2")
args = p.parse_args()
scales = [float(s) for s in args.scales.split(",")]
G, _ = load_gan()
E = load_encoder()
crops = {s: [] for s in scales}
found_by = {name: 0 for name, _ in CASCADES}
for path in list_images(default_data_root() / "celeba-aligned")[:args.n]:
    img = load_image(path)
    gray = cv2.equalizeHist(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY))
    for name, neighbours in CASCADES:      # each cascade alone, for the coverage table
        found_by[name] += len(_cascade(name).detectMultiScale(gray, 1.1, neighbours, minSize=(24, 24))) > 0
    faces = detect_faces(img)
    if not faces:
        continue
    for s in scales:
        crop = crop_square(img, faces[0].square(s))
        crops[s].append(cv2.resize(crop, (64, 64), interpolation=cv2.INTER_AREA))
for name, count in found_by.items():
    print(f"{name} alone: faces in {count} of {args.n} photos")
print(f"all cascades in turn (detect_faces): faces in {len(crops[scales[0]])} of {args.n} photos")
train = FaceFolder(default_data_root() / "celeba" / "train", limit=4000).images.astype(np.float64)
mean_train = train.mean(0)
with torch.no_grad():
    for s in scales:
        rms = np.sqrt(((np.stack(crops[s]).astype(np.float64).mean(0) - mean_train) ** 2).mean())
        x = to_tensor(np.stack(crops[s]))
        empty = torch.zeros(len(x), 1, 64, 64)
        err = (G(E(x, empty)) - x).abs().mean().item() * 127.5
        print(f"scale {s:.2f}: mean-face RMS to the training faces {rms:5.2f}, rebuild L1 {err:.2f} (0-255)")
