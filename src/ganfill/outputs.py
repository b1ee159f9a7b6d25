"""Where results are written: every output's name decided before any work, never over an input.

Shared by the plain folder runner and the Ray one (``batch.py``, ``batch_ray.py``), so that a name
clash or an output that would replace the photo it comes from is refused the same way by both.
"""

from __future__ import annotations

import os
from pathlib import Path

from .console import say
from .errors import UserError

OUTPUT_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


def output_paths(output: Path, k: int) -> list[Path]:
    """The files of ``k`` candidates: ``output`` itself for one, ``OUT-1 ... OUT-K`` for several."""
    return [output] if k == 1 else [output.with_name(f"{output.stem}-{i}{output.suffix}") for i in range(1, k + 1)]


def check_output(path: Path) -> None:
    if path.suffix.lower() not in OUTPUT_SUFFIXES:
        raise UserError(f"{path}: output must end in .png, .jpg or .webp")


def _same(a, b) -> bool:
    """Whether two local paths name the same file or folder (by inode, so links count too)."""
    if not (isinstance(a, Path) and isinstance(b, Path)):
        return False
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and os.path.samefile(a, b))
    except OSError:
        return False


def refuse_overwriting(image, output, mask, mask_dir, folder: bool, k: int) -> None:
    """A UserError if the outputs would replace the input photo or a mask (or fill the input folder
    with its own results), before any work: the photo a user asked to fill is never lost."""
    hint = "; write elsewhere, or pass --overwrite to replace it"
    if folder:
        for what, path in (("the input folder", image), ("the mask folder", mask_dir)):
            if _same(output, path):
                raise UserError(f"{output}: the output folder is {what}{hint}")
        return
    for out in output_paths(output, k):
        for what, path in (("the input photo", image), ("the mask", mask)):
            if _same(out, path):
                raise UserError(f"{out} is {what}{hint}")


def batch_outputs(images: list[Path], root: Path, out_dir: Path, k: int) -> dict[Path, Path]:
    """Each input's output file, decided before any work.  Outputs are PNG, so ``a.jpg`` and ``a.png``
    in one folder would both write ``a.png``: then the PNG keeps ``a.png`` and the others get their
    whole name, ``a.jpg.png`` (a note says so).  A clash that remains is an error."""
    by_target: dict[Path, list[Path]] = {}
    for path in images:
        by_target.setdefault(path.relative_to(root).with_suffix(".png"), []).append(path)
    outputs: dict[Path, Path] = {}
    for target, group in by_target.items():
        for path in group:
            rel = path.relative_to(root)
            keep = len(group) == 1 or path.suffix == ".png"
            outputs[path] = out_dir / (target if keep else rel.with_name(rel.name + ".png"))
            if not keep:
                others = ", ".join(p.name for p in group if p is not path)
                say(f"note: {rel} and {others} would both write {target}; writing {outputs[path].name} "
                     f"for {rel.name}")
    written: dict[Path, Path] = {}
    for path, output in outputs.items():
        for file in output_paths(output, k):
            if file in written:
                raise UserError(f"{path.relative_to(root)} and {written[file].relative_to(root)} would both write "
                                   f"{file}; rename one of them")
            written[file] = path
    return outputs
