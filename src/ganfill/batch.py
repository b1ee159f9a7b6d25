"""``ganfill inpaint``'s runner: one photo, or a folder of them, filled through :class:`ganfill.Pipeline`
and written with :meth:`Photo.save`.

It checks the options, loads the method once, matches each photo of a folder to its mask, decides
every output name before any work (name clashes), fills the photos a batch at a time (one model call
per batch) and reports per file.  Warnings and notes go to stderr as ``ganfill: ...`` lines; what was
written comes back to the caller (the CLI prints it).  Heavy modules are imported on first use.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from .errors import UserError, one_line

#: a folder is filled this many photos at a time (one model call for all their crops) ...
BATCH_PHOTOS = 16
#: ... and fewer when their pixels add up to more than this (one photo at the size limit)
BATCH_PIXELS = 64_000_000

OUTPUT_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


def _say(line: str) -> None:
    print(f"ganfill: {line}", file=sys.stderr)


def output_paths(output: Path, k: int) -> list[Path]:
    """The files of ``k`` candidates: ``output`` itself for one, ``OUT-1 ... OUT-K`` for several."""
    return [output] if k == 1 else [output.with_name(f"{output.stem}-{i}{output.suffix}") for i in range(1, k + 1)]


def check_output(path: Path) -> None:
    if path.suffix.lower() not in OUTPUT_SUFFIXES:
        raise UserError(f"{path}: output must end in .png, .jpg or .webp")


def check_options(image: Path, output: Path, mask: Path | None, mask_dir: Path | None, candidates: int = 1,
                  box: str | None = None, seed: int = 0, crop: str = "face") -> tuple[bool, "Settings"]:
    """The options' own errors, before any model is loaded -> (whether ``image`` is a folder, the
    :class:`Settings` every photo is filled with; ``box``: ``X,Y,W,H`` or None to detect the face)."""
    from .data.faces import Box

    if candidates < 1:
        raise UserError("--candidates must be at least 1")
    if mask is None and mask_dir is None:
        raise UserError("give the hole with --mask MASK (or --mask-dir MDIR for a folder of images)")
    if mask is not None and mask_dir is not None:
        raise UserError("give either --mask or --mask-dir, not both")
    folder = image.is_dir()
    if mask_dir is not None and not folder:
        raise UserError("--mask-dir goes with a folder of images; for one image use --mask")
    if mask_dir is not None and not mask_dir.is_dir():
        raise UserError(f"{mask_dir}: no such folder")
    if output.suffix and folder:
        raise UserError(f"{output}: with a folder of images, -o names the output folder")
    if not folder:
        check_output(output)
    parsed = Box.parse(box) if box else None
    if output.suffix.lower() in (".jpg", ".jpeg"):
        _say("warning: JPEG is lossy, so pixels outside the hole will not stay exactly as they were; "
             "write .png to keep them")
    return folder, Settings(candidates, seed, parsed, crop)


def load_pipeline(method: str | None, device: str, iterations: int | None, detail: bool | None, candidates: int):
    """The method, loaded once; an error for an option it does not take, or candidates it cannot give."""
    from .methods import DEFAULT_METHOD, method_options
    from .pipeline import Pipeline

    method = method or DEFAULT_METHOD
    options = {"iterations": iterations}
    accepted = method_options(method)
    for key in ("iterations",):
        if options[key] is not None and key not in accepted:
            raise UserError(f"method {method!r} takes no --{key}")
    pipe = Pipeline.from_pretrained(method, device=device, detail=detail,
                                    **{k: v for k, v in options.items() if v is not None})
    if candidates > 1 and not pipe.method.gives_candidates:   # before a whole folder fails file by file
        raise UserError(f"method {method!r} gives a single answer; several candidates need an lsgan method")
    return pipe


@dataclass
class Settings:
    """How every photo of one command is filled."""
    candidates: int = 1
    seed: int = 0
    box: object = None          # a ganfill.data.faces.Box, or None: detect the face
    crop: str = "face"


def _prepare_file(pipe, image_path: Path, mask_path: Path, settings: Settings):
    """Load one photo and its mask and cut the model's crop -> (photo, mask, prepared); a one-line
    error (ValueError, OSError) for a bad file, a box outside the photo, no face, ..."""
    from .data import load_mask, load_photo, resize_mask

    photo = load_photo(image_path)
    h, w = photo.rgb.shape[:2]
    mask = load_mask(mask_path)
    if mask.shape != (h, w):
        _say(f"warning: {mask_path.name}: mask is {mask.shape[1]}x{mask.shape[0]}, image is {w}x{h}; "
             f"resizing the mask (nearest neighbour)")
        mask = resize_mask(mask, (h, w))
    prepared = pipe.prepare(photo.rgb, mask, settings.box, settings.crop)
    if prepared.source == "no hole":
        _say(f"{mask_path.name}: the mask has no hole; writing the image unchanged")
    return photo, mask, prepared


def _write_results(photo, mask, done, output: Path, k: int) -> list[Path]:
    """Write the K results of one photo; returns the files written."""
    paths = output_paths(output, k)
    for path, image in zip(paths, done.images):
        # The photo writes itself: its ICC profile, EXIF and DPI go with it; RGBA to JPEG is
        # composited on white as the model saw it, with a warning.
        for line in photo.save(photo.with_fill(image, mask), path):
            _say(f"warning: {line}")
    return paths


def fill_photo(pipe, image: Path, mask: Path, output: Path, settings: Settings) -> list[Path]:
    """Fill one photo; returns the files written."""
    photo, hole, prepared = _prepare_file(pipe, image, mask, settings)
    done = pipe.run([prepared], settings.candidates, settings.seed)[0]
    return _write_results(photo, hole, done, output, settings.candidates)


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
                _say(f"note: {rel} and {others} would both write {target}; writing {outputs[path].name} "
                     f"for {rel.name}")
    written: dict[Path, Path] = {}
    for path, output in outputs.items():
        for file in output_paths(output, k):
            if file in written:
                raise UserError(f"{path.relative_to(root)} and {written[file].relative_to(root)} would both write "
                                   f"{file}; rename one of them")
            written[file] = path
    return outputs


def mask_for(stem: str, mask_dir: Path) -> Path:
    """The mask of the photo named ``stem`` in ``mask_dir``: ``stem.png`` first, then any image suffix."""
    from .data.dataset import IMAGE_SUFFIXES

    for suffix in (".png", *IMAGE_SUFFIXES):
        for candidate in (mask_dir / f"{stem}{suffix}", mask_dir / f"{stem}{suffix.upper()}"):
            if candidate.is_file():
                return candidate
    raise UserError(f"no mask named {stem}.png (or .jpg, ...) in {mask_dir}")


@dataclass
class FolderReport:
    written: int = 0
    total: int = 0
    failures: list[str] = field(default_factory=list)     # "relative/path: one-line error", in order

    def summary(self, out_dir: Path) -> str:
        return (f"inpainted {self.written} of {self.total} images into {out_dir}"
                + (f"; {len(self.failures)} failed:" if self.failures else ""))


def fill_folder(pipe, folder: Path, out_dir: Path, mask: Path | None, mask_dir: Path | None,
                settings: Settings, progress: bool = True) -> FolderReport:
    """Fill every photo of ``folder`` (with ``mask`` for all, or each one's own in ``mask_dir``) into
    ``out_dir``, BATCH_PHOTOS at a time; a file that fails is reported and the others go on."""
    from tqdm import tqdm

    from .data import list_images

    images = list_images(folder)
    outputs = batch_outputs(images, folder, out_dir, settings.candidates)   # name clashes: before any work
    report = FolderReport(total=len(images))
    bar = tqdm(total=len(images), desc="inpainting", unit="image", disable=not progress, dynamic_ncols=True)
    pending: list[tuple[int, Path, tuple]] = []     # (index in the folder, file, (photo, mask, prepared))
    k, seed = settings.candidates, settings.seed

    def flush() -> None:
        """Fill the pending photos with one model call, then write each; a failure is that file's."""
        if not pending:
            return
        try:
            results = pipe.run([item[2][2] for item in pending], k, seed, [item[0] for item in pending])
        except ValueError:
            results = []         # one photo spoiled the batch: run each alone, so only it fails
            for index, path, (_, _, prepared) in pending:
                try:
                    results.append(pipe.run([prepared], k, seed, [index])[0])
                except ValueError as exc:
                    results.append(exc)
        for (index, path, (photo, hole, _)), done in zip(pending, results):
            try:
                if isinstance(done, Exception):
                    raise done
                _write_results(photo, hole, done, outputs[path], k)
                report.written += 1
            except (UserError, ValueError, OSError) as exc:
                report.failures.append(f"{path.relative_to(folder)}: {one_line(exc)}")
        bar.update(len(pending))
        pending.clear()

    for index, path in enumerate(images):
        rel = path.relative_to(folder)
        try:
            mask_path = mask if mask is not None else mask_for(path.stem, mask_dir / rel.parent)
            loaded = _prepare_file(pipe, path, mask_path, settings)
        except (UserError, ValueError, OSError) as exc:
            report.failures.append(f"{rel}: {one_line(exc)}")
            bar.update(1)
            continue
        if pending and (len(pending) >= BATCH_PHOTOS or
                        sum(item[2][0].rgb.shape[0] * item[2][0].rgb.shape[1] for item in pending)
                        + loaded[0].rgb.shape[0] * loaded[0].rgb.shape[1] > BATCH_PIXELS):
            flush()
        pending.append((index, path, loaded))
    flush()
    bar.close()
    return report
