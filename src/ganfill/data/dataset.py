"""Folders of face images, the thesis's preprocessing, and a decode-once uint8 cache."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from PIL import Image

from .files import atomic_write
from .sizes import MODEL_SIZE, WILD_SIZE
from .images import ImageError, load_image

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp")
#: the validation split: celeba-wild/train faces (by file number and by sorted position) that no
#: model trains on; every tuning choice is made on them
WILD_VALIDATION = range(22211, 22711)


def check_faces(images: np.ndarray, masks: np.ndarray, size: int = MODEL_SIZE, what: str = "the network") -> None:
    """A ValueError unless ``images`` are ``(N, size, size, 3)`` and ``masks`` ``(N, size, size)``: the
    input of the networks that work at one size."""
    if images.ndim != 4 or images.shape[1:] != (size, size, 3) or masks.shape != images.shape[:3]:
        raise ValueError(f"{what} takes (N, {size}, {size}, 3) images and (N, {size}, {size}) masks, got "
                         f"{images.shape} and {masks.shape}")


def default_data_root() -> Path:
    """Where the shared face data lives: ``$GANFILL_DATA``, else the nearest ``shared/data`` above
    the working directory or the package (the repository sits next to ``shared/``)."""
    env = os.environ.get("GANFILL_DATA")
    if env:
        return Path(env)
    for start in (Path.cwd(), Path(__file__).resolve()):
        for parent in [start, *start.parents]:
            candidate = parent / "shared" / "data"
            if candidate.is_dir():
                return candidate
    return Path("../shared/data")


def default_cache_dir() -> Path:
    return Path(os.environ.get("GANFILL_CACHE", Path.home() / ".cache" / "ganfill"))


def list_images(folder: str | os.PathLike, limit: int | None = None) -> list[Path]:
    """Image files under ``folder`` (recursive), in sorted path order; the first ``limit`` if given."""
    files, _ = scan_images(folder)
    return files[:limit] if limit else files


def scan_images(folder: str | os.PathLike, exclude: Sequence[str | os.PathLike] = ()) -> tuple[list[Path], list[str]]:
    """Image files under ``folder`` (recursive, sorted), and a line for each thing it did not read
    and why: a linked folder (not followed, so a link cannot loop or leave the folder), a folder of
    ``exclude`` (an output folder inside the input), a broken link, files that are not images."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ImageError(f"{folder}: no such folder")
    excluded = {Path(p).resolve() for p in exclude}
    files: list[Path] = []
    ignored: list[str] = []
    others: dict[str, int] = {}
    for root, dirs, names in os.walk(folder):
        root = Path(root)
        for name in sorted(dirs):
            path = root / name
            if path.is_symlink():
                ignored.append(f"{path.relative_to(folder)}/: a link to a folder, not followed")
                dirs.remove(name)
            elif path.resolve() in excluded:
                ignored.append(f"{path.relative_to(folder)}/: the output folder")
                dirs.remove(name)
        for name in names:
            path = root / name
            if path.suffix.lower() not in IMAGE_SUFFIXES:
                others[path.suffix.lower() or "no suffix"] = others.get(path.suffix.lower() or "no suffix", 0) + 1
            elif not path.is_file():
                ignored.append(f"{path.relative_to(folder)}: a broken link or not a regular file")
            else:
                files.append(path)
    if others:
        count = sum(others.values())
        ignored.append(f"{count} file{'s' * (count > 1)} not named as images ({', '.join(sorted(others))})")
    if not files:
        raise ImageError(f"{folder}: no images found (looked for {', '.join(IMAGE_SUFFIXES)})")
    return sorted(files), ignored


def crop_box(size: tuple[int, int], crop: Sequence[int] | int | None) -> tuple[int, int, int, int]:
    """The ``(x, y, w, h)`` box to cut from an image of ``size`` = ``(W, H)``.

    ``crop`` is None (the largest centred square), an int ``s`` (a centred ``s``x``s`` square, the
    DCGAN recipe for aligned CelebA) or an explicit ``(x, y, w, h)`` box.
    """
    width, height = size
    if crop is None:
        side = min(width, height)
        return (width - side) // 2, (height - side) // 2, side, side
    if isinstance(crop, int):
        side = min(crop, width, height)
        return (width - side) // 2, (height - side) // 2, side, side
    x, y, w, h = (int(v) for v in crop)
    return x, y, w, h


def preprocess(image: np.ndarray, crop: Sequence[int] | int | None = None, size: int = MODEL_SIZE) -> np.ndarray:
    """uint8 RGB ``(H, W, 3)`` -> uint8 ``(size, size, 3)``: crop, then an antialiased resize."""
    h, w = image.shape[:2]
    x, y, bw, bh = crop_box((w, h), crop)
    pil = Image.fromarray(image).crop((x, y, x + bw, y + bh))
    if pil.size != (size, size):
        pil = pil.resize((size, size), Image.LANCZOS)
    return np.asarray(pil, dtype=np.uint8)


def _cache_key(files: list[Path], crop, size: int) -> str:
    digest = hashlib.sha1()
    digest.update(repr((crop, size)).encode())
    for f in files:
        st = f.stat()
        digest.update(f"{f.resolve()}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def decode_folder(files: list[Path], crop=None, size: int = MODEL_SIZE, cache_dir: Path | None = None,
                  progress: bool = False) -> np.ndarray:
    """All ``files`` preprocessed into one uint8 ``(N, size, size, 3)`` array.

    The array is cached on disk as ``.npy`` (keyed by the files, their sizes and mtimes, the crop and
    the size), so that later runs and training epochs never decode a JPEG again.
    """
    cache_path = None
    if cache_dir is not None:
        cache_path = Path(cache_dir) / f"faces-{_cache_key(files, crop, size)}.npy"
        if cache_path.exists():
            try:
                arr = np.load(cache_path, allow_pickle=False)
                if arr.shape == (len(files), size, size, 3) and arr.dtype == np.uint8:
                    return arr
            except (OSError, ValueError):
                pass  # a damaged cache is rebuilt below
    out = np.empty((len(files), size, size, 3), dtype=np.uint8)
    iterator = files
    if progress:
        from tqdm import tqdm
        iterator = tqdm(files, desc="decoding", unit="img", leave=False)
    for i, f in enumerate(iterator):
        out[i] = preprocess(load_image(f), crop, size)
    if cache_path is not None:
        try:
            def write(tmp: str) -> None:
                with open(tmp, "wb") as fh:
                    np.save(fh, out, allow_pickle=False)

            atomic_write(cache_path, write)
        except OSError:
            pass  # caching is an optimisation; a read-only home must not stop the run
    return out


class FaceFolder(torch.utils.data.Dataset):
    """A folder of face images as 64x64 tensors in ``[-1, 1]``, decoded once into memory.

    ``crop`` as in :func:`crop_box`; ``flip`` applies a random horizontal flip per access.
    Items are ``(3, 64, 64)`` float tensors.  ``images`` holds the uint8 ``(N, 64, 64, 3)`` array.
    """

    def __init__(self, folder: str | os.PathLike, crop=None, size: int = MODEL_SIZE, flip: bool = False,
                 limit: int | None = None, cache: bool = True, progress: bool = False):
        self.files = list_images(folder, limit)
        self.flip = flip
        self.images = decode_folder(self.files, crop, size, default_cache_dir() if cache else None, progress)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> torch.Tensor:
        x = torch.from_numpy(self.images[index]).permute(2, 0, 1).float() / 127.5 - 1.0
        if self.flip and torch.rand(()) < 0.5:
            x = x.flip(-1)
        return x

    def batch(self, indices, generator: torch.Generator | None = None) -> torch.Tensor:
        """A whole batch at once, without a DataLoader: ``(B, 3, 64, 64)`` in ``[-1, 1]``.

        Flips are drawn from ``generator`` so a seeded training run is reproducible.
        """
        idx = torch.as_tensor(indices, dtype=torch.long)
        x = torch.from_numpy(self.images[idx.numpy()]).permute(0, 3, 1, 2).float() / 127.5 - 1.0
        if self.flip:
            flip = torch.rand(len(idx), generator=generator) < 0.5
            x[flip] = x[flip].flip(-1)
        return x


class ArrayFaces(FaceFolder):
    """The :class:`FaceFolder` interface over an in-memory uint8 ``(N, 64, 64, 3)`` array
    (used for ``--dry-run`` on fake data and in tests)."""

    def __init__(self, images: np.ndarray, flip: bool = False):
        self.files = []
        self.flip = flip
        self.images = np.ascontiguousarray(images, dtype=np.uint8)


def without_wild_validation(faces: FaceFolder, limit: int | None = None) -> ArrayFaces:
    """The first ``limit`` faces of ``faces`` that are not in the validation split, told by file name
    (a folder may hold only part of celeba-wild/train, as on a GPU machine sent a share of it), with
    random flips on: a photo refiner's training set."""
    keep = [i for i, f in enumerate(faces.files) if not (f.stem.isdigit() and int(f.stem) in WILD_VALIDATION)]
    return ArrayFaces(faces.images[keep[:limit]], flip=True)


def wild_validation_faces(n: int | None = None) -> np.ndarray:
    """The first ``n`` faces of the validation split (all 500 by default), uint8 ``(n, 128, 128, 3)``."""
    folder = default_data_root() / "celeba-wild" / "train"
    return np.stack([load_image(folder / f"{i:05d}.jpg") for i in WILD_VALIDATION[:n]])
