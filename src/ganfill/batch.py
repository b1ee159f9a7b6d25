"""``ganfill inpaint``'s runner: one photo, or a folder of them, filled through :class:`ganfill.Pipeline`
and written with :meth:`Photo.save`.

It checks the options, loads the method once, matches each photo of a folder to its mask, decides
every output name before any work (name clashes), fills the photos a batch at a time (one model call
per batch) and reports per file.  Warnings and notes go to stderr as ``ganfill: ...`` lines; what was
written comes back to the caller (the CLI prints it).  Heavy modules are imported on first use.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from .errors import UserError, one_line
from .console import progress_note, say
from .outputs import batch_outputs, check_output, output_paths, refuse_overwriting

#: a folder is filled this many photos at a time (one model call for all their crops): photos
#: ``16 i .. 16 i + 15`` in file-name order, whoever runs them (see :func:`fill_batch`) ...
BATCH_PHOTOS = 16
#: ... and fewer when their pixels add up to more than this (one photo at the size limit)
BATCH_PIXELS = 64_000_000





def check_options(image: Path, output: Path, mask: Path | None, mask_dir: Path | None, candidates: int = 1,
                  box: str | None = None, seed: int = 0, crop: str = "face", is_dir=Path.is_dir,
                  overwrite: bool = False, require_face: bool = False) -> tuple[bool, "Settings"]:
    """The options' own errors, before any model is loaded -> (whether ``image`` is a folder, the
    :class:`Settings` every photo is filled with; ``box``: ``X,Y,W,H`` or None to detect the face;
    ``is_dir``: whether a path is a folder, for folders that are not on this machine; ``overwrite``:
    allow writing over the input photo or a mask; ``require_face``: a photo with no face found is
    an error, not a fill by the general inpainter)."""
    from . import inputs

    try:
        candidates, seed = inputs.check_candidates(candidates), inputs.check_seed(seed)
        parsed = inputs.as_box(box) if box else None
    except (ValueError, TypeError) as exc:
        raise UserError(str(exc)) from None
    if mask is None and mask_dir is None:
        raise UserError("give the hole with --mask MASK (or --mask-dir MDIR for a folder of images)")
    if mask is not None and mask_dir is not None:
        raise UserError("give either --mask or --mask-dir, not both")
    folder = is_dir(image)
    if mask_dir is not None and not folder:
        raise UserError("--mask-dir goes with a folder of images; for one image use --mask")
    if mask_dir is not None and not is_dir(mask_dir):
        raise UserError(f"{mask_dir}: no such folder")
    if output.suffix and folder:
        raise UserError(f"{output}: with a folder of images, -o names the output folder")
    if not folder:
        check_output(output)
    if not overwrite:
        refuse_overwriting(image, output, mask, mask_dir, folder, candidates)
    if output.suffix.lower() in (".jpg", ".jpeg"):
        say("warning: JPEG is lossy, so pixels outside the hole will not stay exactly as they were; "
             "write .png to keep them")
    return folder, Settings(candidates, seed, parsed, crop, bool(require_face))


def check_method(method: str | None, iterations: int | None, candidates: int) -> str:
    """The method's name; an error for an option it does not take, or candidates it cannot give
    (before a whole folder fails file by file), without loading it."""
    from .methods import DEFAULT_METHOD, method_class, method_options

    method = method or DEFAULT_METHOD
    if iterations is not None and "iterations" not in method_options(method):
        raise UserError(f"method {method!r} takes no --iterations")
    try:
        method_class(method).check_candidates(candidates)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    return method


def load_pipeline(method: str | None, device: str, iterations: int | None, detail: bool | None, candidates: int):
    """The method, checked (:func:`check_method`) and loaded once."""
    from .pipeline import Pipeline

    method = check_method(method, iterations, candidates)
    with progress_note(f"loading {method}"):
        return Pipeline.from_pretrained(method, device=device, detail=detail,
                                        **({"iterations": iterations} if iterations is not None else {}))


@dataclass
class Settings:
    """How every photo of one command is filled."""
    candidates: int = 1
    seed: int = 0
    box: object = None          # a ganfill.data.faces.Box, or None: detect the face
    crop: str = "face"
    require_face: bool = False  # no face found: an error, not a fill by the general inpainter

    def options(self) -> dict:
        """The pipeline's options for every photo."""
        return {"seed": self.seed, "box": self.box, "crop": self.crop, "require_face": self.require_face}


def _load_file(image_path: Path, mask_path: Path):
    """Load one photo and its mask -> (photo, mask); a one-line error (ValueError, OSError) for a
    bad file.  A mask of another size is resized (nearest neighbour) with a warning."""
    from .data import load_mask, load_photo, resize_mask

    photo = load_photo(image_path)
    h, w = photo.rgb.shape[:2]
    notes: list[str] = []
    mask = load_mask(mask_path, notes=notes)
    for line in notes:
        say(f"warning: {mask_path.name}: {line}")
    if mask.shape != (h, w):
        say(f"warning: {mask_path.name}: mask is {mask.shape[1]}x{mask.shape[0]}, image is {w}x{h}; "
             f"resizing the mask (nearest neighbour)")
        mask = resize_mask(mask, (h, w))
    if not mask.any():
        say(f"{mask_path.name}: the mask has no hole; writing the image unchanged")
    return photo, mask


def photo_index(name: str) -> int:
    """The number a folder's photo is seeded from, with the command's seed: a hash of its name
    (its path in the folder, ``/``-separated), so that its result depends on neither its place in
    the folder nor the batch, worker or run that fills it."""
    return int.from_bytes(hashlib.sha256(os.fsencode(name)).digest()[:8], "big") >> 1


def _write_results(photo, mask, done, output: Path, k: int) -> list[Path]:
    """Write the K results of one photo; returns the files written."""
    paths = output_paths(output, k)
    for path, image in zip(paths, done.images):
        # The photo writes itself: its ICC profile, EXIF and DPI go with it; RGBA to JPEG is
        # composited on white as the model saw it, with a warning.
        for line in photo.save(photo.with_fill(image, mask), path):
            say(f"warning: {line}")
    return paths


def fill_photo(pipe, image: Path, mask: Path, output: Path, settings: Settings) -> list[Path]:
    """Fill one photo; returns the files written."""
    photo, hole = _load_file(image, mask)
    with progress_note(f"filling {image.name} with {pipe.name}"):
        done = _cli_words(pipe)(photo.rgb, hole, settings.candidates, **settings.options())
    _report(image.name, done)
    return _write_results(photo, hole, done, output, settings.candidates)


def _cli_words(pipe):
    """``pipe``, with its "no face found" said in the CLI's flags."""
    from .photo import NoFaceError

    def call(*args, **kwargs):
        try:
            return pipe(*args, **kwargs)
        except NoFaceError as exc:
            raise UserError(exc.worded("cli")) from None
    return call


def _report(name: str, done) -> None:
    """A photo's warnings, and what filled it when the method split the hole."""
    for line in done.warnings:
        say(f"warning: {name}: {line}")
    if done.general or done.faces > 1:
        say(f"{name}: {done.summary()}")


def mask_for(stem: str, mask_dir: Path, is_file=Path.is_file) -> Path:
    """The mask of the photo named ``stem`` in ``mask_dir``: ``stem.png`` first, then any image suffix
    (``is_file``: whether a path is a file, for a folder that is not on this machine)."""
    from .data.dataset import IMAGE_SUFFIXES

    for suffix in (".png", *IMAGE_SUFFIXES):
        for candidate in (mask_dir / f"{stem}{suffix}", mask_dir / f"{stem}{suffix.upper()}"):
            if is_file(candidate):
                return candidate
    raise UserError(f"no mask named {stem}.png (or .jpg, ...) in {mask_dir}")


@dataclass
class FolderReport:
    written: int = 0
    total: int = 0
    failures: list[str] = field(default_factory=list)     # "relative/path: one-line error", in order
    ignored: list[str] = field(default_factory=list)      # what the folder held that was not read, and why
    skipped: int = 0        # outputs already complete, not made again (``--ray``'s resume)

    def summary(self, out_dir: Path) -> str:
        return (f"inpainted {self.written} of {self.total} images into {out_dir}"
                + (f", {self.skipped} skipped (their outputs were already complete)" if self.skipped else "")
                + (f"; {len(self.failures)} failed:" if self.failures else ""))


@dataclass
class Job:
    """One photo of a folder: its name (its path in the folder, ``/``-separated), its files, and
    whether its output is to be written (False: it is there already; the photo still goes into its
    batch, which must be the same as in a run that writes it)."""
    name: str
    image: Path
    mask: Path
    output: Path
    write: bool = True


def fill_batch(pipe, jobs: list[Job], settings: Settings) -> list[str | None]:
    """Fill one batch of a folder -> each job's one-line error, or None.

    A batch is the photos of one BATCH_PHOTOS range of the folder, in order, whoever fills it (this
    process or a Ray worker): a batched convolution may round a last bit differently in another
    batch, so the same batches give the same bytes.  Photos that fail to load drop out; the rest
    go to the model BATCH_PIXELS at a time, and a batch one photo spoils is run photo by photo."""
    from .photo import NoFaceError

    errors: list[str | None] = [None] * len(jobs)
    loaded: list[tuple[int, tuple]] = []        # (place in jobs, (photo, mask))
    for i, job in enumerate(jobs):
        try:
            loaded.append((i, _load_file(job.image, job.mask)))
        except (UserError, ValueError, OSError) as exc:
            errors[i] = one_line(exc)
    k = settings.candidates
    parts: list[list[tuple[int, tuple]]] = []
    for item in loaded:
        pixels = sum(it[1][0].rgb.shape[0] * it[1][0].rgb.shape[1] for it in parts[-1]) if parts else 0
        if not parts or pixels + item[1][0].rgb.shape[0] * item[1][0].rgb.shape[1] > BATCH_PIXELS:
            parts.append([])
        parts[-1].append(item)
    for part in parts:
        if not any(jobs[i].write for i, _ in part):
            continue
        indices = [photo_index(jobs[i].name) for i, _ in part]
        photos, holes = [item[1][0].rgb for item in part], [item[1][1] for item in part]
        options = settings.options()
        try:
            # A photo that cannot be filled (no face, ...) comes back as its error; the others go
            # to the model in one call.
            results = pipe(photos, holes, k, index=indices, errors="return", **options)
        except ValueError:
            results = []         # the model call itself failed: run each alone, so only its photo fails
            for photo, hole, index in zip(photos, holes, indices):
                try:
                    results.append(_cli_words(pipe)(photo, hole, k, index=index, **options))
                except (UserError, ValueError) as exc:
                    results.append(exc)
        for (i, (photo, hole)), done in zip(part, results):
            if not jobs[i].write:
                continue
            try:
                if isinstance(done, NoFaceError):
                    raise UserError(done.worded("cli"))
                if isinstance(done, Exception):
                    raise done
                _report(jobs[i].name, done)
                _write_results(photo, hole, done, jobs[i].output, k)
            except (UserError, ValueError, OSError) as exc:
                errors[i] = one_line(exc)
    return errors


def fill_folder(pipe, folder: Path, out_dir: Path, mask: Path | None, mask_dir: Path | None,
                settings: Settings, progress: bool = True) -> FolderReport:
    """Fill every photo of ``folder`` (with ``mask`` for all, or each one's own in ``mask_dir``) into
    ``out_dir``, a batch (:func:`fill_batch`) at a time; a file that fails is reported and the others go on."""
    from tqdm import tqdm

    from .data import scan_images

    images, ignored = scan_images(folder, exclude=[out_dir])    # a run never reads its own results
    outputs = batch_outputs(images, folder, out_dir, settings.candidates)   # name clashes: before any work
    report = FolderReport(total=len(images), ignored=ignored)
    bar = tqdm(total=len(images), desc="inpainting", unit="image", disable=not progress, dynamic_ncols=True)
    for start in range(0, len(images), BATCH_PHOTOS):
        chunk = [path.relative_to(folder) for path in images[start:start + BATCH_PHOTOS]]
        errors: dict[Path, str | None] = {}
        jobs = []
        for rel in chunk:
            try:
                mask_path = mask if mask is not None else mask_for(rel.stem, mask_dir / rel.parent)
            except UserError as exc:
                errors[rel] = one_line(exc)
                continue
            jobs.append(Job(rel.as_posix(), folder / rel, mask_path, outputs[folder / rel]))
        errors.update(zip((Path(job.name) for job in jobs), fill_batch(pipe, jobs, settings)))
        for rel in chunk:
            if errors[rel] is None:
                report.written += 1
            else:
                report.failures.append(f"{rel}: {errors[rel]}")
        bar.update(len(chunk))
    bar.close()
    return report
