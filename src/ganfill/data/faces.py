"""Finding the faces in a photo, and the square the models were trained on around each.

The training crops are tight (forehead to chin) boxes of the ``face_recognition`` detector, resized
to 64x64.  Here dlib's HOG detector (on the photo padded, so that a face filling the frame is found)
and then OpenCV's bundled Haar cascades find faces offline.  The crop is ``FACE_SCALE`` times the
Haar box, a factor calibrated on the aligned CelebA photos (docs/photos.md: the scale whose mean
face is closest to the training faces' mean); a HOG box is first mapped onto the Haar framing
(``HOG_TO_HAAR``, ``HOG_SHIFT``, calibrated the same way), then centred, and where its size is a
step of the detector's pyramid off sized, by the face's landmarks (``detect.landmark_crop``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: crop side / Haar box side; see the module docstring
FACE_SCALE = 0.85
#: the crop side / hole side when the crop is taken around the hole (the centre hole's framing)
HOLE_SCALE = 2.0
#: a box's coordinates and sides lie within this many pixels (well above any photo's side, and
#: small enough that no arithmetic on them overflows a float)
MAX_BOX_SIDE = 10_000_000


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in pixels: ``x``, ``y`` of its top-left corner, ``w``, ``h``."""

    x: int
    y: int
    w: int
    h: int

    def __post_init__(self):
        if any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) for v in (self.x, self.y, self.w, self.h)):
            raise TypeError(f"a box is four whole numbers x, y, w, h, got {quote((self.x, self.y, self.w, self.h))}")
        if self.w <= 0 or self.h <= 0:
            raise ValueError(f"a box needs a positive width and height, got {quote(str(self))}")
        if max(abs(self.x), abs(self.y), self.w, self.h) > MAX_BOX_SIDE:
            raise ValueError(f"a box's x, y, w and h must lie within {MAX_BOX_SIDE:,} pixels, got {quote(str(self))}")

    @classmethod
    def parse(cls, text: str) -> "Box":
        """``"x,y,w,h"`` -> Box, with a one-line error on anything else."""
        parts = text.replace(" ", "").split(",")
        if len(parts) != 4 or not all(p.lstrip("-").isascii() and p.lstrip("-").isdecimal() and len(p) <= 9 for p in parts):
            if len(parts) == 4 and all(p.lstrip("-").isascii() and p.lstrip("-").isdecimal() for p in parts):
                raise ValueError(f"a box's x, y, w and h must lie within {MAX_BOX_SIDE:,} pixels, got {quote(text)}")
            raise ValueError(f"a box is x,y,w,h in whole pixels, got {quote(text)}")
        return cls(*map(int, parts))

    def square(self, scale: float = 1.0) -> "Box":
        """The square of side ``scale · max(w, h)`` with the same centre."""
        side = max(1, int(round(max(self.w, self.h) * scale)))
        cx, cy = self.x + self.w / 2, self.y + self.h / 2
        return Box(int(round(cx - side / 2)), int(round(cy - side / 2)), side, side)

    def inside(self, shape: tuple[int, ...]) -> "Box":
        """The box slid (not resized) to lie inside an image of ``shape`` ``(H, W, ...)`` along each
        side it fits in; along a side it does not fit in, it covers the image's whole extent."""
        h, w = shape[:2]
        return Box(min(max(self.x, min(0, w - self.w)), max(0, w - self.w)),
                   min(max(self.y, min(0, h - self.h)), max(0, h - self.h)), self.w, self.h)

    def overlap(self, mask: np.ndarray) -> int:
        """How many hole pixels of ``mask`` lie inside the box."""
        h, w = mask.shape
        x0, y0 = max(self.x, 0), max(self.y, 0)
        x1, y1 = min(self.x + self.w, w), min(self.y + self.h, h)
        return int(mask[y0:y1, x0:x1].sum()) if x1 > x0 and y1 > y0 else 0

    def __str__(self) -> str:
        return f"{self.x},{self.y},{self.w},{self.h}"


def quote(value, limit: int = 40) -> str:
    """``repr`` of a user's value cut to a short prefix: an error message is never larger than its input."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text):,} characters)"


def hole_box(mask: np.ndarray) -> Box:
    """The bounding box of the hole pixels of a bool mask (which must have some)."""
    # From the rows and columns that hold hole pixels: no index array as large as the hole.
    ys, xs = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return Box(int(xs[0]), int(ys[0]), int(xs[-1] - xs[0] + 1), int(ys[-1] - ys[0] + 1))


def check_box(box: Box, shape: tuple[int, ...]) -> Box:
    """``box`` if it overlaps an image of ``shape`` ``(H, W, ...)``; else a one-line ValueError."""
    h, w = shape[:2]
    if box.x >= w or box.y >= h or box.x + box.w <= 0 or box.y + box.h <= 0:
        raise ValueError(f"the box {box} (x,y,w,h) lies outside the {w}x{h} image")
    return box


#: lsgan+ae-wild's training crops (celeba-wild) are wider than the 64-px models' (celeba): 1.23
#: times the HOG box, centred within 0.01 of its side (the median over the first 300 training
#: crops on which HOG finds a face, 69 of them; docs/photos.md)
WILD_FRAMING = 1.23


def framing(side: int | None) -> float:
    """How much wider than the ``FACE_SCALE`` square the crop of a model of ``side`` px is."""
    from .sizes import WILD_SIZE

    return WILD_FRAMING if side == WILD_SIZE else 1.0


def face_crop_box(image: np.ndarray, mask: np.ndarray, side: int | None = None) -> Box | None:
    """The square around the detected face that holds most of the hole, framed as the training
    crops of a model of ``side`` px (None: no face)."""
    from .detect import detect_faces       # the detectors build on this module's Box

    faces = detect_faces(image)
    if not faces:
        return None
    best = max(faces, key=lambda b: (b.overlap(mask), b.w * b.h))
    return best.square(FACE_SCALE * framing(side))


def around_hole_box(mask: np.ndarray) -> Box:
    """A square around the hole, framed as the centre mask frames it (the hole is half the side)."""
    return hole_box(mask).square(HOLE_SCALE)


def crop_square(image: np.ndarray, box: Box) -> np.ndarray:
    """The square ``box`` of ``image`` (``(H, W)`` or ``(H, W, C)``); parts outside the image are
    mirrored in from inside it, so faces at the edge still make a full crop.

    Only the part of the photo under the box is copied and padded, so the memory is the crop's own
    size, whatever the photo's (:func:`crop_resized` bounds it for a box far larger than the photo).
    The box must overlap the image.
    """
    import cv2

    part, (top, bottom, left, right) = _visible(image, box)
    if not (top or bottom or left or right):
        return part.copy()
    # The mirror may reach past the box into the photo: read that much more, pad, cut it off again.
    h, w = image.shape[:2]
    x0, y0 = max(box.x, 0), max(box.y, 0)
    x1, y1 = x0 + part.shape[1], y0 + part.shape[0]
    rx0, ry0 = max(0, min(x0, x1 - 1 - right)), max(0, min(y0, y1 - 1 - bottom))
    rx1, ry1 = min(w, max(x1, x0 + left + 1)), min(h, max(y1, y0 + top + 1))
    region = np.ascontiguousarray(image[ry0:ry1, rx0:rx1])
    padded = cv2.copyMakeBorder(region, top, bottom, left, right, _border(region, top, bottom, left, right))
    return padded[y0 - ry0:y0 - ry0 + box.h, x0 - rx0:x0 - rx0 + box.w]


#: crops above this many pixels are made at a reduced scale by :func:`crop_resized`
MAX_CROP_PIXELS = 16_000_000


def crop_resized(image: np.ndarray, box: Box, side: int, interpolation: int) -> np.ndarray:
    """``crop_square(image, box)`` resized to ``side`` x ``side``, in memory bounded by the photo's
    visible part: a crop larger than :data:`MAX_CROP_PIXELS` (a box far outside a photo, or a wide
    photo's face and hole far apart) is resized before its mirrored border is added, at the scale
    it is wanted, instead of being built at full size first."""
    import cv2

    if box.w * box.h <= MAX_CROP_PIXELS:
        return cv2.resize(np.ascontiguousarray(crop_square(image, box)), (side, side), interpolation=interpolation)
    part, pads = _visible(image, box)
    scale = side / box.w
    pw, ph = max(1, round(part.shape[1] * scale)), max(1, round(part.shape[0] * scale))
    small = cv2.resize(np.ascontiguousarray(part), (pw, ph), interpolation=interpolation)
    top, bottom, left, right = (max(0, round(p * scale)) for p in pads)
    if top or bottom or left or right:
        small = cv2.copyMakeBorder(small, top, bottom, left, right, _border(small, top, bottom, left, right))
    return cv2.resize(small, (side, side), interpolation=interpolation)


def _visible(image: np.ndarray, box: Box) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The part of ``image`` under ``box`` (a view) and the padding (top, bottom, left, right) that
    completes it to the box; a ValueError if the box misses the image."""
    h, w = image.shape[:2]
    x0, y0 = max(box.x, 0), max(box.y, 0)
    x1, y1 = min(box.x + box.w, w), min(box.y + box.h, h)
    if x1 <= x0 or y1 <= y0:
        raise ValueError(f"the box {box} lies outside the {w}x{h} image")
    return image[y0:y1, x0:x1], (y0 - box.y, box.y + box.h - y1, x0 - box.x, box.x + box.w - x1)


def _border(part: np.ndarray, top: int, bottom: int, left: int, right: int) -> int:
    """Mirror the part at its edges; where the padding is wider than the part, repeat its edge."""
    import cv2

    ph, pw = part.shape[:2]
    return cv2.BORDER_REFLECT_101 if max(top, bottom) < ph and max(left, right) < pw and min(ph, pw) > 1 \
        else cv2.BORDER_REPLICATE

