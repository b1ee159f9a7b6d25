"""Putting the generated face into the hole.  Both modes keep every known pixel exactly as given.

* ``paste``: x = M⊙y + (1−M)⊙G(ẑ) in the thesis's notation (M = 1 on known pixels).
* ``poisson``: Poisson blending as in Yeh et al.: inside the hole, solve for the image whose
  gradients are those of G(ẑ) and whose border values are the known pixels around the hole
  (Pérez et al. 2003).  This removes the colour seam that a paste leaves where G(ẑ)'s brightness
  differs from the photo's.  Holes up to :data:`DIRECT_MAX_PIXELS` (every 64-px face) get a sparse
  direct solve; a photo's large hole is solved at low resolution and exactly near its edge
  (:func:`_poisson_large`), which scales to holes of millions of pixels.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.linalg import splu

BLEND_MODES = ("paste", "poisson")
#: holes up to this many pixels get the exact sparse direct solve (about 0.15 s at this size; the
#: direct solve grows faster than the hole: 1.8 s at 300 x 300, 12.9 s at 600 x 600)
DIRECT_MAX_PIXELS = 16_384
#: the width, in low-resolution cells, of the band along the hole's edge that is solved exactly
BAND_CELLS = 4
#: coarse-grid corrections of the large-hole blend, each a coarse and a band solve reusing their
#: factorisations (scripts/bench_seam.py: one takes the 300 x 300 hole's largest difference from
#: the direct solve from 1.0 to 0.4 levels; more gain little)
CORRECTIONS = 1


def paste(known: np.ndarray, generated: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """float or uint8 ``(H, W, C)`` images, bool ``(H, W)`` mask (True = hole)."""
    return np.where(mask[..., None], generated, known)


def poisson(known: np.ndarray, generated: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Seamless blend of ``generated`` into the hole of ``known``; float ``(H, W, C)`` arrays.

    Neighbours outside the image are ignored (a Neumann border), so holes that touch the edge work.
    """
    mask = mask.astype(bool)
    if mask.any() and not (~mask).any():
        raise ValueError("Poisson blending needs at least one known pixel")
    if int(mask.sum()) > DIRECT_MAX_PIXELS:
        return _poisson_large(known, generated, mask)
    return _poisson_direct(known, generated, mask)


def _poisson_large(known: np.ndarray, generated: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The Poisson blend of a large hole in two solves of a hole's edge length, not its area.

    The blend is ``generated`` plus a correction that is harmonic in the hole and equals
    ``known - generated`` on its edge.  Away from the edge a harmonic function is smooth, so:

    1. the correction is solved on a grid ``f`` times coarser (``f`` chosen so that the coarse hole
       has about :data:`DIRECT_MAX_PIXELS` cells; a coarse cell is known if any of its pixels is,
       with their mean value) and scaled back up (bilinear);
    2. the band of hole pixels within ``BAND_CELLS * f + 2`` pixels of a known pixel is then solved
       exactly at full resolution, the upscaled blend giving its inner edge.

    The seam itself, where a visible error would be, is thus an exact solve; scripts/bench_seam.py
    measures the time and the difference from the direct solve (docs/photos.md).
    """
    import cv2

    h, w = mask.shape
    f = int(np.ceil(np.sqrt(mask.sum() / DIRECT_MAX_PIXELS)))
    hc, wc = -(-h // f), -(-w // f)
    pad = ((0, hc * f - h), (0, wc * f - w))

    def block_sum(array):
        return np.pad(array, (*pad, (0, 0)), mode="edge").reshape(hc, f, wc, f, -1).sum(axis=(1, 3))

    def upscale(array):
        return cv2.resize(array, (wc * f, hc * f), interpolation=cv2.INTER_LINEAR)[:h, :w].reshape(h, w, -1)

    shape = known.shape
    known = known.astype(np.float64).reshape(h, w, -1)
    generated = generated.astype(np.float64).reshape(h, w, -1)
    weight = (~mask).astype(np.float64)[..., None]
    cells = block_sum(weight)[..., 0]
    coarse = _System(cells == 0)
    coarse_known = block_sum((known - generated) * weight) / np.maximum(cells, 1)[..., None]
    correction = upscale(coarse.blend(coarse_known, np.zeros_like(coarse_known)))

    distance = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 3)   # to the nearest known pixel
    band = mask & (distance <= BAND_CELLS * f + 2)
    inner = mask & ~band
    band_system = _System(band)
    fixed = known.copy()
    fixed[inner] = generated[inner] + correction[inner]
    out = band_system.blend(fixed, generated)

    def residual(offset):
        """b - A x on the inner pixels, for x = generated + offset: the sum of the offset's
        differences to its neighbours (neighbours outside the window are none: the Neumann border)."""
        r = np.zeros_like(offset)
        r[1:] += offset[:-1] - offset[1:]
        r[:-1] += offset[1:] - offset[:-1]
        r[:, 1:] += offset[:, :-1] - offset[:, 1:]
        r[:, :-1] += offset[:, 1:] - offset[:, :-1]
        r[~inner] = 0
        return r

    for _ in range(CORRECTIONS):
        # A two-grid correction: the residual of the full-resolution system (zero in the band,
        # solved exactly) is carried to the coarse grid as a block's sum (the coarse operator is
        # f^2 times the fine one), its error solved there and added, and the band solved again.
        offset = out - generated
        offset[inner] += upscale(coarse.solve(block_sum(residual(offset))))[inner]
        fixed[inner] = generated[inner] + offset[inner]
        out = band_system.blend(fixed, generated)
    return out.reshape(shape)


def _poisson_direct(known: np.ndarray, generated: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The exact blend: one sparse direct solve over the hole's pixels."""
    return _System(mask).blend(known, generated)


class _System:
    """The Poisson system of a hole, factorised once so that it can be solved for several
    right-hand sides (:func:`_poisson_large` solves its coarse and band systems more than once)."""

    def __init__(self, mask: np.ndarray):
        h, w = self.shape = mask.shape
        self.holes = holes = np.flatnonzero(mask.ravel())
        if holes.size == 0:
            return
        index = -np.ones(h * w, dtype=np.int64)
        index[holes] = np.arange(holes.size)
        ys, xs = np.divmod(holes, w)
        rows, cols, vals = [], [], []
        diag = np.zeros(holes.size)
        self.neighbours = []     # per direction: hole rows p, their neighbours q, whether q is a hole
        for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1)):
            ny, nx = ys + dy, xs + dx
            inside = (ny >= 0) & (ny < h) & (nx >= 0) & (nx < w)
            p = np.flatnonzero(inside)
            q = ny[inside] * w + nx[inside]
            diag[p] += 1
            q_hole = mask.ravel()[q]
            self.neighbours.append((p, q, q_hole))
            rows.append(p[q_hole])
            cols.append(index[q[q_hole]])
            vals.append(-np.ones(int(q_hole.sum())))
        rows.append(np.arange(holes.size))
        cols.append(np.arange(holes.size))
        vals.append(diag)
        A = csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                       shape=(holes.size, holes.size))
        # A connected hole region with no known neighbour would make A singular; anchor such
        # regions to the generated values by a tiny diagonal term.
        A = A + csr_matrix((np.full(holes.size, 1e-6), (np.arange(holes.size), np.arange(holes.size))),
                           shape=A.shape)
        self.lu = splu(A.tocsc())

    def blend(self, known: np.ndarray, generated: np.ndarray) -> np.ndarray:
        """``known`` outside the hole, and inside it the values whose gradients are ``generated``'s."""
        h, w = self.shape
        known_f = known.reshape(h * w, -1).astype(np.float64)
        if self.holes.size == 0:
            return known_f.reshape(known.shape).copy()
        gen_f = generated.reshape(h * w, -1).astype(np.float64)
        rhs = np.zeros((self.holes.size, known_f.shape[1]))
        for p, q, q_hole in self.neighbours:
            # guidance: the generated image's gradient towards each neighbour
            rhs[p] += gen_f[self.holes[p]] - gen_f[q]
            # a known neighbour is a fixed boundary value
            np.add.at(rhs, p[~q_hole], known_f[q[~q_hole]])
        rhs += 1e-6 * gen_f[self.holes]
        out = known_f.copy()
        out[self.holes] = self.lu.solve(rhs)
        return out.reshape(known.shape)

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        """``(H, W, C)`` -> the ``(H, W, C)`` solution of A x = rhs on the hole (0 elsewhere)."""
        h, w = self.shape
        flat = rhs.reshape(h * w, -1)
        out = np.zeros_like(flat, dtype=np.float64)
        if self.holes.size:
            out[self.holes] = self.lu.solve(np.ascontiguousarray(flat[self.holes], dtype=np.float64))
        return out.reshape(rhs.shape)


def blend(known: np.ndarray, generated: np.ndarray, mask: np.ndarray, mode: str = "poisson") -> np.ndarray:
    """uint8 ``(H, W, 3)`` known image and generated image, bool mask -> uint8 blended image."""
    if mode == "paste":
        out = paste(known, generated, mask)
    elif mode == "poisson":
        out = poisson(known, generated, mask)
    else:
        raise ValueError(f"unknown blend mode {mode!r}; choose from {', '.join(BLEND_MODES)}")
    out = np.clip(np.round(out), 0, 255).astype(np.uint8)
    return np.where(mask[..., None], out, known)
