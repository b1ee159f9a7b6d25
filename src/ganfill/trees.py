"""Folders given on the command line as local paths or fsspec URLs (``s3://...``): listing their
photos and matching masks exactly as the plain folder runner does (``batch.py``), for ``--ray``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from . import batch
from .errors import UserError


@dataclass(frozen=True)
class Tree:
    """A folder (or one file) given on the command line: a local path, or an fsspec URL."""
    where: str

    @property
    def remote(self) -> bool:
        return "://" in self.where

    def fs(self):
        """(fsspec filesystem, its path of this tree)."""
        import fsspec

        fs, root = fsspec.core.url_to_fs(self.where)
        return fs, root.rstrip("/")

    def is_dir(self) -> bool:
        if not self.remote:
            return Path(self.where).is_dir()
        fs, root = self.fs()
        return fs.isdir(root)

    def local(self, name: str = "") -> Path:
        return Path(self.where) / name if name else Path(self.where)

    def url(self, name: str) -> str:
        return f"{self.where.rstrip('/')}/{name}" if name else self.where


def list_tree_images(tree: Tree, out: Tree) -> tuple[list[str], list[str]]:
    """The photos' names (paths in the folder, ``/``-separated) in batch.py's order, and what was
    not read (as :func:`ganfill.data.scan_images`: the output folder inside the input, other files)."""
    from .data import scan_images
    from .data.dataset import IMAGE_SUFFIXES

    if not tree.remote:
        images, ignored = scan_images(tree.local(), exclude=[] if out.remote else [out.local()])
        return [p.relative_to(tree.local()).as_posix() for p in images], ignored
    fs, root = tree.fs()
    base, target = tree.where.rstrip("/") + "/", out.where.rstrip("/")
    inside = target[len(base):] if out.remote and target.startswith(base) else None
    names, others, ignored = [], 0, []
    for path in fs.find(root):
        name = PurePosixPath(path).relative_to(root)
        if inside and (name.as_posix() + "/").startswith(inside + "/"):
            if f"{inside}/: the output folder" not in ignored:
                ignored.append(f"{inside}/: the output folder")
        elif name.suffix.lower() in IMAGE_SUFFIXES:
            names.append(name)
        else:
            others += 1
    if others:
        ignored.append(f"{others} file{'s' * (others > 1)} not named as images")
    if not names:
        raise UserError(f"{tree.where}: no images found (looked for {', '.join(IMAGE_SUFFIXES)})")
    return [name.as_posix() for name in sorted(names)], ignored


def find_masks(names: list[str], mask_dir: Tree) -> dict[str, str | UserError]:
    """Each photo's mask name in ``mask_dir`` (batch.mask_for), or the error of its lack."""
    is_file, base = Path.is_file, mask_dir.local()
    if mask_dir.remote:                   # one listing, not a request per photo
        fs, root = mask_dir.fs()
        there = {PurePosixPath(p).relative_to(root).as_posix() for p in fs.find(root)}
        is_file, base = (lambda path: path.as_posix() in there), Path()
    found: dict[str, str | UserError] = {}
    for name in names:
        rel = Path(name)
        try:
            found[name] = batch.mask_for(rel.stem, base / rel.parent, is_file).relative_to(base).as_posix()
        except UserError as exc:
            found[name] = exc if not mask_dir.remote else UserError(
                f"no mask named {rel.stem}.png (or .jpg, ...) in {mask_dir.url(rel.parent.as_posix())}")
    return found
