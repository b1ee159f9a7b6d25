"""How dlib's HOG (or CNN) face box maps onto the Haar box that FACE_SCALE frames like the
training faces.

For each scale and vertical shift of the detector's box (HOG: found on the photo padded by a
quarter of its side), crop 64x64 faces from the aligned CelebA photos and compare their mean face with the mean of
4,000 training faces (RMS, 0-255), as the Haar box's FACE_SCALE was chosen (docs/photos.md).  The
best (scale, shift) is the box's crop; dividing by FACE_SCALE gives HOG_TO_HAAR (CNN_TO_HAAR).

    python scripts/calibrate_face_crop.py --n 300
    python scripts/calibrate_face_crop.py --n 300 --detector cnn

With --landmarks, the weights of ``detect.landmark_crop`` instead: on N faces spread over
celeba-wild/train outside the validation split (128 px scaled to 256, bicubic), the first face each
detector step finds, its 68 landmarks, and least squares from them to the crop (the whole photo):

    python scripts/calibrate_face_crop.py --landmarks --n 1500
"""
import argparse

import cv2
import numpy as np

from ganfill.data import FaceFolder, default_data_root, list_images, load_image
from ganfill.data.detect import _cnn_faces, _haar_faces, _hog_faces
from ganfill.data.faces import FACE_SCALE, Box, crop_square

p = argparse.ArgumentParser()
p.add_argument("--n", type=int, default=300)
p.add_argument("--scales", default="0.75,0.8,0.85,0.9,0.95,1.0,1.05,1.1")
p.add_argument("--shifts", default="-0.1,-0.05,0,0.05")
p.add_argument("--detector", default="hog", choices=["hog", "cnn"])
p.add_argument("--landmarks", action="store_true", help="fit the landmark crop's weights instead")
args = p.parse_args()


def fit_landmarks(n: int) -> None:
    from PIL import Image

    from ganfill.data import WILD_VALIDATION
    from ganfill.data.detect import TILTS, landmark_features, landmarks

    folder = default_data_root() / "celeba-wild" / "train"
    centre_rows, centre_targets, side_rows = [], [], []
    for i in range(0, WILD_VALIDATION[0], WILD_VALIDATION[0] // n)[:n]:
        img = np.asarray(Image.open(folder / f"{i:05d}.jpg").convert("RGB").resize((256, 256), Image.BICUBIC))
        found = _hog_faces(img, raw=True) or _hog_faces(img, raw=True, tilts=TILTS) or _cnn_faces(img, raw=True)
        if not found:
            continue
        eyes, offsets, distances = landmark_features(landmarks(img, found[0]))
        centre_rows += [offsets[:, 0], offsets[:, 1]]           # one weight per point, both axes
        centre_targets += list(128 - eyes)
        side_rows.append(distances)
    centre = np.linalg.lstsq(np.array(centre_rows), np.array(centre_targets), rcond=None)[0]
    side = np.linalg.lstsq(np.array(side_rows), np.full(len(side_rows), 256.0), rcond=None)[0]
    print(f"{len(side_rows)} of {n} faces found")
    print(f"LANDMARK_CENTRE = ({', '.join(f'{w:.3f}' for w in centre)})")
    print(f"LANDMARK_SIDE = ({', '.join(f'{w:.3f}' for w in side)})")


if args.landmarks:
    fit_landmarks(args.n)
    raise SystemExit
detect = _hog_faces if args.detector == "hog" else _cnn_faces
name = args.detector.upper()
scales = [float(s) for s in args.scales.split(",")]
shifts = [float(s) for s in args.shifts.split(",")]
crops = {(s, d): [] for s in scales for d in shifts}
ratios, offsets = [], []
for path in list_images(default_data_root() / "celeba-aligned")[:args.n]:
    img = load_image(path)
    found = detect(img, raw=True)
    if not found:
        continue
    face = found[0]
    for s, d in crops:
        side = face.w * s
        cx, cy = face.x + face.w / 2, face.y + face.h / 2 + d * face.w
        box = Box(int(round(cx - side / 2)), int(round(cy - side / 2)), int(round(side)), int(round(side)))
        crops[s, d].append(cv2.resize(crop_square(img, box), (64, 64), interpolation=cv2.INTER_AREA))
    haar = _haar_faces(img)
    if haar:
        ratios.append(haar[0].w / face.w)
        offsets.append((haar[0].y + haar[0].h / 2 - face.y - face.h / 2) / face.w)
print(f"{name} found faces in {len(crops[scales[0], shifts[0]])} of {args.n} photos")
print(f"where Haar found one too ({len(ratios)}): Haar side / {name} side median {np.median(ratios):.3f}, "
      f"centre offset (Haar - {name}) / {name} side median {np.median(offsets):+.3f}")
mean_train = FaceFolder(default_data_root() / "celeba" / "train", limit=4000).images.astype(np.float64).mean(0)
best = None
for (s, d), faces in crops.items():
    rms = np.sqrt(((np.stack(faces).astype(np.float64).mean(0) - mean_train) ** 2).mean())
    best = min(best or (rms, s, d), (rms, s, d))
    print(f"{name} box x {s:.2f}, shifted {d:+.2f} of its side down: mean-face RMS {rms:5.2f}")
rms, s, d = best
print(f"best: x {s:.2f}, shift {d:+.2f} (RMS {rms:.2f}); {name}_TO_HAAR = {s / FACE_SCALE:.3f}, {name}_SHIFT = {d:+.2f}")
