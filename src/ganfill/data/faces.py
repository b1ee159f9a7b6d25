"""Finding the face in a photo, and the square the models were trained on around it.

The training crops are tight (forehead to chin) boxes of the ``face_recognition`` detector, resized
to 64x64.  Here OpenCV's bundled Haar cascades find faces offline; their box is a little wider than
that detector's, so the crop is ``FACE_SCALE`` times its size, a factor calibrated on the aligned
CelebA photos (docs/photos.md: the scale whose mean face is closest to the training faces' mean).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: crop side / Haar box side; see the module docstring
FACE_SCALE = 0.85
#: the crop side / hole side when the crop is taken around the hole (the centre hole's framing)
HOLE_SCALE = 2.0


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in pixels: ``x``, ``y`` of its top-left corner, ``w``, ``h``."""

    x: int
    y: int
    w: int
    h: int

    @classmethod
    def parse(cls, text: str) -> "Box":
        """``"x,y,w,h"`` -> Box, with a one-line error on anything else."""
        parts = text.replace(" ", "").split(",")
        if len(parts) != 4 or not all(p.lstrip("-").isdigit() for p in parts):
            raise ValueError(f"a box is x,y,w,h in whole pixels, got {text!r}")
        x, y, w, h = map(int, parts)
        if w <= 0 or h <= 0:
            raise ValueError(f"a box needs a positive width and height, got {text!r}")
        return cls(x, y, w, h)

    def square(self, scale: float = 1.0) -> "Box":
        """The square of side ``scale · max(w, h)`` with the same centre."""
        side = max(1, int(round(max(self.w, self.h) * scale)))
        cx, cy = self.x + self.w / 2, self.y + self.h / 2
        return Box(int(round(cx - side / 2)), int(round(cy - side / 2)), side, side)

    def overlap(self, mask: np.ndarray) -> int:
        """How many hole pixels of ``mask`` lie inside the box."""
        h, w = mask.shape
        x0, y0 = max(self.x, 0), max(self.y, 0)
        x1, y1 = min(self.x + self.w, w), min(self.y + self.h, h)
        return int(mask[y0:y1, x0:x1].sum()) if x1 > x0 and y1 > y0 else 0

    def __str__(self) -> str:
        return f"{self.x},{self.y},{self.w},{self.h}"


#: tried in turn until one finds a face: (cascade file, minNeighbors).  On 300 aligned CelebA
#: photos the first finds faces in 273, the three together in 287 (docs/photos.md).
CASCADES = (("haarcascade_frontalface_default.xml", 5), ("haarcascade_frontalface_alt2.xml", 3),
            ("haarcascade_profileface.xml", 3))
_loaded: dict[str, object] = {}


def _cascade(name: str):
    import cv2

    if name not in _loaded:
        path = cv2.data.haarcascades + name
        cascade = cv2.CascadeClassifier(path)
        if cascade.empty():
            raise RuntimeError(f"OpenCV's face cascade is missing ({path}); reinstall opencv-python-headless<5")
        _loaded[name] = cascade
    return _loaded[name]


def detect_faces(image: np.ndarray) -> list[Box]:
    """Faces in a uint8 RGB ``(H, W, 3)`` image, largest first (OpenCV's Haar cascades)."""
    import cv2

    gray = cv2.equalizeHist(cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY))
    h, w = gray.shape
    smallest = max(24, min(h, w) // 10)
    for name, neighbours in CASCADES:
        found = _cascade(name).detectMultiScale(gray, scaleFactor=1.1, minNeighbors=neighbours,
                                                minSize=(smallest, smallest))
        if len(found):
            boxes = [Box(int(x), int(y), int(bw), int(bh)) for x, y, bw, bh in found]
            return sorted(boxes, key=lambda b: b.w * b.h, reverse=True)
    return []


def hole_box(mask: np.ndarray) -> Box:
    """The bounding box of the hole pixels of a bool mask (which must have some)."""
    ys, xs = np.nonzero(mask)
    return Box(int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1))


def face_crop_box(image: np.ndarray, mask: np.ndarray) -> Box | None:
    """The model's square around the detected face that holds most of the hole (None: no face)."""
    faces = detect_faces(image)
    if not faces:
        return None
    best = max(faces, key=lambda b: (b.overlap(mask), b.w * b.h))
    return best.square(FACE_SCALE)


def around_hole_box(mask: np.ndarray) -> Box:
    """A square around the hole, framed as the centre mask frames it (the hole is half the side)."""
    return hole_box(mask).square(HOLE_SCALE)


def crop_square(image: np.ndarray, box: Box) -> np.ndarray:
    """The square ``box`` of ``image`` (``(H, W)`` or ``(H, W, C)``); parts outside the image are
    mirrored in from inside it, so faces at the edge still make a full crop."""
    import cv2

    h, w = image.shape[:2]
    pad = max(0, -box.x, -box.y, box.x + box.w - w, box.y + box.h - h)
    if pad:
        border = cv2.BORDER_REFLECT_101 if pad < min(h, w) else cv2.BORDER_REPLICATE
        image = cv2.copyMakeBorder(np.ascontiguousarray(image), pad, pad, pad, pad, border)
    x, y = box.x + pad, box.y + pad
    return image[y:y + box.h, x:x + box.w]
