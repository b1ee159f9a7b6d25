"""Face-descriptor measures: does a fill look like a face, and like *this* face?

The descriptor is dlib's face-recognition ResNet (128-d, the network behind the
``face_recognition`` package), shipped as a data file in the ``face-recognition-models`` package and
run by ``dlib`` (the prebuilt ``dlib-bin`` wheel); both are core dependencies, since they find
the faces too; without them
:func:`descriptor_unavailable` says why and the evaluator skips these columns.

* ``fd_dlib``: the Fréchet distance between the Gaussians fitted to the descriptors of the results
  and of the originals, over the whole set (as FID does with Inception features).
* ``identity``: the mean Euclidean distance between each result's descriptor and its original's
  (dlib's own same-person threshold is 0.6).
* ``u_ids`` / ``p_ids`` (:func:`ids_scores`): the paired and unpaired Inception Discriminative Scores
  of CoModGAN and MAT, on these descriptors in place of Inception's.  A linear classifier (L2
  logistic regression) learns to tell originals from results and is scored on held-out folds of
  *pairs*, so that no result is judged by a classifier that saw its own original.  U-IDS is its
  error rate (0.5: indistinguishable, 0: every result told apart); P-IDS is how often a result
  scores as more real than its own original (0.5 at best).

Each image is resized to 150x150 as it is (no re-alignment): the benchmark faces are already
crops from forehead to chin, and a detector or landmark step would fail on exactly the bad fills
that the measure must see.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

DESCRIPTOR_SIDE = 150
MODEL_FILE = "dlib_face_recognition_resnet_model_v1.dat"
#: descriptors are computed this many images at a time, so memory stays bounded for any set size
CHUNK = 64

_model = None


def _model_path() -> Path:
    from .data.detect import model_file

    return model_file(MODEL_FILE)


def descriptor_unavailable() -> str | None:
    """None when the descriptor can run; else one line saying why not and how to get it."""
    try:
        import dlib  # noqa: F401

        _model_path()
    except ImportError as exc:
        return (f"face-descriptor columns (fd_dlib, identity, u_ids, p_ids) skipped: {exc}; "
                f"install them with: pip install dlib-bin face-recognition-models")
    return None


def _recogniser():
    global _model
    if _model is None:
        import dlib

        _model = dlib.face_recognition_model_v1(str(_model_path()))
    return _model


def descriptors(images: np.ndarray) -> np.ndarray:
    """uint8 RGB ``(N, H, W, 3)`` -> float64 ``(N, 128)`` dlib face descriptors."""
    import cv2

    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
        raise ValueError(f"descriptors need uint8 (N, H, W, 3) images, got {images.shape} {images.dtype}")
    model = _recogniser()
    out = np.empty((len(images), 128))
    for start in range(0, len(images), CHUNK):
        chips = [np.ascontiguousarray(cv2.resize(img, (DESCRIPTOR_SIDE, DESCRIPTOR_SIDE),
                                                 interpolation=cv2.INTER_AREA if img.shape[0] > DESCRIPTOR_SIDE
                                                 else cv2.INTER_CUBIC))
                 for img in images[start:start + CHUNK]]
        out[start:start + len(chips)] = np.asarray(model.compute_face_descriptor(chips))
    return out


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """The Fréchet distance between Gaussians fitted to the rows of ``a`` and of ``b`` ``(N, D)``."""
    from scipy import linalg

    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = linalg.sqrtm(cov_a @ cov_b)
    if not np.isfinite(root).all():   # a singular product (tiny sets): regularise, as FID code does
        eps = np.eye(len(cov_a)) * 1e-6
        root = linalg.sqrtm((cov_a + eps) @ (cov_b + eps))
    root = root.real
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a + cov_b - 2 * root))


def identity_distance(a: np.ndarray, b: np.ndarray) -> float:
    """The mean Euclidean distance between paired rows of ``a`` and ``b``."""
    return float(np.linalg.norm(a - b, axis=1).mean())


#: the folds of pairs that :func:`ids_scores` holds out in turn
IDS_FOLDS = 5
#: the L2 weight of the logistic regression on standardised features (scikit-learn's C = 1)
IDS_L2 = 1.0


def pair_folds(n: int, folds: int = IDS_FOLDS, seed: int = 0) -> np.ndarray:
    """The fold (0 .. folds-1) of each of ``n`` pairs, drawn from ``seed``, folds as equal as can be.
    A pair's result and original always share its fold."""
    if n < 2:
        raise ValueError(f"U-IDS / P-IDS need at least 2 image pairs, got {n}")
    folds = min(folds, n)
    order = np.random.default_rng(seed).permutation(n)
    fold = np.empty(n, dtype=np.int64)
    fold[order] = np.arange(n) % folds
    return fold


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = IDS_L2) -> tuple[np.ndarray, float]:
    """L2-regularised logistic regression (bias not penalised) by L-BFGS: rows ``x`` ``(N, D)``,
    labels ``y`` in {0, 1}; returns the weights ``(D,)`` and the bias."""
    from scipy.optimize import minimize
    from scipy.special import expit, log_expit

    sign = 2.0 * y - 1.0

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[:-1], theta[-1]
        margin = sign * (x @ w + b)
        value = -log_expit(margin).sum() + 0.5 * l2 * w @ w
        g = -sign * expit(-margin)                       # d loss / d logit, per row
        return value, np.concatenate([x.T @ g + l2 * w, [g.sum()]])

    theta = minimize(loss, np.zeros(x.shape[1] + 1), jac=True, method="L-BFGS-B",
                     options={"maxiter": 1000}).x
    return theta[:-1], float(theta[-1])


def ids_scores(results: np.ndarray, originals: np.ndarray, folds: int = IDS_FOLDS, seed: int = 0) -> dict[str, float]:
    """U-IDS and P-IDS of paired descriptors (row ``i`` of ``results`` is the fill of original ``i``).

    For each fold of pairs a classifier fits the other folds (originals labelled real, results
    fake, features standardised on those rows) and scores the held-out pairs.  ``u_ids``: the
    share of held-out rows it gets wrong (a row exactly on the boundary counts as "fake").
    ``p_ids``: the share of pairs whose result scores above its original (ties count half).
    """
    results, originals = np.asarray(results, np.float64), np.asarray(originals, np.float64)
    if results.shape != originals.shape or results.ndim != 2:
        raise ValueError(f"U-IDS / P-IDS need paired (N, D) descriptors, got {results.shape} and {originals.shape}")
    fold = pair_folds(len(results), folds, seed)
    real_logit, fake_logit = np.empty(len(results)), np.empty(len(results))
    for k in np.unique(fold):
        train = fold != k
        x = np.concatenate([originals[train], results[train]])
        y = np.concatenate([np.ones(train.sum()), np.zeros(train.sum())])
        mean, std = x.mean(0), x.std(0) + 1e-8
        w, b = fit_logistic((x - mean) / std, y)
        real_logit[~train] = (originals[~train] - mean) / std @ w + b
        fake_logit[~train] = (results[~train] - mean) / std @ w + b
    wrong = (real_logit <= 0).sum() + (fake_logit > 0).sum()
    return {"u_ids": float(wrong / (2 * len(results))),
            "p_ids": float(np.mean((fake_logit > real_logit) + 0.5 * (fake_logit == real_logit)))}
