"""The one evaluator: every method is scored the same way, on masks generated once from a seed."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .data import IMAGE_MASK_KINDS, FaceFolder, make_masks, off_face_masks, save_image_atomic
from .data.files import write_json_atomic  # noqa: F401  (the evaluator's report writer)
from .methods import get_method, method_info, method_options
from .inputs import check_candidates
from .pipeline import Pipeline
from .metrics import diversity, score_batch, sharpness
from .viz import image_grid


@dataclass
class MethodResult:
    name: str
    scores: dict[str, float]
    sec_per_image: float
    n_images: int
    outputs: np.ndarray = field(repr=False)      # uint8 (N, H, W, 3): candidate 1 of each image
    detail: bool = False                         # the photo's own detail was added above the model's size


def masked_input(images: np.ndarray, masks: np.ndarray, fill: int = 255) -> np.ndarray:
    """The image as a user sees it before filling: the hole painted white."""
    out = images.copy()
    out[masks] = fill
    return out


def _through_photo_path(method, images: np.ndarray, masks: np.ndarray, k: int, seed: int, start: int,
                        detail: bool | None = None) -> np.ndarray:
    """A fixed-size method on images of another size, as a user's photo takes it: through
    :class:`ganfill.Pipeline` with the whole image as the crop (a method that splits the hole
    between the faces and the rest finds the faces, as on a user's photo), then the model (one
    call for the batch), the upscale (``detail``: None = the method's default) and the seam."""
    from .data.faces import Box

    h, w = images.shape[1:3]
    pipe = Pipeline(method, detail)
    box = None if getattr(method, "general", None) is not None else Box(0, 0, w, h)
    results = pipe(list(images), list(masks), k, seed=seed, box=box, index=start)
    return np.stack([np.stack(r.images) for r in results])


def run_method(method, images: np.ndarray, masks: np.ndarray, k: int = 1, seed: int = 0, start: int = 0,
               detail: bool | None = None) -> np.ndarray:
    """``k`` candidates of ``method`` for a batch -> uint8 ``(N, k, H, W, 3)``; image ``i`` is seeded
    from ``(seed, start + i)`` whatever the batch it is in.  ``detail``: as the photo path's."""
    if method.fixed_size and method.fixed_size != images.shape[1]:
        return _through_photo_path(method, images, masks, k, seed, start, detail)
    return method.candidates(images, masks, k, seed, start)


def evaluate_method(name: str, images: np.ndarray, masks: np.ndarray, batch_size: int = 64,
                    progress: bool = False, options: dict | None = None, seed: int = 0, candidates: int = 1,
                    truth_descriptors: np.ndarray | None = None, detail: bool | None = None) -> MethodResult:
    """Run method ``name`` over uint8 ``images`` ``(N, S, S, 3)`` with bool ``masks`` ``(N, S, S)``
    and score candidate 1 of each; ``diversity`` when ``candidates`` > 1; ``fd_dlib``,
    ``identity``, ``u_ids`` and ``p_ids`` when the originals' descriptors are given.  ``detail``: whether a fixed-size
    method's fill gets the photo's own fine detail (None: the method's default)."""
    method = get_method(name, **(options or {}))
    method.check_candidates(candidates)
    outputs = np.empty_like(images)
    diversities = []
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=len(images), desc=name, unit="img", leave=False)
    elapsed = 0.0
    for i in range(0, len(images), batch_size):
        tic = time.perf_counter()
        out = run_method(method, images[i:i + batch_size], masks[i:i + batch_size], candidates, seed, start=i,
                         detail=detail)
        elapsed += time.perf_counter() - tic
        outputs[i:i + batch_size] = out[:, 0]
        if candidates > 1:
            diversities.append((diversity(out, masks[i:i + batch_size]), len(out)))
        if bar is not None:
            bar.update(len(out))
    if bar is not None:
        bar.close()
    scores = score_batch(outputs, images, masks)
    scores["sharpness"] = sharpness(outputs, images, masks)
    if candidates > 1:
        scores["diversity"] = float(sum(d * n for d, n in diversities) / len(images))
    if truth_descriptors is not None:
        from .face_descriptors import descriptors, frechet_distance, identity_distance, ids_scores

        found = descriptors(outputs)
        truth = truth_descriptors[:len(images)]
        scores["fd_dlib"] = frechet_distance(found, truth)
        scores["identity"] = identity_distance(found, truth)
        if len(images) >= 2:
            scores.update(ids_scores(found, truth, seed=seed))
    upscaled = bool(method.fixed_size) and method.fixed_size < images.shape[1]
    return MethodResult(name, scores, elapsed / max(len(images), 1), len(images), outputs,
                        upscaled and Pipeline(method, detail).detail)


def image_side(folder: str | os.PathLike) -> int:
    """The side of the square images of ``folder`` (from its first file): the benchmark's size."""
    from PIL import Image

    from .data import list_images

    with Image.open(list_images(folder, limit=1)[0]) as first:
        return min(first.size)


def evaluate(data: str | os.PathLike, mask_kind: str, methods: list[str], limit: int | None = None,
             seed: int = 0, batch_size: int = 64, progress: bool = False,
             method_limits: dict[str, int] | None = None, device: str = "auto", candidates: int = 1,
             face_metrics: bool = True, warn=print, detail: bool | None = None
             ) -> tuple[dict, np.ndarray, np.ndarray, list[MethodResult]]:
    """Score ``methods`` on the first ``limit`` images of ``data`` (sorted by file name), at the
    images' own size; masks scale with it.

    ``method_limits`` lets a slow method run on only its first N of those images.  ``face_metrics``
    adds ``fd_dlib``, ``identity``, ``u_ids`` and ``p_ids`` when dlib is installed (else ``warn`` says once why not).
    ``detail``: the photo path's detail above the model's size on or off (None: each method's default).
    Returns the JSON-ready report, the images, the masks and the per-method results.
    """
    for name in methods:  # fail on a typo before any slow work
        get_method_name_check(name)
    candidates = check_candidates(candidates)
    side = image_side(data)
    dataset = FaceFolder(data, limit=limit, size=side, progress=progress)
    images = dataset.images
    masks = (off_face_masks(images, seed) if mask_kind in IMAGE_MASK_KINDS
             else make_masks(mask_kind, len(images), side, seed))
    truth_descriptors = None
    skipped = None
    if face_metrics:
        from .face_descriptors import descriptor_unavailable, descriptors

        skipped = descriptor_unavailable()
        if skipped:
            warn(skipped)
        else:
            truth_descriptors = descriptors(images)
    results = []
    for name in methods:
        n = min(len(images), (method_limits or {}).get(name, len(images)))
        options = {"device": device} if "device" in method_options(name) else {}
        k = candidates if method_info(name).gives_candidates else 1
        results.append(evaluate_method(name, images[:n], masks[:n], batch_size, progress, options, seed, k,
                                       truth_descriptors, detail))
    report = {"mask": mask_kind, "n_images": len(images), "size": side, "seed": seed, "data": str(data),
              "device": device, "candidates": candidates,
              **({"skipped": skipped} if skipped else {}),
              "methods": {r.name: {**{k: round(v, 4) for k, v in r.scores.items()},
                                   "sec_per_image": round(r.sec_per_image, 5), "n_images": r.n_images,
                                   "detail": r.detail}
                          for r in results}}
    return report, images, masks, results


def get_method_name_check(name: str) -> None:
    from .methods import method_names

    if name not in method_names():
        raise ValueError(f"unknown method {name!r}; choose from {', '.join(method_names())}")


#: the printed table's columns: JSON key, heading, format
TABLE_COLUMNS = (("psnr", "PSNR", "7.2f"), ("ssim", "SSIM", "7.4f"), ("hole_psnr", "hole-PSNR", "10.2f"),
                 ("hole_l1", "hole-L1", "8.2f"), ("sharpness", "sharp", "6.3f"), ("fd_dlib", "FD-dlib", "8.4f"),
                 ("identity", "ident", "6.3f"), ("u_ids", "U-IDS", "6.3f"), ("p_ids", "P-IDS", "6.3f"),
                 ("diversity", "divers", "7.2f"), ("sec_per_image", "s/img", "8.4f"),
                 ("n_images", "n", "6d"))


def format_table(report: dict) -> str:
    """The report as a text table; a column appears when some method has it."""
    rows = report["methods"].values()
    columns = [c for c in TABLE_COLUMNS if any(c[0] in m for m in rows)]
    widths = [max(len(h), int(f.split(".")[0].rstrip("d") or 0)) for _, h, f in columns]
    head = f"{'method':<16} " + " ".join(f"{h:>{w}}" for (_, h, _), w in zip(columns, widths))
    size = f", {report['size']} x {report['size']}" if "size" in report else ""
    lines = [f"mask: {report['mask']}, {report['n_images']} images{size}", head, "-" * len(head)]
    for name, m in report["methods"].items():
        cells = [format(m[k], f).rjust(w) if k in m else "-".rjust(w) for (k, _, f), w in zip(columns, widths)]
        lines.append(f"{name:<16} " + " ".join(cells))
    return "\n".join(lines)


def results_grid(images: np.ndarray, masks: np.ndarray, results: list[MethodResult], n: int = 8) -> np.ndarray:
    """Rows: the input with its hole, each method, the ground truth; columns: the first ``n`` images."""
    n = min(n, len(images), *(len(r.outputs) for r in results)) if results else min(n, len(images))
    rows = [masked_input(images[:n], masks[:n])] + [r.outputs[:n] for r in results] + [images[:n]]
    return image_grid(np.concatenate(rows), ncols=n)


def save_grid(grid: np.ndarray, path: str | os.PathLike) -> None:
    save_image_atomic(grid, path)
