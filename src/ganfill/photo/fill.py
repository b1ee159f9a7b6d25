"""Step 2: the method, on the crops of every photo of a batch at once (or on the photo itself for
a method that works at any size)."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..data.faces import hole_box
from ..inpaint.base import InpaintMethod
from .crop import PreparedPhoto
from .paste import PhotoResult, paste_back


def fill(prepared: Sequence[PreparedPhoto], method: InpaintMethod, candidates: int, seed: int,
         indices: Sequence[int], detail: bool) -> list[PhotoResult]:
    """K results per prepared photo: the crops of all of them go through ``method`` in one call,
    then back into their photos (step 3, ``detail``: the photo's own fine detail above the
    model's size).  Photo ``i`` is seeded from ``(seed, indices[i])``, so its result does not
    depend on the other photos of the batch."""
    results: list[PhotoResult | None] = [None] * len(prepared)
    cropped = []
    for i, p in enumerate(prepared):
        if p.source == "no hole":
            results[i] = PhotoResult([p.image.copy() for _ in range(candidates)], None, "no hole")
        elif p.face is None:          # a full-size method: one photo at a time, each its own size
            results[i] = _full_size(p, method, candidates, seed, indices[i])
        else:
            cropped.append(i)
    if cropped:
        faces = np.stack([prepared[i].face for i in cropped])
        holes = np.stack([prepared[i].hole for i in cropped])
        answers = method.candidates(faces, holes, candidates, seed, [indices[i] for i in cropped])
        for i, answer in zip(cropped, answers):
            results[i] = paste_back(prepared[i], answer, detail)
    return results


def _full_size(prepared: PreparedPhoto, method: InpaintMethod, candidates: int, seed: int, index: int
               ) -> PhotoResult:
    """A method that works at any size, on the photo, or on the window around the hole that it
    reads (its ``context``), so that its cost is the hole's, not the photo's."""
    image, mask = prepared.image, prepared.mask
    if getattr(method, "context", None) is None:
        return PhotoResult(list(method.candidates(image[None], mask[None], candidates, seed, [index])[0]),
                           None, "full-size")
    h, w = mask.shape
    hb, c = hole_box(mask), method.context
    window = slice(max(hb.y - c, 0), min(hb.y + hb.h + c, h)), slice(max(hb.x - c, 0), min(hb.x + hb.w + c, w))
    hole = mask[window]
    images = []
    for part in method.candidates(image[window][None], hole[None], candidates, seed, [index])[0]:
        out = image.copy()
        out[window] = np.where(hole[..., None], part, image[window])
        images.append(out)
    return PhotoResult(images, None, "full-size")
