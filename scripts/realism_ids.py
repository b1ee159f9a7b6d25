"""U-IDS and P-IDS (with every other column of the evaluator) of some methods on the first N
celeba-wild/test faces, beside a reference that no method can beat at a model's size: the truth
shrunk to that size and scaled back, pasted into the hole (the known pixels kept, as every method
keeps them).  One JSON; docs/results.md quotes it.

    scripts/realism_ids.py --limit 200 --methods lsgan+ae-wild,telea -o docs/results/realism-ids-center-200.json
"""

from __future__ import annotations

import argparse
from pathlib import Path

REFERENCE_SIDE = 128


def shrunk_truth(images, masks, side: int):
    """Each image with its hole taken from itself shrunk to ``side`` px (area) and scaled back (cubic)."""
    import cv2
    import numpy as np

    out = images.copy()
    full = images.shape[1]
    for img, mask, dst in zip(images, masks, out):
        small = cv2.resize(img, (side, side), interpolation=cv2.INTER_AREA)
        back = np.clip(cv2.resize(small, (full, full), interpolation=cv2.INTER_CUBIC), 0, 255)
        dst[mask] = back[mask]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=None, help="default: the shared celeba-wild/test (256 px)")
    ap.add_argument("--mask", default="center")
    ap.add_argument("--limit", type=int, default=200)
    ap.add_argument("--methods", default="lsgan+ae-wild,telea")
    ap.add_argument("--device", default="auto")
    ap.add_argument("-o", "--out", type=Path, required=True)
    args = ap.parse_args()

    from ganfill.data import default_data_root
    from ganfill.evaluate import evaluate, format_table, write_json_atomic
    from ganfill.face_descriptors import descriptors, frechet_distance, identity_distance, ids_scores
    from ganfill.metrics import score_batch, sharpness

    data = args.data or default_data_root() / "celeba-wild" / "test"
    report, images, masks, _ = evaluate(data, args.mask, args.methods.split(","), limit=args.limit,
                                        device=args.device)
    truth = descriptors(images)
    ref = shrunk_truth(images, masks, REFERENCE_SIDE)
    found = descriptors(ref)
    scores = {**score_batch(ref, images, masks), "sharpness": sharpness(ref, images, masks),
              "fd_dlib": frechet_distance(found, truth), "identity": identity_distance(found, truth),
              **ids_scores(found, truth, seed=report["seed"])}
    name = f"truth-{REFERENCE_SIDE}"
    report["methods"][name] = {**{k: round(v, 4) for k, v in scores.items()}, "sec_per_image": 0.0,
                               "n_images": len(images), "detail": False}
    report["reference"] = {name: f"the truth shrunk to {REFERENCE_SIDE} px (area) and scaled back (cubic) "
                                 f"in the hole; the known pixels kept"}
    write_json_atomic(report, args.out)
    print(format_table(report))


if __name__ == "__main__":
    main()
