"""The thesis's Figure 7: the latent search's total loss per iteration, from a random start (Yeh)
and from the latent encoder's start (ganfill's fast path), on the first test faces.

    .venv/bin/python scripts/plot_convergence.py --limit 8 --iterations 1500 -o docs/images/convergence.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from ganfill.data import FaceFolder, default_data_root, make_masks  # noqa: E402
from ganfill.inpaint import Inpainter  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=8)
    parser.add_argument("--iterations", type=int, default=1500)
    parser.add_argument("--mask", default="center")
    parser.add_argument("-o", "--output", type=Path, default=Path("docs/images/convergence.png"))
    args = parser.parse_args()
    faces = FaceFolder(default_data_root() / "celeba" / "test", limit=args.limit).images
    masks = make_masks(args.mask, len(faces), 64, seed=0)
    fig, ax = plt.subplots(figsize=(7, 4))
    for label, init in (("random start (Yeh et al.)", "random"), ("latent-encoder start", "encoder")):
        inpainter = Inpainter.from_pretrained("yeh", init=init, iterations=args.iterations)
        out = inpainter.complete(faces, masks, 1, record=True)
        ax.plot(range(1, len(out.history) + 1), out.history, label=label, linewidth=1.2)
        print(f"{label}: first {out.history[0]:.1f}, after 10 {out.history[min(9, len(out.history) - 1)]:.1f}, "
              f"last {out.history[-1]:.1f}")
    ax.set_xscale("log")
    ax.set_xlabel("Adam iteration on z")
    ax.set_ylabel("mean total loss (contextual + λ·perceptual)")
    ax.set_title(f"Latent search convergence, {len(faces)} test faces, {args.mask} mask")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.output, dpi=100)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
