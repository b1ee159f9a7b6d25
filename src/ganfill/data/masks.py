"""Seeded mask generators.  Every mask is a bool ``(H, W)`` array with True = hole.

Each generator draws only from a ``numpy.random.Generator`` (PCG64), so a seed gives the same
mask on every machine.  ``make_masks(kind, n, seed)`` gives mask ``i`` from the seed pair
``(seed, i)``: the i-th mask does not depend on how many are made.
"""

from __future__ import annotations

from typing import Callable

import cv2
import numpy as np

MaskFn = Callable[[int, np.random.Generator], np.ndarray]


def center_mask(size: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """The centre square of half the side (32x32 of 64x64): the protocol of Yeh et al. and the thesis."""
    mask = np.zeros((size, size), dtype=bool)
    q = size // 4
    mask[q:size - q, q:size - q] = True
    return mask


def box_mask(size: int, rng: np.random.Generator) -> np.ndarray:
    """One random axis-aligned rectangle covering 10-50% of the image area."""
    area = rng.uniform(0.10, 0.50) * size * size
    aspect = np.exp(rng.uniform(np.log(0.5), np.log(2.0)))
    h = int(round(np.sqrt(area * aspect)))
    w = int(round(area / max(h, 1)))
    h, w = min(max(h, 1), size), min(max(w, 1), size)
    y = int(rng.integers(0, size - h + 1))
    x = int(rng.integers(0, size - w + 1))
    mask = np.zeros((size, size), dtype=bool)
    mask[y:y + h, x:x + w] = True
    return mask


# Brush widths as a fraction of the image side, after LaMa's thin / medium / thick generators.
FREE_STYLES = {"thin": (0.02, 0.06), "medium": (0.06, 0.12), "thick": (0.12, 0.20)}


def free_mask(size: int, rng: np.random.Generator, style: str | None = None) -> np.ndarray:
    """Free-form brush strokes: a few random polylines of random width (style drawn if not given)."""
    if style is None:
        style = ("thin", "medium", "thick")[int(rng.integers(0, 3))]
    lo, hi = FREE_STYLES[style]
    canvas = np.zeros((size, size), dtype=np.uint8)
    for _ in range(int(rng.integers(1, 5))):
        x, y = rng.uniform(0, size, size=2)
        width = max(1, int(round(rng.uniform(lo, hi) * size)))
        for _ in range(int(rng.integers(2, 7))):
            angle = rng.uniform(0, 2 * np.pi)
            length = rng.uniform(0.1, 0.4) * size
            nx = float(np.clip(x + length * np.cos(angle), 0, size - 1))
            ny = float(np.clip(y + length * np.sin(angle), 0, size - 1))
            cv2.line(canvas, (int(round(x)), int(round(y))), (int(round(nx)), int(round(ny))), 255, width)
            cv2.circle(canvas, (int(round(nx)), int(round(ny))), width // 2, 255, -1)
            x, y = nx, ny
    mask = canvas > 0
    if mask.all():  # never hide everything: there would be nothing to condition on
        mask[: size // 8] = False
    return mask


def half_mask(size: int, rng: np.random.Generator) -> np.ndarray:
    """The left, right, top or bottom half, chosen at random."""
    mask = np.zeros((size, size), dtype=bool)
    side = int(rng.integers(0, 4))
    h = size // 2
    if side == 0:
        mask[:, :h] = True
    elif side == 1:
        mask[:, h:] = True
    elif side == 2:
        mask[:h, :] = True
    else:
        mask[h:, :] = True
    return mask


def pixels_mask(size: int, rng: np.random.Generator, fraction: float = 0.8) -> np.ndarray:
    """Each pixel missing independently with probability ``fraction`` (80% by default)."""
    return rng.random((size, size)) < fraction


def _blob(size: int, rng: np.random.Generator) -> np.ndarray:
    """One filled ellipse, radii 4-12 % of the side, turned at random, its centre anywhere."""
    canvas = np.zeros((size, size), dtype=np.uint8)
    centre = tuple(int(v) for v in rng.integers(0, size, size=2))
    axes = tuple(max(1, int(round(r * size))) for r in rng.uniform(0.04, 0.12, size=2))
    cv2.ellipse(canvas, centre, axes, float(rng.uniform(0, 180)), 0, 360, 255, -1)
    return canvas > 0


def portrait_mask(size: int, rng: np.random.Generator) -> np.ndarray:
    """One to four blobs anywhere (face, hair, background, corners): what people paint over in a
    portrait (a stain on the wall, a logo, a hand, a date stamp)."""
    mask = np.zeros((size, size), dtype=bool)
    for _ in range(int(rng.integers(1, 5))):
        mask |= _blob(size, rng)
    return mask


MASK_KINDS: dict[str, MaskFn] = {
    "center": center_mask,
    "box": box_mask,
    "free": free_mask,
    "half": half_mask,
    "pixels": pixels_mask,
    "portrait": portrait_mask,
}
#: masks drawn for each image: "off-face" is portrait blobs that touch no detected face (off_face_masks)
IMAGE_MASK_KINDS = ("off-face",)


def off_face_masks(images: np.ndarray, seed: int = 0) -> np.ndarray:
    """For each uint8 ``(N, S, S, 3)`` image, one to four portrait blobs that touch none of its
    detected faces' crops (``FACE_SCALE`` squares: what the default method counts as on a face);
    mask ``i`` comes from ``(seed, i)``.  Blobs that touch a face are drawn again, up to 200 times."""
    from .detect import detect_faces
    from .faces import FACE_SCALE

    n, size = len(images), images.shape[1]
    masks = np.zeros((n, size, size), dtype=bool)
    for i, image in enumerate(images):
        rng = np.random.default_rng([seed, i])
        faces = np.zeros((size, size), dtype=bool)
        for face in detect_faces(image):
            box = face.square(FACE_SCALE)
            faces[max(box.y, 0):max(box.y + box.h, 0), max(box.x, 0):max(box.x + box.w, 0)] = True
        wanted = int(rng.integers(1, 5))
        for _ in range(200):
            if wanted == 0:
                break
            blob = _blob(size, rng)
            if not (blob & faces).any():
                masks[i] |= blob
                wanted -= 1
    return masks


def _generator(kind: str) -> MaskFn:
    try:
        return MASK_KINDS[kind]
    except KeyError:
        raise ValueError(f"unknown mask kind {kind!r}; choose from {', '.join([*MASK_KINDS, *IMAGE_MASK_KINDS])}"
                         ) from None


def make_mask(kind: str, size: int = 64, seed: int | np.random.Generator = 0) -> np.ndarray:
    """One bool ``(size, size)`` mask of ``kind`` (True = hole)."""
    fn = _generator(kind)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    return fn(size, rng)


def make_masks(kind: str, n: int, size: int = 64, seed: int = 0) -> np.ndarray:
    """``n`` masks as a bool ``(n, size, size)`` array; mask ``i`` comes from the seed pair ``(seed, i)``."""
    fn = _generator(kind)
    return np.stack([fn(size, np.random.default_rng([seed, i])) for i in range(n)]) if n else \
        np.zeros((0, size, size), dtype=bool)
