"""What every interface accepts: the photo, the mask and the options of a fill, checked where they
arrive, so that the code below them trusts what it is given.

The CLI, the REST API and ``ganfill.Pipeline`` all call these, so a number means the same and is
refused with the same one-line message wherever it comes from (quoting at most a short prefix of
the value).
"""

from __future__ import annotations

import numbers
import os
import warnings

import numpy as np

from .data.faces import Box, quote

#: the most results one call may ask for (each is a full-size image held in memory)
MAX_CANDIDATES = 8
#: seeds are 0 .. 2**63 - 1 (the range a torch generator and numpy's SeedSequence both take)
MAX_SEED = 2**63 - 1

def _whole_number(value, name: str) -> int:
    """``value`` as an int if it is a whole number (not a bool, not a float, not a string)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a whole number, got {type(value).__name__} {quote(value)}")
    return int(value)


def check_candidates(value) -> int:
    """The number of results per photo: a whole number from 1 to :data:`MAX_CANDIDATES`."""
    k = _whole_number(value, "candidates")
    if not 1 <= k <= MAX_CANDIDATES:
        raise ValueError(f"candidates must be 1 to {MAX_CANDIDATES}, got {quote(k)}")
    return k


def check_seed(value) -> int:
    """A seed: a whole number from 0 to :data:`MAX_SEED`."""
    seed = _whole_number(value, "seed")
    if not 0 <= seed <= MAX_SEED:
        raise ValueError(f"seed must be 0 to 2**63 - 1, got {quote(seed)}")
    return seed


def as_box(value) -> Box | None:
    """The face's box from ``"x,y,w,h"``, a :class:`Box` or a sequence of four whole numbers
    (None: detect the face); coordinates bounded by :data:`~ganfill.data.faces.MAX_BOX_SIDE`."""
    if value is None or isinstance(value, Box):
        return value
    if isinstance(value, str):
        return Box.parse(value)
    if isinstance(value, (tuple, list)) and len(value) == 4:
        return Box(*(_whole_number(v, "box") for v in value))
    raise TypeError(f"box must be 'x,y,w,h', a Box or four whole numbers, got {type(value).__name__} {quote(value)}")


# ---------------------------------------------------------------- the photo and the mask

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

    * a file path (``str`` or ``os.PathLike``): read as ``ganfill inpaint`` reads it (EXIF
      orientation honoured, colour profile converted to sRGB, alpha composited on white);
    * uint8 ``(H, W, 3)``: as is (0-255);
    * uint16 (16-bit, 0-65535): scaled to 0-255 (``round(v / 257)``);
    * float: must lie in ``[0, 1]``, scaled to 0-255 (``round(v * 255)``); other floats are refused,
      since 0-255 floats and 0-1 floats cannot be told apart for sure;
    * other integer types: must lie in 0-255;
    * greyscale ``(H, W)`` or ``(H, W, 1)``: repeated into three channels;
    * a PIL image: converted to RGB.

    Anything else is a ValueError (TypeError for a non-array) saying what was wrong.
    """
    if isinstance(image, (str, os.PathLike)):
        from .data import load_image

        return load_image(image)
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
    """The hole as a bool ``(H, W)`` array, by the one rule of
    :data:`~ganfill.data.images.MASK_RULE`: True / nonzero = hole; a file path or a PIL mask: white
    (above 127).  A mask of another size is resized to ``shape`` (nearest neighbour) with a
    warning, as ``ganfill inpaint`` does; so is a file with paint too faint to count."""
    from .data.images import HOLE_LEVEL

    if isinstance(mask, (str, os.PathLike)):
        from .data import load_mask

        notes: list[str] = []
        mask = load_mask(mask, notes=notes)
        for note in notes:
            warnings.warn(note, stacklevel=3)
    array = _as_array(mask, "mask", lambda pil: np.asarray(pil.convert("L")) > HOLE_LEVEL, "buif",
                      "a bool or numeric array (True / nonzero = hole)")
    if array.ndim != 2:
        raise ValueError(f"need an (H, W) mask, got shape {array.shape}")
    array = array if array.dtype == np.bool_ else array != 0    # no copy of a photo-sized bool mask
    if array.shape != tuple(shape):
        from .data import resize_mask

        warnings.warn(f"the mask is {array.shape[1]}x{array.shape[0]}, the image {shape[1]}x{shape[0]}; "
                      f"resizing the mask (nearest neighbour)", stacklevel=3)
        array = resize_mask(array, shape)
    return array
