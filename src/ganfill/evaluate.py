"""The one evaluator: every method is scored the same way, on masks generated once from a seed."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .data import FaceFolder, make_masks, save_image_atomic
from .methods import get_method, method_options
from .metrics import METRIC_NAMES, score_batch
from .viz import image_grid


@dataclass
class MethodResult:
    name: str
    scores: dict[str, float]
    sec_per_image: float
    n_images: int
    outputs: np.ndarray = field(repr=False)


def masked_input(images: np.ndarray, masks: np.ndarray, fill: int = 255) -> np.ndarray:
    """The image as a user sees it before filling: the hole painted white."""
    out = images.copy()
    out[masks] = fill
    return out


def evaluate_method(name: str, images: np.ndarray, masks: np.ndarray, batch_size: int = 64,
                    progress: bool = False, options: dict | None = None, seed: int = 0) -> MethodResult:
    """Run method ``name`` over uint8 ``images`` ``(N, 64, 64, 3)`` with bool ``masks`` ``(N, 64, 64)``."""
    method = get_method(name, **(options or {}))
    outputs = np.empty_like(images)
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=len(images), desc=name, unit="img", leave=False)
    start = time.perf_counter()
    for i in range(0, len(images), batch_size):
        outputs[i:i + batch_size] = method(images[i:i + batch_size], masks[i:i + batch_size], seed, start=i)
        if bar is not None:
            bar.update(len(images[i:i + batch_size]))
    elapsed = time.perf_counter() - start
    if bar is not None:
        bar.close()
    return MethodResult(name, score_batch(outputs, images, masks), elapsed / max(len(images), 1), len(images),
                        outputs)


def evaluate(data: str | os.PathLike, mask_kind: str, methods: list[str], limit: int | None = None,
             seed: int = 0, batch_size: int = 64, progress: bool = False,
             method_limits: dict[str, int] | None = None, device: str = "cpu"
             ) -> tuple[dict, np.ndarray, np.ndarray, list[MethodResult]]:
    """Score ``methods`` on the first ``limit`` images of ``data`` (sorted by file name).

    ``method_limits`` lets a slow method run on only its first N of those images.
    Returns the JSON-ready report, the images, the masks and the per-method results.
    """
    for name in methods:  # fail on a typo before any slow work
        get_method_name_check(name)
    dataset = FaceFolder(data, limit=limit, progress=progress)
    images = dataset.images
    masks = make_masks(mask_kind, len(images), images.shape[1], seed)
    results = []
    for name in methods:
        n = min(len(images), (method_limits or {}).get(name, len(images)))
        options = {"device": device} if "device" in method_options(name) else {}
        results.append(evaluate_method(name, images[:n], masks[:n], batch_size, progress, options, seed))
    report = {"mask": mask_kind, "n_images": len(images), "seed": seed, "data": str(data), "device": device,
              "methods": {r.name: {**{k: round(r.scores[k], 4) for k in METRIC_NAMES},
                                   "sec_per_image": round(r.sec_per_image, 5), "n_images": r.n_images}
                          for r in results}}
    return report, images, masks, results


def get_method_name_check(name: str) -> None:
    from .methods import method_names

    if name not in method_names():
        raise ValueError(f"unknown method {name!r}; choose from {', '.join(method_names())}")


def format_table(report: dict) -> str:
    head = f"{'method':<16} {'PSNR':>7} {'SSIM':>7} {'hole-PSNR':>10} {'hole-L1':>8} {'s/img':>8} {'n':>6}"
    lines = [f"mask: {report['mask']}, {report['n_images']} images", head, "-" * len(head)]
    for name, m in report["methods"].items():
        lines.append(f"{name:<16} {m['psnr']:>7.2f} {m['ssim']:>7.3f} {m['hole_psnr']:>10.2f} "
                     f"{m['hole_l1']:>8.2f} {m['sec_per_image']:>8.4f} {m['n_images']:>6}")
    return "\n".join(lines)


def results_grid(images: np.ndarray, masks: np.ndarray, results: list[MethodResult], n: int = 8) -> np.ndarray:
    """Rows: the input with its hole, each method, the ground truth; columns: the first ``n`` images."""
    n = min(n, len(images), *(len(r.outputs) for r in results)) if results else min(n, len(images))
    rows = [masked_input(images[:n], masks[:n])] + [r.outputs[:n] for r in results] + [images[:n]]
    return image_grid(np.concatenate(rows), ncols=n)


def write_json_atomic(data: dict, path: str | os.PathLike) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    tmp.replace(path)


def save_grid(grid: np.ndarray, path: str | os.PathLike) -> None:
    save_image_atomic(grid, path)
