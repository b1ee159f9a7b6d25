"""Picture grids and loss plots for training logs and reports."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def image_grid(images: np.ndarray, ncols: int, pad: int = 2, fill: int = 255) -> np.ndarray:
    """uint8 ``(N, H, W, 3)`` -> one uint8 picture with ``ncols`` columns and ``pad`` pixels between."""
    n, h, w, c = images.shape
    nrows = (n + ncols - 1) // ncols
    out = np.full((nrows * (h + pad) + pad, ncols * (w + pad) + pad, c), fill, dtype=np.uint8)
    for i, img in enumerate(images):
        r, col = divmod(i, ncols)
        y, x = pad + r * (h + pad), pad + col * (w + pad)
        out[y:y + h, x:x + w] = img
    return out


def plot_curves(log_path: Path, out_path: Path, keys: list[str], title: str) -> None:
    """Plot ``keys`` of a JSONL log against ``step`` into a PNG (written atomically)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [json.loads(line) for line in Path(log_path).read_text().splitlines() if line.strip()]
    fig, ax = plt.subplots(figsize=(7, 4))
    for key in keys:
        pts = [(r["step"], r[key]) for r in rows if key in r]
        if pts:
            xs, ys = zip(*pts)
            ax.plot(xs, ys, label=key, linewidth=1)
    ax.set_xlabel("step")
    ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    out_path = Path(out_path)
    tmp = out_path.with_name(f".{out_path.name}.tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    tmp.replace(out_path)
