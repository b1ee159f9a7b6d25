"""Pack celeba-wild/train for a GPU machine: shares of the training faces as stored (uncompressed)
zips of their JPEG bytes, each under a byte budget, for a machine that takes its data in pieces of a
bounded size; and unpack them there (scripts/device_*.sh call ``--unpack``).

    python scripts/pack_wild_shares.py --shares 2 --budget-mb 46.3 -o .devdata
    python scripts/pack_wild_shares.py --shares 1 --budget-mb 12 --start 2500 --validation 500 -o .devdata
    python scripts/pack_wild_shares.py --unpack .devdata/wild-*.zip --into /tmp/ganfill-data/celeba-wild/train

Faces are taken in order from ``--start`` (00000) until a share is full; every share also holds the
first ``--validation`` validation faces (8), which the training runs only look at (their epoch
glimpses) or compare with (the GAN's sample FD-dlib takes all 500).
"""

from __future__ import annotations

import argparse
import zipfile
from pathlib import Path

from ganfill.data import WILD_VALIDATION, default_data_root


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shares", type=int, default=2)
    ap.add_argument("--budget-mb", type=float, default=46.3, help="the most bytes of one zip, in MB (1e6)")
    ap.add_argument("--start", type=int, default=0, help="the first training face of the first share")
    ap.add_argument("--validation", type=int, default=8, help="validation faces in every share")
    ap.add_argument("-o", "--out", type=Path, default=Path(".devdata"))
    ap.add_argument("--unpack", nargs="*", type=Path, metavar="ZIP",
                    help="unpack these shares (names that are not files are skipped) --into a folder, instead")
    ap.add_argument("--into", type=Path, help="with --unpack: the folder of training faces")
    args = ap.parse_args()
    if args.unpack is not None:
        if args.into is None:
            ap.error("--unpack needs --into FOLDER")
        unpack(args.unpack, args.into)
        return
    folder = default_data_root() / "celeba-wild" / "train"
    args.out.mkdir(parents=True, exist_ok=True)
    glimpse = [f"{i:05d}.jpg" for i in WILD_VALIDATION[:args.validation]]
    face = args.start
    for share in range(args.shares):
        path = args.out / f"wild-{face:05d}.zip"     # named by its first face: later shares add files
        first = face
        with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
            for name in glimpse:
                z.write(folder / name, name)
            while face < WILD_VALIDATION.start:
                name = f"{face:05d}.jpg"
                z.write(folder / name, name)
                face += 1
                z.fp.flush()
                if z.fp.tell() > args.budget_mb * 1e6:
                    break
        print(f"{path}: faces {first:05d}-{face - 1:05d}, {path.stat().st_size / 1e6:.1f} MB")


def unpack(shares: list[Path], folder: Path) -> None:
    """Extract every share that exists into ``folder`` (a shell glob that matched nothing arrives
    as its pattern and is skipped) and say how many faces it holds."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in shares:
        if path.is_file():
            with zipfile.ZipFile(path) as z:
                z.extractall(folder)
    print(f"faces: {sum(1 for _ in folder.iterdir())} in {folder}")


if __name__ == "__main__":
    main()
