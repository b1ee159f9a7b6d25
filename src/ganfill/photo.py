"""Inpainting real photos of any size with any method of the registry.

The learned methods work on face crops of a fixed side (``fixed_size``: 128 px for the default
``lsgan+ae-wild``, 64 px for the thesis's methods), so for them a photo goes through three steps, each
its own function so that one photo (:func:`inpaint_photo`) and a batch (:func:`inpaint_photos`,
behind :class:`ganfill.Pipeline`) run the same code:

1. :func:`prepare_photo`: the crop: the square around the detected face (``crop="face"``), around
   the hole (``crop="hole"``), or a given ``box``; widened if needed so that it holds the whole
   hole; resized to the method's side (area averaging; a pixel there is hole if any of its photo
   pixels is);
2. the method, on the crops of every photo of a batch at once, K candidates each;
3. :func:`paste_back`: each candidate scaled back up (bicubic, over the hole's window only), with
   the photo's own fine detail added where the method's ``adds_detail`` (or ``detail``) says so
   (:mod:`ganfill.inpaint.detail`), and Poisson-blended into the hole of the full-size photo, so
   the seam follows the photo's colours.

Classical methods (``telea``, ...) work at any size and run on the whole photo directly.  In
every case only hole pixels change: outside the mask the result is the input, byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .data import MODEL_SIZE
from .data.faces import Box, around_hole_box, check_box, crop_resized, face_crop_box, hole_box
from .inpaint.blend import paste, poisson
from .methods import DEFAULT_METHOD, InpaintMethod, get_method

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
    source: str                     # how the crop was chosen: "face", "hole", "box", "whole", "full-size"
                                    # or "no hole" (the mask is empty: the images are the input)


# ---------------------------------------------------------------- what the API accepts

def as_method(method) -> InpaintMethod:
    """A registry name or an :class:`~ganfill.methods.InpaintMethod` -> the method; a clear error
    for anything else (``None`` included)."""
    if isinstance(method, InpaintMethod) or callable(getattr(method, "candidates", None)):
        return method       # a method, or an object that behaves as one (a stand-in in a test)
    if isinstance(method, str):
        return get_method(method)
    raise TypeError(f"method must be a registry name (see `ganfill methods`) or an InpaintMethod, "
                    f"got {type(method).__name__}")


def _as_array(value, what: str, from_pil, kinds: str, wanted: str) -> np.ndarray:
    """``value`` (an array-like, or a PIL image converted by ``from_pil``) as a numpy array of one of
    the dtype ``kinds``, an ``(H, W, 1)`` array squeezed to ``(H, W)``; a TypeError names ``what``."""
    if hasattr(value, "convert") and hasattr(value, "mode"):        # a PIL image
        value = from_pil(value)
    try:
        array = np.asarray(value)
    except Exception:
        raise TypeError(f"{what} must be a numpy array or a PIL image, got {type(value).__name__}") from None
    if array.dtype == object or array.dtype.kind not in kinds:
        raise TypeError(f"{what} must be {wanted}, got dtype {array.dtype}")
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    return array


def as_image(image) -> np.ndarray:
    """The photo as uint8 RGB ``(H, W, 3)``.  Accepted, and converted as documented here:

    * uint8 ``(H, W, 3)``: as is (0-255);
    * uint16 (16-bit, 0-65535): scaled to 0-255 (``round(v / 257)``);
    * float: must lie in ``[0, 1]``, scaled to 0-255 (``round(v * 255)``); other floats are refused,
      since 0-255 floats and 0-1 floats cannot be told apart for sure;
    * other integer types: must lie in 0-255;
    * greyscale ``(H, W)`` or ``(H, W, 1)``: repeated into three channels;
    * a PIL image: converted to RGB.

    Anything else is a ValueError (TypeError for a non-array) saying what was wrong.
    """
    array = _as_array(image, "image", lambda pil: np.asarray(pil.convert("RGB")), "uif",
                      "a numeric array (uint8 0-255)")
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] != 3:
        raise ValueError(f"image must be RGB (H, W, 3) or greyscale (H, W), got shape {array.shape}"
                         + ("; drop the alpha channel (image[..., :3])" if array.ndim == 3 and array.shape[2] == 4
                            else ""))
    if array.size == 0:
        raise ValueError(f"image is empty, shape {array.shape}")
    if array.dtype == np.uint8:
        return np.ascontiguousarray(array)
    if array.dtype == np.uint16:
        return ((array.astype(np.uint32) + 128) // 257).astype(np.uint8)
    if array.dtype.kind == "f":
        lo, hi = float(np.min(array)), float(np.max(array))
        if not (np.isfinite(lo) and np.isfinite(hi) and lo >= 0 and hi <= 1):
            raise ValueError(f"a float image must hold values in [0, 1], got {lo:g} to {hi:g}; "
                             f"for 0-255 values pass a uint8 array")
        return np.round(array * 255).astype(np.uint8)
    lo, hi = int(np.min(array)), int(np.max(array))
    if lo < 0 or hi > 255:
        raise ValueError(f"an integer image must hold values in 0-255 (uint8), got {lo} to {hi} as {array.dtype}; "
                         f"16-bit images are taken as uint16")
    return array.astype(np.uint8)


def as_mask(mask, shape: tuple[int, int]) -> np.ndarray:
    """The hole as a bool ``(H, W)`` array: True / nonzero = hole (a PIL mask: white, above 127)."""
    array = _as_array(mask, "mask", lambda pil: np.asarray(pil.convert("L")) > 127, "buif",
                      "a bool or numeric array (True / nonzero = hole)")
    if array.shape != tuple(shape):
        raise ValueError(f"need an (H, W) mask of the image's size {tuple(shape)}, got {array.shape}")
    return array if array.dtype == np.bool_ else array != 0    # no copy of a photo-sized bool mask


# ---------------------------------------------------------------- 1. the crop

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


def prepare_photo(image, mask, method: InpaintMethod, box: Box | None = None, crop: str = "face"
                  ) -> PreparedPhoto:
    """Check a photo and its hole, and cut the model's crop (for a fixed-size ``method``).

    ``image`` and ``mask`` are anything :func:`as_image` and :func:`as_mask` accept.  Raises
    ValueError (:class:`NoFaceError` when no face is found) with a one-line message.
    """
    import cv2

    image = as_image(image)
    mask = as_mask(mask, image.shape[:2])
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


# ---------------------------------------------------------------- 3. back into the photo

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
    from .data.faces import MAX_CROP_PIXELS, crop_square
    from .inpaint.detail import detail_residual

    ys, xs = window
    if box.w * box.h > MAX_CROP_PIXELS:
        return np.zeros((ys.stop - ys.start, xs.stop - xs.start, 3))
    crop = crop_square(image, box)
    hole = crop_square(mask.view(np.uint8), box) > 0
    residual = detail_residual(crop, hole, result, hole_small, **options)
    return residual[ys.start - box.y:ys.stop - box.y, xs.start - box.x:xs.stop - box.x]


def _paste_back(image: np.ndarray, mask: np.ndarray, result: np.ndarray, box: Box,
                hole_small: np.ndarray | None = None, detail: dict | None = None) -> np.ndarray:
    """Blend the model's answer ``result`` for the crop ``box`` into the hole of ``image``.

    The upscale and the Poisson system cover a window around the hole only, so their size is the
    hole's, not the photo's or the crop's.  The crop always holds the whole hole (:func:`choose_crop`).
    ``detail`` (options of :func:`~ganfill.inpaint.detail.detail_residual`, None = off) adds the
    photo's own fine detail to the upscale where the crop is larger than ``result``.
    """
    window = _window(mask, box)
    known = image[window].astype(np.float64)
    generated = _upscaled(result, box, window)
    if detail is not None and hole_small is not None and box.w > result.shape[0]:
        generated += _detail(image, mask, result, box, hole_small, window, detail)
    hole = mask[window]
    blended = poisson(known, generated, hole) if hole.sum() <= POISSON_MAX_PIXELS else paste(known, generated, hole)
    out = image.copy()
    out[window] = np.where(hole[..., None], np.clip(np.round(blended), 0, 255).astype(np.uint8), image[window])
    return out


def method_adds_detail(method: InpaintMethod, detail: bool | None) -> bool:
    """Whether ``method``'s fills get the photo's own detail: ``detail``, or the method's default."""
    return bool(getattr(method, "adds_detail", False)) if detail is None else bool(detail)


def paste_back(prepared: PreparedPhoto, results: np.ndarray, detail: bool) -> PhotoResult:
    """Step 3: the K model answers ``results`` uint8 ``(K, S, S, 3)`` for ``prepared`` -> full-size
    photos; ``detail``: add the photo's own fine detail above the model's size."""
    options = {} if detail else None
    return PhotoResult([_paste_back(prepared.image, prepared.mask, r, prepared.box, prepared.hole, options)
                        for r in results], prepared.box, prepared.source)


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


# ---------------------------------------------------------------- the three steps together

def inpaint_photos(prepared: Sequence[PreparedPhoto], method: InpaintMethod, candidates: int = 1, seed: int = 0,
                   indices: Sequence[int] | None = None, detail: bool | None = None) -> list[PhotoResult]:
    """Steps 2 and 3 for prepared photos: the crops of all of them go through ``method`` in one call.

    Photo ``i`` is seeded from ``(seed, indices[i])`` (default: its place in ``prepared``), so its
    result does not depend on the other photos of the batch.  ``detail``: add the photo's own fine
    detail above the model's size (None: as the method's ``adds_detail`` says).
    """
    if candidates < 1:
        raise ValueError("candidates must be at least 1")
    indices = list(range(len(prepared))) if indices is None else [int(i) for i in indices]
    if len(indices) != len(prepared):
        raise ValueError(f"{len(indices)} indices for {len(prepared)} photos")
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
        detail = method_adds_detail(method, detail)
        for i, answer in zip(cropped, answers):
            results[i] = paste_back(prepared[i], answer, detail)
    return results


def inpaint_photo(image: np.ndarray, mask: np.ndarray, method: InpaintMethod | str = DEFAULT_METHOD,
                  candidates: int = 1, box: Box | None = None, crop: str = "face", seed: int = 0,
                  index: int = 0, detail: bool | None = None) -> PhotoResult:
    """Fill the hole of a photo of any size (one photo; :class:`ganfill.Pipeline` for many, and for
    a method loaded once).

    Args:
        image: uint8 RGB ``(H, W, 3)``, values 0-255 (other dtypes as :func:`as_image` documents).
        mask: ``(H, W)``, True / nonzero = hole to fill.
        method: a registry name or an :class:`~ganfill.methods.InpaintMethod`.
        candidates: K results, best first (K > 1 needs an lsgan method).
        box: the face's box ``Box(x, y, w, h)``, overriding the detector; it must overlap the photo.
        crop: ``"face"`` (detect the face) or ``"hole"`` (a square around the hole).
        seed, index: the photo's randomness comes from ``(seed, index)`` (``index``: its place in a
            folder or benchmark), so the result does not depend on what else is being filled.
        detail: when the face crop is larger than the model's size, add the photo's own fine detail
            to the scaled-up fill (contextual residual aggregation, :mod:`ganfill.inpaint.detail`);
            None: the method's default (``adds_detail``: on for ``lsgan+ae-wild``).

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
    method = as_method(method)
    return inpaint_photos([prepare_photo(image, mask, method, box, crop)], method, candidates, seed, [index],
                          detail)[0]
