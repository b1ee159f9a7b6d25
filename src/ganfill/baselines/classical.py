"""The classical baselines people use today: mean colour, OpenCV's Telea and Navier-Stokes, and
scikit-image's biharmonic inpainting."""

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
