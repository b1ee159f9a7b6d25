"""Step 1: the square the model sees, cut from the photo and resized to the model's size."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..data.detect import detect_faces
from ..data.faces import (FACE_SCALE, Box, around_hole_box, check_box, crop_resized, face_crop_box, framing,
                          hole_box)
from ..data.images import coverage_warning
from ..inpaint.base import InpaintMethod

CROP_MODES = ("face", "hole")
#: a photo already this small and square is taken to be a face crop itself
CROP_SIZED = 128


#: how each interface names the ways out of "no face found": a box, the crop around the hole, and
#: (for a method that fills photos without faces) not asking for a face
_WAYS_OUT = {
    "python": ("box=(x, y, w, h)", "crop='hole'", "leave require_face False"),
    "cli": ("--box X,Y,W,H", "--crop hole", "leave out --require-face"),
    "api": ("the form field box=x,y,w,h", "the form field crop=hole", "leave out the form field require_face"),
}


class NoFaceError(ValueError):
    """No face was found where the crop needs one.  ``routed``: the method fills photos without a
    face too (the caller asked for one); :meth:`worded` says what to do in an interface's terms."""

    def __init__(self, routed: bool = False, general: str = "classical", where: str = ""):
        self.routed, self.general, self.where = routed, general, where
        super().__init__(self.worded("python"))

    def worded(self, interface: str) -> str:
        """The one-line message in the words of ``interface``: "python", "cli" or "api"."""
        box, crop, no_require = _WAYS_OUT[interface]
        return (f"{self.where}no face found in the photo; pass {box} around the face, or "
                + (f"{no_require} to fill the photo with {self.general}" if self.routed
                   else f"{crop} to inpaint a square around the hole"))


def _enclose(box: Box, hole: Box) -> Box:
    """The smallest square holding ``box`` and ``hole``, centred like ``box`` if it already holds it."""
    x0, y0 = min(box.x, hole.x), min(box.y, hole.y)
    x1, y1 = max(box.x + box.w, hole.x + hole.w), max(box.y + box.h, hole.y + hole.h)
    if (x0, y0, x1, y1) == (box.x, box.y, box.x + box.w, box.y + box.h):
        return box
    return Box(x0, y0, x1 - x0, y1 - y0).square()


def choose_crop(image: np.ndarray, mask: np.ndarray, box: Box | None = None, crop: str = "face",
                side: int | None = None) -> tuple[Box, str]:
    """The square the model will see, and how it was chosen: framed for a model of ``side`` px (the
    128-px model's crops are wider).  A given ``box`` must overlap the image."""
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
        face = face_crop_box(image, mask, side)
        if face is None:
            raise NoFaceError()
        found, source = face, "face"
    square = _enclose(found, hole_box(mask))
    # A found crop slides inside the photo where it fits: photo pixels are better context than a
    # mirrored border (a face that fills the frame, a turned face whose box hugs one edge).  A
    # box the user gave is the crop as given.
    return (square if source == "box" else square.inside(mask.shape)), source


@dataclass
class PreparedPhoto:
    """A photo checked and cut down to what the model sees (step 1)."""

    image: np.ndarray               # uint8 (H, W, 3), the photo
    mask: np.ndarray                # bool (H, W), True = hole
    box: Box | None = None          # the square the model sees (None: no crop)
    source: str = "full-size"       # as PhotoResult.source
    face: np.ndarray | None = None  # uint8 (S, S, 3): the crop at the model's side S
    hole: np.ndarray | None = None  # bool (S, S): its hole
    # A routed method's photo (one with a ``general`` method): one crop per face with a part of
    # the hole (each with its part as ``mask``), and the parts on no face, for the general method.
    parts: list["PreparedPhoto"] = field(default_factory=list)
    rest: np.ndarray | None = None  # bool (H, W), or None for a method that is not routed
    warnings: list[str] = field(default_factory=list)


def prepare(image: np.ndarray, mask: np.ndarray, method: InpaintMethod, box: Box | None = None,
            crop: str = "face", require_face: bool = False) -> PreparedPhoto:
    """Cut the model's crop of a checked photo: uint8 ``(H, W, 3)`` ``image``, bool ``(H, W)``
    ``mask`` (True = hole); a method that works at any size gets the whole photo; a routed method
    (one with a ``general`` method, ``crop="face"``) gets a crop per face (:func:`route`).
    Raises ValueError (:class:`NoFaceError` when no face is found and one is needed) with a
    one-line message."""
    if box is not None:
        check_box(box, image.shape)      # for every method, even those that need no crop
    if not mask.any():
        return PreparedPhoto(image, mask, source="no hole")
    if mask.all():
        raise ValueError("the mask covers the whole image: there is nothing to condition on")
    warnings = [w for w in [coverage_warning(mask)] if w]
    if not method.fixed_size:
        return PreparedPhoto(image, mask, warnings=warnings)
    if getattr(method, "general", None) is not None and crop == "face":
        prepared = route(image, mask, method, box, require_face)
        prepared.warnings[:0] = warnings
        return prepared
    box, source = choose_crop(image, mask, box, crop, method.fixed_size)
    return _cut(image, mask, mask, box, source, method.fixed_size, warnings)


def _cut(image: np.ndarray, mask: np.ndarray, part: np.ndarray, box: Box, source: str, side: int,
         warnings: list[str] | None = None) -> PreparedPhoto:
    """The crop ``box`` at the model's ``side``; its hole is all of ``mask`` under it (the model
    conditions on known pixels only), the part to paste back is ``part``."""
    import cv2

    face = crop_resized(image, box, side, cv2.INTER_AREA)
    # The mask crop as uint8 0/1 (a view of the bool mask, no copy of the photo-sized mask).
    hole = crop_resized(mask.view(np.uint8), box, side, cv2.INTER_AREA) > 0
    if hole.all():
        raise ValueError("the hole covers the whole face crop: there is nothing to condition on; "
                         "pass a larger --box")
    return PreparedPhoto(image, part, box, source, face, hole, warnings=warnings or [])


def route(image: np.ndarray, mask: np.ndarray, method: InpaintMethod, box: Box | None = None,
          require_face: bool = False) -> PreparedPhoto:
    """Split the hole between the faces and the rest of the photo.

    Each connected part of the hole goes to the face whose crop it overlaps most (``box``, if
    given, is the one face; a small square photo is a face crop itself); each face with a part
    gets its own crop, holding its parts.  The parts on no face are ``rest``, for the method's
    ``general`` inpainter; with no face at all that is the whole hole, with a warning (or a
    :class:`NoFaceError` if ``require_face``)."""
    import cv2

    h, w = mask.shape
    warnings = []
    if box is not None:
        faces, source = [check_box(box, mask.shape).square()], "box"
    elif h == w and h <= CROP_SIZED:
        faces, source = [Box(0, 0, w, h)], "whole"
    else:
        faces, source = [f.square(FACE_SCALE) for f in detect_faces(image)], "face"
    general = getattr(method.general, "name", type(method.general).__name__)
    if not faces:
        if require_face:
            raise NoFaceError(routed=True, general=general)
        warnings.append(f"no face found; filled the hole with {general}")
    count, labels = cv2.connectedComponents(mask.view(np.uint8), connectivity=8)
    owner, best = np.full(count, -1), np.zeros(count, np.int64)
    for j, f in enumerate(faces):
        x0, y0 = max(f.x, 0), max(f.y, 0)
        overlap = np.bincount(labels[y0:max(f.y + f.h, 0), x0:max(f.x + f.w, 0)].ravel(), minlength=count)
        overlap[0] = 0                      # label 0 is the known pixels
        better = overlap > best
        owner[better], best[better] = j, overlap[better]
    owner[0] = -2
    assigned = owner[labels]
    parts = []
    for j, f in enumerate(faces):
        part = assigned == j
        if part.any():
            # the face's part of the hole is what touches its face square; its crop is framed
            # as the model's training crops
            box = _enclose(f.square(framing(method.fixed_size)) if source == "face" else f, hole_box(part))
            if box == hole_box(part).square():
                # The face lies inside its part of the hole (a small face, or a wrong box): frame
                # the part as the centre hole is framed, so that the crop has known pixels.
                box = _enclose(f, around_hole_box(part))
            if source == "face":
                box = box.inside(mask.shape)    # as in choose_crop
            parts.append(_cut(image, mask, part, box, source, method.fixed_size))
    return PreparedPhoto(image, mask, parts[0].box if parts else None, source if parts else "full-size",
                         parts=parts, rest=assigned == -1, warnings=warnings)
