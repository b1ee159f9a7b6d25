"""Step 3: the model's answer for a crop, back into the full-size photo: the upscale over the
hole's window, the photo's own fine detail, and the Poisson seam."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..data.faces import Box, hole_box
from ..inpaint.blending import paste, poisson

#: above this many hole pixels the seam is pasted, not Poisson-solved (memory and time)
POISSON_MAX_PIXELS = 1_500_000


@dataclass
class PhotoResult:
    images: list[np.ndarray]        # K uint8 RGB (H, W, 3) results, best first
    box: Box | None                 # the crop that the model saw (None: the whole photo)
    source: str                     # how the crop was chosen: "face", "hole", "box", "whole", "full-size"
                                    # or "no hole" (the mask is empty: the images are the input)
    faces: int = 0                  # a routed method: how many faces' crops the face model filled
    warnings: list[str] = field(default_factory=list)   # one line each, for the user
    general: str | None = None      # a routed method: the general method that filled the parts on no face

    def summary(self) -> str:
        """What filled the hole, in a few words (a routed method's split)."""
        if self.source == "no hole":
            return "no hole"
        faces = f"{self.faces} face{'s' * (self.faces != 1)} filled by the face model"
        if self.general:
            return f"{faces}, the rest of the hole by {self.general}" if self.faces else f"filled by {self.general}"
        return faces if self.faces else self.source


def _cubic_rows(n_src: int, side: int, start: int, count: int) -> np.ndarray:
    """Rows ``start .. start + count - 1`` of a bicubic resize of ``n_src`` pixels to ``side``, as a
    ``(count, n_src)`` matrix: OpenCV's ``INTER_CUBIC`` (Keys, a = -0.75, pixel centres aligned,
    edge pixels repeated), so that only the rows and columns under the hole are ever computed."""
    x = (np.arange(start, start + count) + 0.5) * (n_src / side) - 0.5
    x0 = np.floor(x).astype(np.int64)
    t = x - x0
    a = -0.75
    weights = np.zeros((count, n_src))
    rows = np.arange(count)
    for j in range(-1, 3):
        d = np.abs(t - j)
        k = np.where(d <= 1, ((a + 2) * d - (a + 3)) * d * d + 1,
                     np.where(d < 2, ((a * d - 5 * a) * d + 8 * a) * d - 4 * a, 0.0))
        np.add.at(weights, (rows, np.clip(x0 + j, 0, n_src - 1)), k)
    return weights


def _upscaled(result: np.ndarray, box: Box, window: tuple[slice, slice]) -> np.ndarray:
    """The part of ``result`` (the model's ``(S, S, 3)`` answer for ``box``) scaled up to ``box``'s
    size that lies under ``window`` (photo coordinates): float64, that window's shape."""
    ys, xs = window
    size = result.shape[0]
    wy = _cubic_rows(size, box.h, ys.start - box.y, ys.stop - ys.start)
    wx = _cubic_rows(size, box.w, xs.start - box.x, xs.stop - xs.start)
    return np.stack([wy @ result[..., c].astype(np.float64) @ wx.T for c in range(result.shape[2])], axis=-1)


def _window(mask: np.ndarray, box: Box) -> tuple[slice, slice]:
    """The hole's bounding box and a 2-pixel ring (the seam's boundary), inside the crop and the photo."""
    h, w = mask.shape
    hb = hole_box(mask)
    x0, y0 = max(hb.x - 2, box.x, 0), max(hb.y - 2, box.y, 0)
    x1, y1 = min(hb.x + hb.w + 2, box.x + box.w, w), min(hb.y + hb.h + 2, box.y + box.h, h)
    return slice(y0, y1), slice(x0, x1)


def _detail(image: np.ndarray, mask: np.ndarray, result: np.ndarray, box: Box, hole_small: np.ndarray,
            window: tuple[slice, slice], options: dict) -> np.ndarray:
    """The photo's own fine detail for the hole (:func:`ganfill.inpaint.detail.detail_residual`),
    under ``window``; it reads the whole crop, so a crop too large to build gets none."""
    from ..data.faces import MAX_CROP_PIXELS, crop_square
    from ..inpaint.detail import detail_residual

    ys, xs = window
    if box.w * box.h > MAX_CROP_PIXELS:
        return np.zeros((ys.stop - ys.start, xs.stop - xs.start, 3))
    crop = crop_square(image, box)
    hole = crop_square(mask.view(np.uint8), box) > 0
    residual = detail_residual(crop, hole, result, hole_small, **options)
    return residual[ys.start - box.y:ys.stop - box.y, xs.start - box.x:xs.stop - box.x]


def _paste_back(image: np.ndarray, mask: np.ndarray, result: np.ndarray, box: Box,
                hole_small: np.ndarray | None = None, detail: dict | None = None,
                part: np.ndarray | None = None) -> np.ndarray:
    """Blend the model's answer ``result`` for the crop ``box`` into the hole of ``image``.

    The upscale and the Poisson system cover a window around the hole only, so their size is the
    hole's, not the photo's or the crop's.  The crop always holds the whole hole (:func:`choose_crop`).
    ``detail`` (options of :func:`~ganfill.inpaint.detail.detail_residual`, None = off) adds the
    photo's own fine detail to the upscale where the crop is larger than ``result``.  ``part``
    (default: all of ``mask``) is the part of the hole that is pasted.
    """
    part = mask if part is None else part
    window = _window(part, box)
    known = image[window].astype(np.float64)
    generated = _upscaled(result, box, window)
    if detail is not None and hole_small is not None and box.w > result.shape[0]:
        generated += _detail(image, mask, result, box, hole_small, window, detail)
    hole = part[window]
    blended = poisson(known, generated, hole) if hole.sum() <= POISSON_MAX_PIXELS else paste(known, generated, hole)
    out = image.copy()
    out[window] = np.where(hole[..., None], np.clip(np.round(blended), 0, 255).astype(np.uint8), image[window])
    return out


def paste_back(prepared, results: np.ndarray, detail: bool) -> PhotoResult:
    """Step 3: the K model answers ``results`` uint8 ``(K, S, S, 3)`` for ``prepared`` -> full-size
    photos; ``detail``: add the photo's own fine detail above the model's size."""
    options = {} if detail else None
    return PhotoResult([_paste_back(prepared.image, prepared.mask, r, prepared.box, prepared.hole, options)
                        for r in results], prepared.box, prepared.source,
                       faces=int(prepared.source in ("face", "box", "whole")), warnings=prepared.warnings)


def paste_into(image: np.ndarray, mask: np.ndarray, face, result: np.ndarray, detail: bool) -> np.ndarray:
    """One face's answer ``result`` (uint8 ``(S, S, 3)``) for its crop ``face`` (a PreparedPhoto
    whose ``mask`` is that face's part of the hole) pasted into that part of ``image``; ``mask``
    is the whole hole, which the photo's fine detail must not read."""
    return _paste_back(image, mask, result, face.box, face.hole, {} if detail else None, part=face.mask)
