"""Image-quality metrics, defined exactly, on uint8 RGB images; every score in ganfill comes from here.

* ``psnr``: whole-image PSNR with data_range 255 (``skimage.metrics.peak_signal_noise_ratio``).
* ``ssim``: ``skimage.metrics.structural_similarity`` with its default 7x7 window,
  ``channel_axis=-1`` and ``data_range=255``.
* ``hole_psnr``: PSNR over the hole pixels only (all three channels).
* ``hole_l1``: mean absolute error over the hole pixels, in uint8 units (0-255).

Identical images would give an infinite PSNR; it is capped at ``PSNR_CAP`` dB so that averages
stay finite.  Scores are averaged over images (not pooled over pixels).

PSNR and SSIM reward blur, so fills are also judged by measures that see realism:

* ``sharpness``: per image, the mean squared 3x3 Laplacian of the grey result over the hole eroded
  by a 5x5 square, divided by the same of the ground truth; the **median** over images.  1.0 = as
  much fine detail in the hole as the real face; a smooth patch scores near 0.
* ``fd_dlib`` / ``identity`` (:mod:`ganfill.face_descriptors`): the Fréchet distance between the
  dlib face descriptors of the results and of the originals over the set, and the mean descriptor
  distance of each result to its own original.
* ``u_ids`` / ``p_ids`` (:func:`ganfill.face_descriptors.ids_scores`): how often a linear classifier on
  those descriptors, scored on held-out pairs, mistakes results for originals (0.5: it cannot tell
  them apart), and how often a result scores as more real than its own original.
* ``diversity``: the mean pairwise L1 (0-255) between K candidates over the hole pixels.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

PSNR_CAP = 100.0
METRIC_NAMES = ("psnr", "ssim", "hole_psnr", "hole_l1")


def _check(a: np.ndarray, b: np.ndarray) -> None:
    if a.shape != b.shape or a.dtype != np.uint8 or b.dtype != np.uint8:
        raise ValueError(f"metrics need two uint8 images of one shape, got {a.shape} {a.dtype} and {b.shape} {b.dtype}")


def _psnr_from_mse(mse: float) -> float:
    return PSNR_CAP if mse == 0 else min(PSNR_CAP, 10.0 * np.log10(255.0**2 / mse))


def psnr(result: np.ndarray, truth: np.ndarray) -> float:
    _check(result, truth)
    if np.array_equal(result, truth):
        return PSNR_CAP
    return min(PSNR_CAP, float(peak_signal_noise_ratio(truth, result, data_range=255)))


def ssim(result: np.ndarray, truth: np.ndarray) -> float:
    _check(result, truth)
    return float(structural_similarity(truth, result, channel_axis=-1, data_range=255))


def ssim_torch(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """:func:`ssim` on float ``(N, C, H, W)`` images in ``[-1, 1]``, differentiable, per image ``(N,)``.

    As skimage computes it on uint8: a 7x7 uniform window over the valid positions only, the
    sample covariance (divided by 48, not 49), K1 = 0.01, K2 = 0.03, the mean over channels and
    positions.  The luminance term is not shift-invariant, so the images are first mapped to
    ``[0, 1]``, the uint8 range scaled.
    """
    x, y = (x + 1) / 2, (y + 1) / 2
    data_range = 1.0
    win, n = 7, 49
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    mean = lambda t: F.avg_pool2d(t, win, stride=1)  # noqa: E731
    ux, uy = mean(x), mean(y)
    norm = n / (n - 1)
    vx = norm * (mean(x * x) - ux * ux)
    vy = norm * (mean(y * y) - uy * uy)
    vxy = norm * (mean(x * y) - ux * uy)
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))
    return s.flatten(1).mean(1)


def hole_psnr(result: np.ndarray, truth: np.ndarray, mask: np.ndarray) -> float:
    _check(result, truth)
    hole = mask.astype(bool)
    if not hole.any():
        return PSNR_CAP
    diff = result[hole].astype(np.float64) - truth[hole].astype(np.float64)
    return _psnr_from_mse(float(np.mean(diff**2)))


def hole_l1(result: np.ndarray, truth: np.ndarray, mask: np.ndarray) -> float:
    _check(result, truth)
    hole = mask.astype(bool)
    if not hole.any():
        return 0.0
    return float(np.mean(np.abs(result[hole].astype(np.float64) - truth[hole].astype(np.float64))))


#: the hole is eroded by this square before sharpness is measured, so that the seam's own edge
#: (a sharp step in a blurry fill) does not count as detail
SHARPNESS_ERODE = 5


def laplacian_energy(image: np.ndarray, region: np.ndarray) -> float:
    """The mean squared 3x3 Laplacian of the grey ``image`` over the bool ``region`` (0 if empty)."""
    import cv2

    grey = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY).astype(np.float64)
    lap = cv2.Laplacian(grey, cv2.CV_64F, ksize=1)       # ksize=1: the 3x3 kernel [0 1 0; 1 -4 1; 0 1 0]
    return float(np.mean(lap[region] ** 2)) if region.any() else 0.0


def sharpness_ratio(result: np.ndarray, truth: np.ndarray, mask: np.ndarray) -> float | None:
    """Fine detail in the hole, result over truth (see the module docstring); None when the eroded
    hole is empty or the truth has no detail there, so the image does not count."""
    import cv2

    _check(result, truth)
    kernel = np.ones((SHARPNESS_ERODE, SHARPNESS_ERODE), np.uint8)
    inner = cv2.erode(mask.astype(np.uint8), kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0) > 0
    ref = laplacian_energy(truth, inner)
    if not inner.any() or ref == 0:
        return None
    return laplacian_energy(result, inner) / ref


def sharpness(results: np.ndarray, truths: np.ndarray, masks: np.ndarray) -> float:
    """The median :func:`sharpness_ratio` over a set of ``(N, H, W, 3)`` images (nan if none counts)."""
    ratios = [r for r in (sharpness_ratio(a, b, m) for a, b, m in zip(results, truths, masks)) if r is not None]
    return float(np.median(ratios)) if ratios else float("nan")


def diversity(candidates: np.ndarray, masks: np.ndarray) -> float:
    """Mean pairwise L1 (0-255) over the hole pixels between the K candidates of each image,
    averaged over images: uint8 ``(N, K, H, W, 3)``, bool ``(N, H, W)``.  0 for K = 1."""
    n, k = candidates.shape[:2]
    if k < 2:
        return 0.0
    per_image = []
    for cands, hole in zip(candidates, masks.astype(bool)):
        if not hole.any():
            continue
        pixels = cands[:, hole].astype(np.float64)             # (K, P, 3)
        pairs = [np.abs(pixels[i] - pixels[j]).mean() for i in range(k) for j in range(i + 1, k)]
        per_image.append(np.mean(pairs))
    return float(np.mean(per_image)) if per_image else 0.0


def score(result: np.ndarray, truth: np.ndarray, mask: np.ndarray) -> dict[str, float]:
    """All four metrics for one image."""
    return {"psnr": psnr(result, truth), "ssim": ssim(result, truth),
            "hole_psnr": hole_psnr(result, truth, mask), "hole_l1": hole_l1(result, truth, mask)}


def score_batch(results: np.ndarray, truths: np.ndarray, masks: np.ndarray) -> dict[str, float]:
    """Each metric averaged over a batch of ``(N, H, W, 3)`` images."""
    rows = [score(r, t, m) for r, t, m in zip(results, truths, masks)]
    return {k: float(np.mean([row[k] for row in rows])) for k in METRIC_NAMES}
