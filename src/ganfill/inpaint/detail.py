"""Detail above the model's size: contextual residual aggregation (Yi et al., CVPR 2020).

A learned method fills an ``S x S`` crop (64 or 128 px); a face crop of ``B`` photo pixels gets that fill
scaled up ``s = B / S`` times, a soft patch.  The photo itself holds the missing octaves around the
hole: the *residual* ``crop - upsample(downsample(crop))`` of its known pixels.  Yi et al. copy that
residual into the hole, each hole position taking the attention-weighted mix of the known
residual blocks whose low-resolution surroundings look like its own, the attention being computed
on the low-resolution fill.  Here:

* the residual is ``crop - bicubic_up(fill)``: at known model pixels the fill *is* the crop's area
  downsample, so this is Yi et al.'s residual, computed with the very upscale that the photo path
  uses for the fill; only known positions whose whole bicubic support is known are sources;
* attention: the cosine similarity of ``patch x patch`` neighbourhoods of the fill on a grid of
  ``cell`` model pixels (each patch centred on its mean, so that texture and edges are matched
  rather than brightness, with its mean colour appended), the ``top_k`` best sources per hole
  position, softmax with ``temperature``;
* each grid position stands for a block of ``cell * s`` photo pixels; a hole pixel reads its
  sources' residual at the same place inside their blocks.  The four nearest grid positions are
  blended with bilinear weights, so no block edge shows (a block edge would itself be false
  detail), and each block's mix is scaled back to its sources' energy (``keep_energy``).

No noise is made up: every value added comes from the photo's own known pixels, and a flat known
region adds nothing.  Numpy and OpenCV only; no I/O.
"""

from __future__ import annotations

import numpy as np

#: defaults chosen on the validation split (docs/results.md, "Detail above the model's size")
PATCH = 3
TOP_K = 4
TEMPERATURE = 0.05
COLOUR_WEIGHT = 1.0
KEEP_ENERGY = True
CELL = 2
#: the residual's scale: detail that is not the true face's adds its energy to the error, so less
#: of it trades sharpness for PSNR and SSIM
STRENGTH = 1.0
#: below this upscale factor the bicubic fill already has the photo's detail
MIN_SCALE = 1.5


def _patches(image: np.ndarray, patch: int, colour_weight: float) -> np.ndarray:
    """``(S, S, F)`` features: each ``patch x patch`` neighbourhood (edge pixels repeated) minus its
    mean, then unit length, with the mean colour appended (weighted), all unit length again."""
    import cv2

    r = patch // 2
    padded = cv2.copyMakeBorder(image, r, r, r, r, cv2.BORDER_REPLICATE)
    h, w = image.shape[:2]
    stack = np.concatenate([padded[dy:dy + h, dx:dx + w] for dy in range(patch) for dx in range(patch)], axis=-1)
    stack = stack.reshape(h, w, patch * patch, -1)
    mean = stack.mean(axis=2, keepdims=True)
    texture = (stack - mean).reshape(h, w, -1)
    texture /= np.linalg.norm(texture, axis=-1, keepdims=True) + 1e-6
    features = np.concatenate([texture, colour_weight * mean.reshape(h, w, -1)], axis=-1)
    return features / (np.linalg.norm(features, axis=-1, keepdims=True) + 1e-6)


def _erode(known: np.ndarray, radius: int) -> np.ndarray:
    import cv2

    kernel = np.ones((2 * radius + 1, 2 * radius + 1), np.uint8)
    return cv2.erode(known.astype(np.uint8), kernel, borderType=cv2.BORDER_CONSTANT, borderValue=1) > 0


def detail_residual(crop: np.ndarray, hole: np.ndarray, fill_small: np.ndarray, hole_small: np.ndarray,
                    patch: int = PATCH, top_k: int = TOP_K, temperature: float = TEMPERATURE,
                    colour_weight: float = COLOUR_WEIGHT, keep_energy: bool = KEEP_ENERGY, cell: int = CELL,
                    strength: float = STRENGTH) -> np.ndarray:
    """The photo's own fine detail for the hole of a crop.

    Args:
        crop: uint8 ``(B, B, 3)``, the photo's crop at full size (its hole pixels are never read).
        hole: bool ``(B, B)``, True = hole, at full size.
        fill_small: uint8 ``(S, S, 3)``, the method's answer for the crop at the model's size.
        hole_small: bool ``(S, S)``, the hole at that size (every model pixel with a hole pixel under it).
        cell: the attention grid's step, in model pixels: each grid position stands for a block of
            ``cell * B / S`` photo pixels.  Blocks larger than a model pixel copy longer stretches of
            texture, so a source taken by many hole positions does not tile into a visible grid.
        keep_energy: scale the mix in each model pixel's block up to the weighted mean energy of
            its sources: a mix of unlike sources would otherwise average their detail away (a mix
            of like ones keeps it, and is left as it is).
        strength: the factor on the residual added (1: the sources' own amplitude).

    Returns:
        float32 ``(B, B, 3)``: the residual to add to the bicubic upscale of ``fill_small`` in the
        hole, 0 outside it, and 0 everywhere when ``B / S`` < :data:`MIN_SCALE` or no known
        position has a fully known neighbourhood.
    """
    import cv2

    side, model = crop.shape[0], fill_small.shape[0]
    out = np.zeros(crop.shape, np.float32)
    if side / model < MIN_SCALE or not hole.any():
        return out
    up = cv2.resize(fill_small, (side, side), interpolation=cv2.INTER_CUBIC).astype(np.float32)
    residual = crop.astype(np.float32) - up
    cell = cell if model % cell == 0 else 1
    small = model // cell                 # the attention grid's side
    scale = side / small
    # A source's bicubic support (2 model pixels each way) must be known, or its residual would
    # hold the fill's error; the bilinear blend also reads up to half a cell past a source's block,
    # which must not reach the hole (1 pixel more for the rounding of a non-integer block).
    known = _erode(~hole_small, max(2, cell // 2) + (0 if float(side / model).is_integer() else 1))
    grid = (lambda a: cv2.resize(a, (small, small), interpolation=cv2.INTER_AREA)) if cell > 1 else (lambda a: a)
    sources = grid(known.astype(np.float32)) > 0.999
    hole_grid = grid(hole_small.astype(np.float32)) > 0
    # Targets: the hole and its ring, since a hole pixel blends its four nearest grid positions.
    targets = ~_erode(~hole_grid, 1)
    if not sources.any():
        return out
    features = _patches(grid(fill_small.astype(np.float32)) / 255.0, patch, colour_weight)
    src_yx = np.argwhere(sources)
    tgt_yx = np.argwhere(targets)
    similarity = features[targets] @ features[sources].T                 # (T, Q) cosines
    k = min(top_k, len(src_yx))
    best = np.argpartition(-similarity, k - 1, axis=1)[:, :k]              # (T, k) source rows
    logits = np.take_along_axis(similarity, best, axis=1) / temperature
    weights = np.exp(logits - logits.max(axis=1, keepdims=True))
    weights /= weights.sum(axis=1, keepdims=True)
    row = np.full((small, small), -1, np.int64)
    row[targets] = np.arange(len(tgt_yx))
    py, px = np.nonzero(hole)
    # Each photo pixel between its four nearest grid-position centres, bilinear weights.
    uy, ux = (py + 0.5) / scale - 0.5, (px + 0.5) / scale - 0.5
    y0, x0 = np.floor(uy).astype(np.int64), np.floor(ux).astype(np.int64)
    fy, fx = (uy - y0).astype(np.float32), (ux - x0).astype(np.float32)
    # A source's residual is read at the hole pixel's place inside the source's block: one offset
    # per (target, source), whatever the pixel.
    off_y = np.round((src_yx[best, 0] - tgt_yx[:, :1]) * scale).astype(np.int64)        # (T, k)
    off_x = np.round((src_yx[best, 1] - tgt_yx[:, 1:]) * scale).astype(np.int64)
    flat = residual.reshape(-1, 3)
    acc = np.zeros((len(py), 3), np.float32)
    for dy, wy in ((0, 1 - fy), (1, fy)):
        ty = np.clip(y0 + dy, 0, small - 1)
        for dx, wx in ((0, 1 - fx), (1, fx)):
            # a hole pixel's four nearest grid positions are within one of its own: all are targets
            t = row[ty, np.clip(x0 + dx, 0, small - 1)]
            sy = np.clip(py[:, None] + off_y[t], 0, side - 1)
            sx = np.clip(px[:, None] + off_x[t], 0, side - 1)
            mix = (wy * wx)[:, None] * weights[t]                                        # (N, k)
            acc += np.einsum("nk,nkc->nc", mix, flat[sy * side + sx])
    if keep_energy:
        # per block: the energy its sources hold, over the energy the mix kept
        energy = cv2.resize((residual ** 2).sum(axis=2), (small, small), interpolation=cv2.INTER_AREA)
        wanted = (weights * energy[src_yx[best, 0], src_yx[best, 1]]).sum(axis=1)      # (T,)
        block = row[np.minimum(((py + 0.5) / scale).astype(np.int64), small - 1),
                    np.minimum(((px + 0.5) / scale).astype(np.int64), small - 1)]
        kept = np.bincount(block, (acc ** 2).sum(axis=1), len(tgt_yx)) / np.maximum(
            np.bincount(block, minlength=len(tgt_yx)), 1)
        gain = np.sqrt(np.maximum(wanted, 1e-12) / np.maximum(kept, 1e-12))
        acc *= np.clip(gain, 1.0, np.sqrt(4.0 * k))[block][:, None].astype(np.float32)
    out[py, px] = strength * acc
    return out


def add_detail(crop: np.ndarray, hole: np.ndarray, fill_small: np.ndarray, hole_small: np.ndarray | None = None,
               **options) -> np.ndarray:
    """The crop with its hole filled by ``fill_small`` scaled up (bicubic) plus the photo's own
    detail (:func:`detail_residual`, whose ``options`` these are): float ``(B, B, 3)``, the known
    pixels exactly ``crop``'s.  ``hole_small`` defaults to the model pixels with a hole pixel under them."""
    import cv2

    side, small = crop.shape[0], fill_small.shape[0]
    if hole_small is None:
        hole_small = cv2.resize(hole.astype(np.uint8), (small, small), interpolation=cv2.INTER_AREA) > 0
    up = cv2.resize(fill_small, (side, side), interpolation=cv2.INTER_CUBIC).astype(np.float64)
    filled = up + detail_residual(crop, hole, fill_small, hole_small, **options)
    return np.where(hole[..., None], filled, crop.astype(np.float64))
