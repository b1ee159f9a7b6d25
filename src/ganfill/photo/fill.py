"""Step 2: the method, on the crops of every photo of a batch at once (or on the photo itself for
a method that works at any size)."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..data.faces import hole_box
from ..inpaint.base import InpaintMethod
from .crop import PreparedPhoto
from .paste import PhotoResult, paste_back, paste_into


def fill(prepared: Sequence[PreparedPhoto], method: InpaintMethod, candidates: int, seed: int,
         indices: Sequence[int], detail: bool) -> list[PhotoResult]:
    """K results per prepared photo: the crops of all of them (one per face for a routed photo) go
    through ``method`` in one call, then back into their photos (step 3, ``detail``: the photo's
    own fine detail above the model's size); a routed photo's parts on no face are then filled by
    ``method.general``.  Photo ``i`` is seeded from ``(seed, indices[i])``, so its result does not
    depend on the other photos of the batch."""
    results: list[PhotoResult | None] = [None] * len(prepared)
    crops: list[tuple[int, PreparedPhoto]] = []
    for i, p in enumerate(prepared):
        if p.source == "no hole":
            results[i] = PhotoResult([p.image.copy() for _ in range(candidates)], None, "no hole")
        elif p.rest is not None:
            crops += [(i, part) for part in p.parts]
        elif p.face is None:          # a full-size method: one photo at a time, each its own size
            results[i] = PhotoResult(_full_size(p.image, p.mask, method, candidates, seed, indices[i]), None,
                                     "full-size", warnings=p.warnings)
        else:
            crops.append((i, p))
    answers = method.candidates(np.stack([p.face for _, p in crops]), np.stack([p.hole for _, p in crops]),
                                candidates, seed, [indices[i] for i, _ in crops]) if crops else []
    filled: dict[int, list] = {}
    for (i, part), answer in zip(crops, answers):
        filled.setdefault(i, []).append((part, answer))
    for i, p in enumerate(prepared):
        if results[i] is None and p.rest is None:
            results[i] = paste_back(p, filled[i][0][1], detail)
        elif results[i] is None:
            results[i] = _routed(p, filled.get(i, []), method, candidates, seed, indices[i], detail)
    return results


def _routed(prepared: PreparedPhoto, faces: list, method: InpaintMethod, candidates: int, seed: int, index: int,
            detail: bool) -> PhotoResult:
    """A routed photo: each face's answer pasted into its part of the hole, then the parts on no
    face filled by the general method, which reads the faces as filled."""
    images = []
    for k in range(candidates):
        out = prepared.image
        for part, answer in faces:
            out = paste_into(out, prepared.mask, part, answer[k], detail)
        if prepared.rest.any():
            out = _full_size(out, prepared.rest, method.general, 1, seed, index)[0]
        images.append(out if out is not prepared.image else out.copy())
    return PhotoResult(images, prepared.box, prepared.source, faces=len(faces), warnings=prepared.warnings,
                       general=getattr(method.general, "name", "general") if prepared.rest.any() else None)


def _full_size(image: np.ndarray, mask: np.ndarray, method: InpaintMethod, candidates: int, seed: int, index: int
               ) -> list[np.ndarray]:
    """A method that works at any size, on the photo, or on the window around the hole that it
    reads (its ``context``), so that its cost is the hole's, not the photo's."""
    if getattr(method, "context", None) is None:
        return list(method.candidates(image[None], mask[None], candidates, seed, [index])[0])
    h, w = mask.shape
    hb, c = hole_box(mask), method.context
    window = slice(max(hb.y - c, 0), min(hb.y + hb.h + c, h)), slice(max(hb.x - c, 0), min(hb.x + hb.w + c, w))
    hole = mask[window]
    images = []
    for part in method.candidates(image[window][None], hole[None], candidates, seed, [index])[0]:
        out = image.copy()
        out[window] = np.where(hole[..., None], part, image[window])
        images.append(out)
    return images
