"""The plain folder runner against ``--ray`` with 1 and 2 workers: the first N in-the-wild test faces
(256 x 256) with the evaluator's centre mask, the default method, the face box given (the whole
photo), wall-clock time of the whole command (Ray's start-up included), and whether every output
is byte-identical to the plain runner's.

    .venv/bin/python scripts/bench_ray.py [--n 300] [--json docs/results/ray-throughput.json]

The plain runner uses every core (GANFILL_THREADS = the core count); each Ray worker is one process
with one thread.
"""

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from ganfill.data import default_data_root
from ganfill.data.masks import center_mask

ap = argparse.ArgumentParser()
ap.add_argument("--n", type=int, default=300)
ap.add_argument("--workers", default="2,1", help="the --ray runs' worker counts")
ap.add_argument("--data", type=Path, default=None, help="default: the shared celeba-wild/test")
ap.add_argument("--json", type=Path, default=None, help="the report; with --work, its plain run is kept")
ap.add_argument("--work", type=Path, default=None,
                help="a folder of an earlier run: its photos and plain outputs are reused, only --ray runs again")
args = ap.parse_args()

cores = os.cpu_count()
work = args.work or Path(tempfile.mkdtemp(prefix="bench-ray-"))
photos = work / "photos"
photos.mkdir(exist_ok=True)
sources = sorted((args.data or default_data_root() / "celeba-wild" / "test").glob("*.jpg"))[:args.n]
if len(sources) < args.n:
    sys.exit(f"only {len(sources)} faces found")
for src in sources:
    (photos / src.name).write_bytes(src.read_bytes())
Image.fromarray(center_mask(256).astype(np.uint8) * 255).save(work / "centre.png")
ganfill = Path(sys.executable).with_name("ganfill")
common = [str(photos), "--mask", str(work / "centre.png"), "--box", "0,0,256,256", "--no-progress"]


def run(name: str, *extra: str) -> dict:
    out = work / name
    shutil.rmtree(out, ignore_errors=True)
    env = dict(os.environ, GANFILL_THREADS=str(cores))
    t = time.perf_counter()
    r = subprocess.run([str(ganfill), "inpaint", *common, "-o", str(out), *extra], capture_output=True, text=True,
                       env=env)
    seconds = time.perf_counter() - t
    if r.returncode != 0:
        sys.exit(f"{name}: exit {r.returncode}\n{r.stderr[-3000:]}")
    print(f"{name}: {seconds:.1f} s, {args.n / seconds:.2f} photos/s ({r.stdout.strip()})", flush=True)
    return {"command": " ".join(["ganfill", "inpaint", "PHOTOS", *common[1:], "-o", name, *extra]),
            "seconds": round(seconds, 1), "photos_per_s": round(args.n / seconds, 3)}


def files(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(root.iterdir())}


runs: dict[str, dict] = {"plain": json.loads(args.json.read_text())["runs"]["plain"]} if args.work else {}
report = {"photos": args.n, "size": 256, "mask": "center", "method": "default", "cores": cores,
          "python": platform.python_version(), "runs": runs}


def save() -> None:
    """The report so far (a long run stopped half-way keeps what it measured)."""
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


for workers in [*([] if args.work else [None]), *map(int, args.workers.split(","))]:
    name = "plain" if workers is None else f"ray-{workers}"
    load = os.getloadavg()[0]
    runs[name] = run(name) if workers is None else run(name, "--ray", "--ray-workers", str(workers))
    runs[name]["load_average_1min_before"] = round(load, 2)
    if workers is not None:
        runs[name]["identical_to_plain"] = files(work / name) == files(work / "plain")
        runs[name]["fraction_of_plain_throughput"] = round(runs[name]["photos_per_s"] / runs["plain"]["photos_per_s"], 3)
        print(f"  identical to plain: {runs[name]['identical_to_plain']}, "
              f"{runs[name]['fraction_of_plain_throughput']:.0%} of its throughput")
    save()
if args.json:
    print(f"wrote {args.json}")
