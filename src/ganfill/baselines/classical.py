"""The classical baselines people use today: mean colour, OpenCV's Telea, Navier-Stokes and
frequency-selective reconstruction (FSR, opencv-contrib's xphoto), scikit-image's biharmonic
inpainting, and ``classical``: FSR or Navier-Stokes for each part of a hole, by its size and the
texture around it."""

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
    """Each connected part of the hole by the classical method that suits it: FSR on a small part
    (at most FSR_MAX_PART pixels) in textured surroundings (the Laplacian's spread in a ring around
    it at least FSR_MIN_TEXTURE), Navier-Stokes on the rest; at most FSR_MAX_PARTS parts go to FSR,
    so the time stays bounded (docs/photos.md: measured per part on validation faces)."""

    name = "classical"
    context = FSR.context

    def inpaint_one(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray:
        out = image.copy()
        count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
        h, w = mask.shape
        c = self.context
        to_fsr = []
        for j in range(1, count):
            if len(to_fsr) == FSR_MAX_PARTS:
                break
            x, y, bw, bh, area = stats[j]
            if area > FSR_MAX_PART:
                continue
            window = slice(max(y - c, 0), min(y + bh + c, h)), slice(max(x - c, 0), min(x + bw + c, w))
            part = labels[window] == j
            if texture_around(image[window], part, mask[window]) < FSR_MIN_TEXTURE:
                continue
            # every part of the hole in the window is unknown to FSR; only this part is kept
            out[window][part] = fsr(image[window], mask[window])[part]
            to_fsr.append(j)
        rest = mask & ~np.isin(labels, to_fsr)
        return NavierStokes().inpaint_one(out, rest) if rest.any() else out


def texture_around(image: np.ndarray, part: np.ndarray, hole: np.ndarray) -> float:
    """The spread (standard deviation) of the grey Laplacian over the known pixels within 7 px of
    ``part``, leaving out those next to the hole (their 3 x 3 Laplacian would read the hole's own
    pixels, whatever paint is there): about 1 on a plain wall or sky, 5 and more in hair, foliage
    or fabric."""
    near_hole = cv2.dilate(hole.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    ring = cv2.dilate(part.astype(np.uint8), np.ones((15, 15), np.uint8)).astype(bool) & ~near_hole
    if not ring.any():
        return 0.0
    grey = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)
    return float(cv2.Laplacian(grey, cv2.CV_64F)[ring].std())


#: ``classical``'s choice, measured per part on validation faces (docs/photos.md): FSR's error is
#: the lower on parts up to about 2,000 px in textured surroundings, Navier-Stokes' on smooth
#: surroundings and on larger parts (where FSR's time also grows steeply)
FSR_MAX_PART = 2048
FSR_MIN_TEXTURE = 3.0
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
