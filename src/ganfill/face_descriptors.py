"""Face-descriptor measures: does a fill look like a face, and like *this* face?

The descriptor is dlib's face-recognition ResNet (128-d, the network behind the
``face_recognition`` package), shipped as a data file in the ``face-recognition-models`` package and
run by ``dlib`` (the prebuilt ``dlib-bin`` wheel).  Both come with the ``metrics`` extra
(``pip install ganfill[metrics]``, which ``setup.sh`` installs); without them
:func:`descriptor_unavailable` says why and the evaluator skips these columns.

* ``fd_dlib``: the Fréchet distance between the Gaussians fitted to the descriptors of the results
  and of the originals, over the whole set (as FID does with Inception features).
* ``identity``: the mean Euclidean distance between each result's descriptor and its original's
  (dlib's own same-person threshold is 0.6).

Each image is resized to 150x150 as it is (no re-alignment): the benchmark faces are already
crops from forehead to chin, and a detector or landmark step would fail on exactly the bad fills
that the measure must see.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

DESCRIPTOR_SIDE = 150
MODEL_FILE = "dlib_face_recognition_resnet_model_v1.dat"
#: descriptors are computed this many images at a time, so memory stays bounded for any set size
CHUNK = 64

_model = None


def _model_path() -> Path:
    # Located without importing face_recognition_models, whose __init__ needs pkg_resources.
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the face-recognition-models package is not installed")
    path = Path(list(spec.submodule_search_locations)[0]) / "models" / MODEL_FILE
    if not path.is_file():
        raise ImportError(f"{path} is missing; reinstall face-recognition-models")
    return path


def descriptor_unavailable() -> str | None:
    """None when the descriptor can run; else one line saying why not and how to get it."""
    try:
        import dlib  # noqa: F401

        _model_path()
    except ImportError as exc:
        return (f"face-descriptor columns (fd_dlib, identity) skipped: {exc}; "
                f"install them with: pip install 'ganfill[metrics]'")
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
