"""The classical baselines people use today: mean colour, OpenCV's Telea, Navier-Stokes and
frequency-selective reconstruction (FSR, opencv-contrib's xphoto), scikit-image's biharmonic
inpainting, and ``classical``: FSR or Navier-Stokes for each part of a hole, by its size."""

from __future__ import annotations

import cv2
import numpy as np
from skimage.restoration import inpaint_biharmonic

from ..inpaint.base import InpaintMethod


class MeanFill(InpaintMethod):
    """The hole takes the mean colour of the known pixels (rounded to the nearest uint8)."""

    name = "mean"

    def inpaint_one(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        known = image[~mask]
        colour = known.mean(axis=0) if len(known) else np.full(3, 127.5)
        out = image.copy()
        out[mask] = np.clip(np.round(colour), 0, 255).astype(np.uint8)
        return out


class _OpenCV(InpaintMethod):
    flag = cv2.INPAINT_TELEA

    def __init__(self, radius: float = 3.0):
        self.radius = radius
        # Both read the known pixels within ``radius`` of the hole's front (identical results on a
        # window with a 4-pixel margin at radius 3; 8 more for safety).
        self.context = int(np.ceil(radius)) + 8

    def inpaint_one(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return cv2.inpaint(np.ascontiguousarray(image), mask.astype(np.uint8) * 255, self.radius, self.flag)


class Telea(_OpenCV):
    """``cv2.inpaint`` with Telea's fast marching method, radius 3."""

    name, flag = "telea", cv2.INPAINT_TELEA


class NavierStokes(_OpenCV):
    """``cv2.inpaint`` with the Navier-Stokes method, radius 3."""

    name, flag = "navier-stokes", cv2.INPAINT_NS


def fsr(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """OpenCV's fast frequency-selective reconstruction of the hole ``mask`` (True = hole) of a uint8
    RGB image.  It works in 16-px blocks and mishandles a partial block at the bottom or right edge
    (a corner hole came back as bright streaks on a black corner), so the image is mirrored out to
    whole blocks first."""
    h, w = mask.shape
    ph, pw = -h % FSR_BLOCK, -w % FSR_BLOCK
    known = np.where(mask, 0, 255).astype(np.uint8)         # xphoto's mask marks the known pixels
    if ph or pw:
        image = cv2.copyMakeBorder(image, 0, ph, 0, pw, cv2.BORDER_REFLECT_101)
        known = cv2.copyMakeBorder(known, 0, ph, 0, pw, cv2.BORDER_REFLECT_101)
    out = np.zeros_like(image)
    cv2.xphoto.inpaint(np.ascontiguousarray(image), known, out, cv2.xphoto.INPAINT_FSR_FAST)
    # its reconstruction also nudges known pixels by a level or two: they are the photo's own
    return np.where(mask[..., None], out[:h, :w], image[:h, :w])


#: FSR's block side (opencv_contrib xphoto, the fast variant)
FSR_BLOCK = 16


class FSR(InpaintMethod):
    """opencv-contrib's ``xphoto.inpaint`` with frequency-selective reconstruction (the fast
    variant): texture and edges continued into the hole, at a time that grows steeply with its
    size (0.5 s for a 64-px square, 90 s for a 500-px one)."""

    name = "fsr"
    context = 48          # its blocks read their neighbours' known pixels

    def inpaint_one(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return fsr(image, mask) if mask.any() else image.copy()


class Classical(InpaintMethod):
    """Each connected part of the hole by the classical method that suits its size: FSR on parts
    of at most FSR_MAX_PART pixels (at most FSR_MAX_PARTS of them, so the time stays bounded),
    Navier-Stokes on the rest (docs/results.md, "Portraits": measured per part on validation
    faces, FSR's error is lower up to about 2,000 px and Navier-Stokes' above)."""

    name = "classical"
    context = FSR.context

    def inpaint_one(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        out = image.copy()
        count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
        small = [j for j in range(1, count) if stats[j, cv2.CC_STAT_AREA] <= FSR_MAX_PART][:FSR_MAX_PARTS]
        h, w = mask.shape
        c = FSR.context
        for j in small:
            x, y, bw, bh = stats[j, :4]
            window = slice(max(y - c, 0), min(y + bh + c, h)), slice(max(x - c, 0), min(x + bw + c, w))
            # every part of the hole in the window is unknown to FSR; only this part is kept
            part = labels[window] == j
            out[window][part] = fsr(image[window], mask[window])[part]
        rest = mask & ~np.isin(labels, small)
        if rest.any():
            out = cv2.inpaint(out, rest.astype(np.uint8) * 255, 3.0, cv2.INPAINT_NS)
        return out


#: the largest part of a hole (pixels) that ``classical`` gives to FSR, and how many parts at most
FSR_MAX_PART = 2048
FSR_MAX_PARTS = 64


class Biharmonic(InpaintMethod):
    """scikit-image's ``inpaint_biharmonic``, per colour channel."""

    name = "biharmonic"
    # skimage solves each hole on its bounding box and a 2-pixel neighbourhood
    context = 8

    def inpaint_one(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        if not mask.any():
            return image.copy()
        out = inpaint_biharmonic(image, mask, channel_axis=-1)
        return np.clip(np.round(out * 255.0), 0, 255).astype(np.uint8)
