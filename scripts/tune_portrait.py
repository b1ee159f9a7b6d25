"""The measurements behind the default `portrait` method's choices, on validation faces (the first N
of celeba-wild's validation split, 128 px scaled to 256 px bicubic; in no training set) unless
--data names a folder of faces:

    python scripts/tune_portrait.py general --n 100   # off-face parts: FSR against Navier-Stokes, by size and texture
    python scripts/tune_portrait.py framing --n 100   # centre hole: the detected crop against the whole face as the box
    python scripts/tune_portrait.py framing --n 100 --data ../shared/data/celeba-wild/test
    python scripts/tune_portrait.py landmarks --n 500  # when the landmarks size the crop (LANDMARK_TRUST)

`general` prints the squared error of each method per part of the off-face masks (seed 0), by the
part's size and the texture around it (``classical``'s rule); `framing` prints the mean PSNR of
``portrait`` without and with ``box`` and the loss per detector that found the face; `landmarks`
prints how far the 128-px model's crop is from the whole face (its side's relative error, its
centre's offset in pixels, after sliding inside the photo) when the detector's box sizes it, when
the landmarks do, and when they do only where the two disagree by more than a threshold.
"""

from __future__ import annotations

import argparse

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("what", choices=["general", "framing", "landmarks"])
ap.add_argument("--n", type=int, default=100, help="how many faces")
ap.add_argument("--data", default=None, help="a folder of faces (default: the validation faces at 256 px)")
args = ap.parse_args()

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from ganfill.data import WILD_VALIDATION, default_data_root, list_images, load_image  # noqa: E402


def faces(n: int) -> np.ndarray:
    if args.data:
        return np.stack([load_image(p) for p in list_images(args.data)[:n]])
    folder = default_data_root() / "celeba-wild" / "train"
    return np.stack([np.asarray(Image.open(folder / f"{i:05d}.jpg").convert("RGB").resize((256, 256), Image.BICUBIC))
                     for i in WILD_VALIDATION[:n]])


def general(images: np.ndarray) -> None:
    from ganfill.baselines.classical import FSR, FSR_MAX_PART, FSR_MIN_TEXTURE, fsr, texture_around
    from ganfill.data import off_face_masks

    rows = []                                    # area, texture, FSR's and Navier-Stokes' squared error
    for image, mask in zip(images, off_face_masks(images, 0)):
        count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
        for j in range(1, count):
            x, y, w, h, area = stats[j]
            c = FSR.context
            window = slice(max(y - c, 0), y + h + c), slice(max(x - c, 0), x + w + c)
            part, hole, truth = labels[window] == j, mask[window], image[window]
            seen = truth.copy()
            seen[hole] = 255                    # the hole as a user paints it
            error = lambda out: float(((out.astype(float) - truth)[part] ** 2).mean())  # noqa: E731
            ns = cv2.inpaint(seen, hole.astype(np.uint8) * 255, 3.0, cv2.INPAINT_NS)
            rows.append((area, texture_around(seen, part, hole), error(fsr(seen, hole)), error(ns)))
    r = np.array(rows)
    small, textured = r[:, 0] <= FSR_MAX_PART, r[:, 1] >= FSR_MIN_TEXTURE
    print(f"{len(r)} parts; mean squared error in the part")
    for name, keep in [("all", np.ones(len(r), bool)), ("small, textured", small & textured),
                       ("small, smooth", small & ~textured), (f"over {FSR_MAX_PART} px", ~small)]:
        s = r[keep]
        print(f"  {name:16s} n={len(s):4d}  FSR {s[:, 2].mean():7.1f}  Navier-Stokes {s[:, 3].mean():7.1f}")
    print(f"  Navier-Stokes everywhere {r[:, 3].mean():.1f}; FSR on every small part "
          f"{np.where(small, r[:, 2], r[:, 3]).mean():.1f}; classical's rule {np.where(small & textured, r[:, 2], r[:, 3]).mean():.1f}")


def framing(images: np.ndarray) -> None:
    import collections

    from ganfill import Pipeline
    from ganfill.data import detect
    from ganfill.data.faces import Box

    pipe = Pipeline.from_pretrained("portrait", device="cpu")
    steps = [("hog", detect._hog_faces), ("hog turned", lambda a: detect._hog_faces(a, tilts=detect.TILTS)),
             ("cnn", detect._cnn_faces), ("haar", detect._haar_faces)]
    psnr = lambda out, truth: 10 * np.log10(255 ** 2 / np.mean((out.astype(float) - truth) ** 2))  # noqa: E731
    found, loss = [], collections.defaultdict(list)
    for i, image in enumerate(images):
        side = image.shape[0]
        hole = np.zeros(image.shape[:2], bool)
        hole[side // 4:3 * side // 4, side // 4:3 * side // 4] = True
        by = next((name for name, step in steps if step(image)), "none")
        detected = psnr(pipe(image, hole, seed=0, index=i).images[0], image)
        boxed = psnr(pipe(image, hole, seed=0, index=i, box=Box(0, 0, side, side)).images[0], image)
        found.append((detected, boxed))
        loss[by].append(boxed - detected)
    f = np.array(found)
    print(f"centre hole, {len(f)} faces: PSNR {f[:, 0].mean():.2f} detected, {f[:, 1].mean():.2f} with the box")
    for by, v in loss.items():
        print(f"  found by {by:10s} n={len(v):4d}  loss {np.mean(v):+.2f} dB")


def landmarks(images: np.ndarray) -> None:
    from ganfill.data import detect
    from ganfill.data.faces import FACE_SCALE, WILD_FRAMING, Box

    steps = [("hog", lambda a: detect._hog_faces(a, raw=True)),
             ("hog", lambda a: detect._hog_faces(a, raw=True, tilts=detect.TILTS)),
             ("cnn", lambda a: detect._cnn_faces(a, raw=True))]
    rows, centres = [], []     # detector, the box's crop side, the landmarks' centre and side; the box's centre
    for image in images:
        kind, found = next(((k, f) for k, step in steps if (f := step(image))), (None, None))
        if found:
            to_haar = detect.HOG_TO_HAAR if kind == "hog" else detect.CNN_TO_HAAR
            b, shift = found[0], detect.HOG_SHIFT if kind == "hog" else detect.CNN_SHIFT
            centres.append((b.x + b.w / 2, b.y + b.h / 2 + shift * b.w))
            rows.append((kind, found[0].w * to_haar * FACE_SCALE * WILD_FRAMING,
                         *detect.landmark_crop(detect.landmarks(image, found[0]))))
    side = images.shape[1]

    def error(sides, at=None):
        e = []
        for (_, _, cx, cy, _), s in zip(rows, sides) if at is None else zip([(0, 0, *c, 0) for c in at], sides):
            c = Box(int(round(cx - s / 2)), int(round(cy - s / 2)), int(round(s)), int(round(s))).inside(images.shape[1:3])
            e.append((abs(c.w / side - 1), np.hypot(c.x + c.w / 2 - side / 2, c.y + c.h / 2 - side / 2)))
        return np.array(e).mean(0)

    kind = np.array([r[0] for r in rows])
    box, marks = np.array([r[1] for r in rows]), np.array([r[4] for r in rows])
    print(f"{len(rows)} of {len(images)} faces found ({(kind == 'cnn').sum()} by the CNN); crop side error, centre offset px")
    e = error(box, centres)
    print(f"  {'the box alone (no landmarks)':38s} {e[0]:.4f}  {e[1]:5.2f}")
    for name, sides in [("the box's side, the landmarks' centre", box), ("the landmarks' side", marks)] + [
            (f"the landmarks' where > {t:.2f} off (HOG)", np.where((kind == "hog") & (np.abs(np.log(marks / box)) > np.log1p(t)), marks, box))
            for t in (0.06, 0.08, 0.10, 0.12, 0.15)]:
        e = error(sides)
        print(f"  {name:38s} {e[0]:.4f}  {e[1]:5.2f}")


images = faces(args.n)
{"general": general, "framing": framing, "landmarks": landmarks}[args.what](images)
