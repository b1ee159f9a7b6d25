"""``ganfill inpaint FOLDER --ray``: the folder runner of :mod:`ganfill.batch` on Ray Data.

The driver lists the photos, decides every output name and matches the masks (batch.py's own
functions, so clashes and missing masks are the same errors), then hands Ray Data one row per batch
of batch.py (:data:`~ganfill.batch.BATCH_PHOTOS` photos in file-name order).  An actor pool maps the
rows: each actor loads one :class:`ganfill.Pipeline` once and fills a row with
:func:`~ganfill.batch.fill_batch`, the plain runner's own, so a photo is filled in the same batch
with the same seed (from its name) and its bytes are the plain runner's, whatever the number of
workers.  An actor holds one batch at a time, so its memory does not grow with the folder.

A row whose outputs are all there and decode is skipped without loading its photos; a row with
some missing is filled whole (the same batch) and writes only those.  Outputs are written with a
temp file and a rename (or, for a URL, uploaded when done: an object store takes an object whole or
not at all), so a killed worker leaves no half file; Ray restarts it and runs its row again.  A file
cut short some other way does not decode, so it counts as missing.

Folders may be fsspec URLs (``s3://bucket/photos``, ``gs://...``, ``file:///...``): an actor copies
its row's photos and masks to a temp folder, fills them there and uploads the outputs.  Ray is
imported only here, in functions: the plain runner never needs it.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import weakref
from pathlib import Path, PurePosixPath

from . import batch
from .outputs import batch_outputs, output_paths
from .errors import UserError, one_line
from .trees import Tree, find_masks, list_tree_images

INSTALL_HINT = "--ray needs Ray: pip install 'ganfill[ray]'"


def _ray():
    try:
        import ray
        import ray.data  # noqa: F401  (Ray without its data extra has no map_batches)
    except ImportError:
        raise UserError(INSTALL_HINT) from None
    return ray


def _omp_threads() -> str:
    """OMP_NUM_THREADS for the workers: this process's (set, or OpenMP's default, the usable cores).

    A worker computes on one thread (torch.set_num_threads), but the value OpenMP starts with
    still changes a last bit of a few results (measured: 3 of 300 256-px faces, in 1 to 7 values,
    with 1 against 2), and Ray starts its workers with 1; so the workers start as the plain run does."""
    return os.environ.get("OMP_NUM_THREADS") or str(len(os.sched_getaffinity(0)))


def _complete(open_file) -> bool:
    """Whether an output is there whole: it exists and decodes to its last pixel (``open_file``:
    its path, or a callable that opens it)."""
    from PIL import Image

    try:
        with Image.open(open_file() if callable(open_file) else open_file) as img:
            img.load()
        return True
    except Exception:       # missing, truncated, not an image: it is made again
        return False


class _Filler:
    """A Ray Data actor: one pipeline, loaded once (at its first row with work: a rerun that
    skips everything loads none); fills one row (one batch of batch.py) a call."""

    def __init__(self, load: dict, settings, trees: dict, mask_name: str | None, threads: int,
                 crash_once: str | None = None):
        import torch

        torch.set_num_threads(threads)
        self.load, self.pipe = load, None
        self.settings, self.trees, self.crash_once = settings, trees, crash_once
        self.stage = Path(tempfile.mkdtemp(prefix="ganfill-ray-"))
        weakref.finalize(self, shutil.rmtree, self.stage, ignore_errors=True)
        self.mask = None
        if mask_name is not None:          # one mask for every photo: fetched once
            self.mask = self._fetch("mask", mask_name) if trees["mask"].remote else trees["mask"].local(mask_name)

    def _fetch(self, kind: str, name: str) -> Path:
        """A file of a remote tree, copied into this actor's temp folder."""
        fs, root = self.trees[kind].fs()
        local = self.stage / kind / (name or "mask.png")
        local.parent.mkdir(parents=True, exist_ok=True)
        fs.get_file(f"{root}/{name}" if name else root, str(local))
        return local

    def _upload(self, output: Path) -> None:
        """A photo's outputs, from this actor's temp folder to the output tree."""
        fs, root = self.trees["out"].fs()
        for path in output_paths(output, self.settings.candidates):
            rel = PurePosixPath(path.relative_to(self.stage / "out").as_posix())
            fs.makedirs(f"{root}/{rel.parent}", exist_ok=True)
            fs.put_file(str(path), f"{root}/{rel}")     # an object store takes a whole object or none

    def _output(self, name: str) -> Path:
        out = self.trees["out"]
        return self.stage / "out" / name if out.remote else out.local(name)

    def __call__(self, row: dict) -> dict:
        names, masks, outputs = (list(map(str, row[key][0])) for key in ("names", "masks", "outputs"))
        if self.crash_once and int(row["chunk"][0]) == 1:
            try:                           # tests: the process dies once, in the middle of the run
                os.close(os.open(self.crash_once, os.O_CREAT | os.O_EXCL))
                os._exit(1)
            except FileExistsError:
                pass
        k = self.settings.candidates
        out = self.trees["out"]
        if out.remote:
            fs, root = out.fs()
            done = [all(_complete(lambda: fs.open(f"{root}/{p.as_posix()}", "rb"))
                        for p in output_paths(PurePosixPath(o), k)) for o in outputs]
        else:
            done = [all(_complete(p) for p in output_paths(out.local(o), k)) for o in outputs]
        status = ["skipped" if d else "done" for d in done]
        errors = [""] * len(names)
        if not all(done):
            errors = self._fill(names, masks, outputs, done)
            status = ["failed" if e else s for s, e in zip(status, errors)]
        return {"name": names, "status": status, "error": errors}

    def _fill(self, names, masks, outputs, done) -> list[str]:
        """Fill the row's batch; each photo's one-line error, or ''."""
        jobs, places, lines = [], [], [""] * len(names)
        trees = self.trees
        try:
            for i, (name, mask, output, there) in enumerate(zip(names, masks, outputs, done)):
                try:       # a photo that cannot be fetched drops out, as one that cannot be read
                    image = self._fetch("image", name) if trees["image"].remote else trees["image"].local(name)
                    mask_path = self.mask if self.mask is not None else (
                        self._fetch("mask_dir", mask) if trees["mask_dir"].remote else trees["mask_dir"].local(mask))
                except OSError as exc:
                    lines[i] = one_line(exc)
                    continue
                jobs.append(batch.Job(name, image, mask_path, self._output(output), write=not there))
                places.append(i)
            if self.pipe is None:
                self.pipe = batch.load_pipeline(**self.load)
            errors = batch.fill_batch(self.pipe, jobs, self.settings)
            for i, job, error in zip(places, jobs, errors):
                if error is not None:        # named by the URLs, not this actor's copies
                    for kind in ("image", "mask_dir"):
                        if kind in trees:
                            error = error.replace(str(self.stage / kind), trees[kind].where.rstrip("/"))
                    lines[i] = error
                elif job.write and trees["out"].remote:
                    try:
                        self._upload(job.output)
                    except OSError as exc:
                        lines[i] = one_line(exc)
        finally:
            for kind in ("image", "mask_dir", "out"):
                shutil.rmtree(self.stage / kind, ignore_errors=True)
        return lines


def run(args) -> batch.FolderReport:
    """``ganfill inpaint FOLDER ... --ray``: the options checked as for the plain runner, then
    :func:`fill_folder_ray`."""
    given = {key: getattr(args, key) for key in ("image", "output", "mask", "mask_dir")}
    trees = {key: Tree(str(value)) for key, value in given.items() if value is not None}
    urls = {PurePosixPath(tree.where): tree for tree in trees.values() if tree.remote}
    folder, settings = batch.check_options(
        *(PurePosixPath(str(given[key])) if key in trees and trees[key].remote else given[key]
          for key in ("image", "output", "mask", "mask_dir")),
        args.candidates, args.box, args.seed, args.crop,
        is_dir=lambda path: urls[path].is_dir() if path in urls else Path(path).is_dir(), overwrite=args.overwrite,
        require_face=args.require_face)
    if not folder:
        raise UserError("--ray fills a folder of photos; for one photo leave --ray out")
    if args.ray_workers is not None and args.ray_workers < 1:
        raise UserError("--ray-workers must be at least 1")
    if args.mask is not None and trees["mask"].remote:
        fs, root = trees["mask"].fs()
        if not fs.isfile(root):
            raise UserError(f"{args.mask}: no such file")
    load = {"method": args.method, "device": args.device, "iterations": args.iterations, "detail": args.detail,
            "candidates": args.candidates}
    return fill_folder_ray(str(args.image), str(args.output), None if args.mask is None else str(args.mask),
                           None if args.mask_dir is None else str(args.mask_dir), settings, load,
                           args.ray_address, args.ray_workers, not args.no_progress)


def fill_folder_ray(folder: str, out_dir: str, mask: str | None, mask_dir: str | None, settings,
                    load: dict, address: str | None = None, workers: int | None = None,
                    progress: bool = True, crash_once: str | None = None) -> batch.FolderReport:
    """Fill every photo of ``folder`` into ``out_dir`` on Ray Data, as :func:`batch.fill_folder`
    does in one process; a path may be an fsspec URL.  ``load``: :func:`batch.load_pipeline`'s
    arguments (each actor loads its own); ``address``: a running cluster's (``auto``: the one this
    machine belongs to); None: the Ray this process has started, else one started for the run on
    this machine's cores; ``workers``: actors, each a process with one CPU thread or one GPU
    (default: one per CPU of the cluster, or per GPU with ``device="cuda"``).  ``crash_once``:
    for tests, a file name: the first actor to fill the second batch, while that file is not
    there, makes it and exits."""
    ray = _ray()
    batch.check_method(load.get("method"), load.get("iterations"), load.get("candidates", 1))
    trees = {"image": Tree(folder), "out": Tree(out_dir)}
    names, ignored = list_tree_images(trees["image"], trees["out"])
    outputs = batch_outputs([Path(name) for name in names], Path(), Path(), settings.candidates)
    masks: dict[str, str | UserError] = {}
    mask_name = None
    if mask is not None:         # its folder is the tree, so that a remote one is fetched like the others
        trees["mask"] = Tree(mask.rsplit("/", 1)[0]) if Tree(mask).remote else Tree(mask)
        mask_name = mask.rsplit("/", 1)[1] if Tree(mask).remote else ""
    else:
        trees["mask_dir"] = Tree(mask_dir)
        masks = find_masks(names, trees["mask_dir"])
    failures = {name: one_line(m) for name, m in masks.items() if isinstance(m, UserError)}
    rows = []
    for chunk, start in enumerate(range(0, len(names), batch.BATCH_PHOTOS)):
        part = [name for name in names[start:start + batch.BATCH_PHOTOS] if name not in failures]
        if part:
            rows.append({"chunk": chunk, "names": part, "masks": [str(masks.get(n, "")) for n in part],
                         "outputs": [outputs[Path(n)].as_posix() for n in part]})
    report = batch.FolderReport(total=len(names), ignored=ignored)
    started = not ray.is_initialized()
    if started:
        # A Ray started for the run runs its workers at normal priority: they are the run, not
        # background work (Ray's default niceness, 15, gives them up to anything else on the machine).
        ray.init(address=address, include_dashboard=False, logging_level="info" if progress else "error",
                 **({} if address else {"_system_config": {"worker_niceness": 0}}))
    try:
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = progress
        context.print_on_execution_start = False
        if not progress:        # Ray Data's own notes ("progress bars disabled", the timing) too
            logging.getLogger("ray.data").setLevel(logging.ERROR)
        cuda = load.get("device") == "cuda"
        if workers is None:
            workers = max(1, int(ray.cluster_resources().get("GPU" if cuda else "CPU", 1)))
        if rows:
            # One row per batch, one block per row: a free actor takes the next batch.
            ds = ray.data.from_items(rows, override_num_blocks=len(rows)).map_batches(
                _Filler, batch_size=1, compute=ray.data.ActorPoolStrategy(size=workers), num_cpus=1,
                num_gpus=1 if cuda else 0, runtime_env={"env_vars": {"OMP_NUM_THREADS": _omp_threads()}},
                fn_constructor_kwargs={"load": load, "settings": settings, "trees": trees, "mask_name": mask_name,
                                       "threads": 1, "crash_once": crash_once})
            for out in ds.iter_batches(batch_size=None, batch_format="numpy"):
                for name, status, error in zip(out["name"], out["status"], out["error"]):
                    if status == "failed":
                        failures[str(name)] = str(error)
                    elif status == "skipped":
                        report.skipped += 1
                    else:
                        report.written += 1
    finally:
        if started:
            ray.shutdown()
    report.failures = [f"{name}: {failures[name]}" for name in names if name in failures]
    return report
