"""Inpainting real photos of any size with any method of the registry.

The learned methods work on 64x64 face crops, so for them a photo goes through:

1. the crop: the square around the detected face (``crop="face"``), around the hole
   (``crop="hole"``), or a given ``box``; widened if needed so that it holds the whole hole;
2. a resize to 64x64 (area averaging; a 64x64 pixel is hole if any of its photo pixels is);
3. the method, giving K candidates;
4. each candidate scaled back up (bicubic) and Poisson-blended into the hole of the full-size
   photo, so the seam follows the photo's own colours.

Classical methods (``telea``, ...) work at any size and run on the whole photo directly.  In
every case only hole pixels change: outside the mask the result is the input, byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .data.faces import Box, around_hole_box, crop_square, face_crop_box, hole_box
from .inpaint.blend import paste, poisson
from .methods import InpaintMethod, get_method

MODEL_SIZE = 64
CROP_MODES = ("face", "hole")
#: a photo already this small and square is taken to be a face crop itself
CROP_SIZED = 128
#: above this many hole pixels the seam is pasted, not Poisson-solved (memory and time)
POISSON_MAX_PIXELS = 1_500_000


class NoFaceError(ValueError):
    """No face was found where the crop needs one."""


@dataclass
class PhotoResult:
    images: list[np.ndarray]        # K uint8 RGB (H, W, 3) results, best first
    box: Box | None                 # the crop that the model saw (None: the whole photo)
    source: str                     # how the crop was chosen: "face", "hole", "box", "whole" or "full-size"


def _enclose(box: Box, hole: Box) -> Box:
    """The smallest square holding ``box`` and ``hole``, centred like ``box`` if it already holds it."""
    x0, y0 = min(box.x, hole.x), min(box.y, hole.y)
    x1, y1 = max(box.x + box.w, hole.x + hole.w), max(box.y + box.h, hole.y + hole.h)
    if (x0, y0, x1, y1) == (box.x, box.y, box.x + box.w, box.y + box.h):
        return box
    return Box(x0, y0, x1 - x0, y1 - y0).square()


def choose_crop(image: np.ndarray, mask: np.ndarray, box: Box | None = None, crop: str = "face"
                ) -> tuple[Box, str]:
    """The square the model will see, and how it was chosen."""
    h, w = mask.shape
    if crop not in CROP_MODES:
        raise ValueError(f"unknown crop mode {crop!r}; choose from {', '.join(CROP_MODES)}")
    if box is not None:
        found, source = box.square(), "box"
    elif h == w and h <= CROP_SIZED:
        found, source = Box(0, 0, w, h), "whole"
    elif crop == "hole":
        found, source = around_hole_box(mask), "hole"
    else:
        face = face_crop_box(image, mask)
        if face is None:
            raise NoFaceError("no face found in the photo; pass --box x,y,w,h around the face, "
                              "or --crop hole to inpaint a square around the hole")
        found, source = face, "face"
    return _enclose(found, hole_box(mask)), source


def _resize(array: np.ndarray, side: int, interpolation: int) -> np.ndarray:
    import cv2

    return cv2.resize(np.ascontiguousarray(array), (side, side), interpolation=interpolation)


def _paste_back(image: np.ndarray, mask: np.ndarray, filled_crop: np.ndarray, box: Box) -> np.ndarray:
    """Blend an upscaled crop ``filled_crop`` ``(box.h, box.w, 3)`` into the hole of ``image``.

    The Poisson system is solved on a window around the hole only, so its size is the hole's,
    not the photo's.  The crop always holds the whole hole (:func:`choose_crop`).
    """
    h, w = mask.shape
    hb = hole_box(mask)
    x0, y0 = max(hb.x - 2, box.x, 0), max(hb.y - 2, box.y, 0)
    x1, y1 = min(hb.x + hb.w + 2, box.x + box.w, w), min(hb.y + hb.h + 2, box.y + box.h, h)
    window = (slice(y0, y1), slice(x0, x1))
    known = image[window].astype(np.float64)
    generated = filled_crop[y0 - box.y:y1 - box.y, x0 - box.x:x1 - box.x]
    if mask.sum() <= POISSON_MAX_PIXELS:
        blended = poisson(known, generated, mask[window])
    else:
        blended = paste(known, generated, mask[window])
    out = image.copy()
    out[window] = np.where(mask[window][..., None], np.clip(np.round(blended), 0, 255).astype(np.uint8),
                           image[window])
    return out


def inpaint_photo(image: np.ndarray, mask: np.ndarray, method: InpaintMethod | str = "lsgan+ae",
                  candidates: int = 1, box: Box | None = None, crop: str = "face", seed: int = 0,
                  index: int = 0) -> PhotoResult:
    """Fill the hole of a photo of any size.

    Args:
        image: uint8 RGB ``(H, W, 3)``, values 0-255.
        mask: ``(H, W)``, True / nonzero = hole to fill.
        method: a registry name or an :class:`~ganfill.methods.InpaintMethod`.
        candidates: K results, best first (K > 1 needs an lsgan method).
        box: the face's box ``Box(x, y, w, h)``, overriding the detector.
        crop: ``"face"`` (detect the face) or ``"hole"`` (a square around the hole).
        seed, index: the photo's randomness comes from ``(seed, index)`` (``index``: its place in a
            folder or benchmark), so the result does not depend on what else is being filled.

    Returns:
        a :class:`PhotoResult`; outside the mask each image equals ``image`` exactly.

    Example::

        >>> from ganfill.data import load_image, default_data_root
        >>> photo = load_image(default_data_root() / "celeba-aligned/000001.jpg")   # (109, 89, 3)
        >>> hole = np.zeros(photo.shape[:2], bool); hole[50:62, 30:60] = True
        >>> result = inpaint_photo(photo, hole, "telea")
        >>> bool((result.images[0][~hole] == photo[~hole]).all())
        True
    """
    import cv2

    image = np.ascontiguousarray(image, dtype=np.uint8)
    mask = np.asarray(mask).astype(bool)
    if image.ndim != 3 or image.shape[2] != 3 or mask.shape != image.shape[:2]:
        raise ValueError(f"need an RGB (H, W, 3) image and an (H, W) mask, got {image.shape} and {mask.shape}")
    if not mask.any():
        return PhotoResult([image.copy() for _ in range(candidates)], None, "no hole")
    if mask.all():
        raise ValueError("the mask covers the whole image: there is nothing to condition on")
    if isinstance(method, str):
        method = get_method(method)
    if not method.fixed_size:
        return PhotoResult(list(method.candidates(image[None], mask[None], candidates, seed, index)[0]), None, "full-size")

    box, source = choose_crop(image, mask, box, crop)
    face = _resize(crop_square(image, box), MODEL_SIZE, cv2.INTER_AREA)
    hole_crop = crop_square(mask.astype(np.float32), box)
    hole = _resize(hole_crop, MODEL_SIZE, cv2.INTER_AREA) > 0
    if hole.all():
        raise ValueError("the hole covers the whole face crop: there is nothing to condition on; "
                         "pass a larger --box")
    results = method.candidates(face[None], hole[None], candidates, seed, index)[0]
    filled = [_paste_back(image, mask, _resize(r, box.w, cv2.INTER_CUBIC).astype(np.float64), box)
              for r in results]
    return PhotoResult(filled, box, source)
