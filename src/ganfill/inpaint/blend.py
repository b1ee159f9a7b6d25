"""Putting the generated face into the hole.  Both modes keep every known pixel exactly as given.

* ``paste``: x = M⊙y + (1−M)⊙G(ẑ) in the thesis's notation (M = 1 on known pixels).
* ``poisson``: Poisson blending as in Yeh et al.: inside the hole, solve for the image whose
  gradients are those of G(ẑ) and whose border values are the known pixels around the hole
  (Pérez et al. 2003), with a sparse direct solver.  This removes the colour seam that a paste
  leaves where G(ẑ)'s brightness differs from the photo's.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.linalg import splu

BLEND_MODES = ("paste", "poisson")


def paste(known: np.ndarray, generated: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """float or uint8 ``(H, W, C)`` images, bool ``(H, W)`` mask (True = hole)."""
    return np.where(mask[..., None], generated, known)


def poisson(known: np.ndarray, generated: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Seamless blend of ``generated`` into the hole of ``known``; float ``(H, W, C)`` arrays.

    Neighbours outside the image are ignored (a Neumann border), so holes that touch the edge work.
    """
    mask = mask.astype(bool)
    h, w = mask.shape
    holes = np.flatnonzero(mask.ravel())
    if holes.size == 0:
        return known.astype(np.float64).copy()
    index = -np.ones(h * w, dtype=np.int64)
    index[holes] = np.arange(holes.size)
    ys, xs = np.divmod(holes, w)
    known_f = known.reshape(h * w, -1).astype(np.float64)
    gen_f = generated.reshape(h * w, -1).astype(np.float64)

    rows, cols, vals = [], [], []
    diag = np.zeros(holes.size)
    rhs = np.zeros((holes.size, known_f.shape[1]))
    for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1)):
        ny, nx = ys + dy, xs + dx
        inside = (ny >= 0) & (ny < h) & (nx >= 0) & (nx < w)
        p = np.flatnonzero(inside)
        q = ny[inside] * w + nx[inside]
        diag[p] += 1
        # guidance: the generated image's gradient towards each neighbour
        rhs[p] += gen_f[holes[p]] - gen_f[q]
        q_hole = mask.ravel()[q]
        rows.append(p[q_hole])
        cols.append(index[q[q_hole]])
        vals.append(-np.ones(int(q_hole.sum())))
        # a known neighbour is a fixed boundary value
        np.add.at(rhs, p[~q_hole], known_f[q[~q_hole]])
    rows.append(np.arange(holes.size))
    cols.append(np.arange(holes.size))
    vals.append(diag)
    A = csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                   shape=(holes.size, holes.size))
    if not (~mask).any():
        raise ValueError("Poisson blending needs at least one known pixel")
    # A connected hole region with no known neighbour would make A singular; anchor such
    # regions to the generated values by a tiny diagonal term.
    A = A + csr_matrix((np.full(holes.size, 1e-6), (np.arange(holes.size), np.arange(holes.size))),
                       shape=A.shape)
    rhs += 1e-6 * gen_f[holes]
    solution = splu(A.tocsc()).solve(rhs)
    out = known_f.copy()
    out[holes] = solution
    return out.reshape(known.shape)


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
