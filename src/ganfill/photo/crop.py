"""Step 1: the square the model sees, cut from the photo and resized to the model's size."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data.faces import Box, around_hole_box, check_box, crop_resized, face_crop_box, hole_box
from ..inpaint.base import InpaintMethod

CROP_MODES = ("face", "hole")
#: a photo already this small and square is taken to be a face crop itself
CROP_SIZED = 128


class NoFaceError(ValueError):
    """No face was found where the crop needs one."""


def _enclose(box: Box, hole: Box) -> Box:
    """The smallest square holding ``box`` and ``hole``, centred like ``box`` if it already holds it."""
    x0, y0 = min(box.x, hole.x), min(box.y, hole.y)
    x1, y1 = max(box.x + box.w, hole.x + hole.w), max(box.y + box.h, hole.y + hole.h)
    if (x0, y0, x1, y1) == (box.x, box.y, box.x + box.w, box.y + box.h):
        return box
    return Box(x0, y0, x1 - x0, y1 - y0).square()


def choose_crop(image: np.ndarray, mask: np.ndarray, box: Box | None = None, crop: str = "face"
                ) -> tuple[Box, str]:
    """The square the model will see, and how it was chosen.  A given ``box`` must overlap the image."""
    h, w = mask.shape
    if crop not in CROP_MODES:
        raise ValueError(f"unknown crop mode {crop!r}; choose from {', '.join(CROP_MODES)}")
    if box is not None:
        found, source = check_box(box, mask.shape).square(), "box"
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


@dataclass
class PreparedPhoto:
    """A photo checked and cut down to what the model sees (step 1)."""

    image: np.ndarray               # uint8 (H, W, 3), the photo
    mask: np.ndarray                # bool (H, W), True = hole
    box: Box | None = None          # the square the model sees (None: no crop)
    source: str = "full-size"       # as PhotoResult.source
    face: np.ndarray | None = None  # uint8 (S, S, 3): the crop at the model's side S
    hole: np.ndarray | None = None  # bool (S, S): its hole


def prepare(image: np.ndarray, mask: np.ndarray, method: InpaintMethod, box: Box | None = None,
            crop: str = "face") -> PreparedPhoto:
    """Cut the model's crop of a checked photo: uint8 ``(H, W, 3)`` ``image``, bool ``(H, W)``
    ``mask`` (True = hole); a method that works at any size gets the whole photo.  Raises
    ValueError (:class:`NoFaceError` when no face is found) with a one-line message."""
    import cv2

    if box is not None:
        check_box(box, image.shape)      # for every method, even those that need no crop
    if not mask.any():
        return PreparedPhoto(image, mask, source="no hole")
    if mask.all():
        raise ValueError("the mask covers the whole image: there is nothing to condition on")
    if not method.fixed_size:
        return PreparedPhoto(image, mask)
    box, source = choose_crop(image, mask, box, crop)
    face = crop_resized(image, box, method.fixed_size, cv2.INTER_AREA)
    # The mask crop as uint8 0/1 (a view of the bool mask, no copy of the photo-sized mask).
    hole = crop_resized(mask.view(np.uint8), box, method.fixed_size, cv2.INTER_AREA) > 0
    if hole.all():
        raise ValueError("the hole covers the whole face crop: there is nothing to condition on; "
                         "pass a larger --box")
    return PreparedPhoto(image, mask, box, source, face, hole)
