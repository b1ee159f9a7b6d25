"""The ``ganfill`` command.  Every user error ends in one line on stderr and a non-zero exit code."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import traceback
from pathlib import Path

from . import __version__

EXIT_USAGE = 2
EXIT_ERROR = 1
PACKAGE_DIR = Path(__file__).resolve().parent


class UserError(Exception):
    """A problem with what the user asked for, reported as one line."""


def _is_user_error(exc: BaseException) -> bool:
    """Reported in one line: a :class:`UserError`, an ``OSError`` (a file, a disk, a permission), and a
    ``ValueError`` that ganfill raised about its input (its own classes: ImageError, CheckpointError,
    NoFaceError; or a ``raise ValueError`` in ganfill's code).  A ValueError from inside a library
    is a bug and keeps its traceback."""
    if isinstance(exc, (UserError, OSError)) or type(exc).__module__.startswith("ganfill."):
        return True
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and Path(tb.tb_frame.f_code.co_filename).resolve().is_relative_to(PACKAGE_DIR)


def _add_loop_args(p: argparse.ArgumentParser, epochs: int, batch: int) -> None:
    p.add_argument("--data", type=Path, default=None, help="folder of face images (default: shared celeba/train)")
    p.add_argument("--out", type=Path, required=True, help="run folder for checkpoints, logs and samples")
    p.add_argument("--epochs", type=int, default=epochs, help="total epochs (a resumed run continues to this)")
    p.add_argument("--batch-size", type=int, default=batch, help="global batch size")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true", help="continue from RUN_DIR/checkpoint.safetensors")
    p.add_argument("--checkpoint-minutes", type=float, default=5.0)
    p.add_argument("--max-steps", type=int, default=None, help="stop after this many steps")
    p.add_argument("--max-minutes", type=float, default=None,
                   help="stop after this many minutes of this run, with a checkpoint (resume to go on)")
    p.add_argument("--limit", type=int, default=None, help="use only the first N images")
    p.add_argument("--dry-run", action="store_true", help="a few steps on random images, for smoke tests")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--dump-replicas", action="store_true", help=argparse.SUPPRESS)


def cmd_train(args) -> int:
    """Every ``train-*`` command: :func:`ganfill.train.builders.train` with the parsed options."""
    from .train.builders import train

    train(args.recipe, **{k: v for k, v in vars(args).items() if k not in ("func", "command", "recipe", "debug")})
    return 0


EXPORT_KINDS = ("gan", "encoder", "refiner", "context-encoder")


def _add_export_args(p: argparse.ArgumentParser, kind: str | None = None) -> None:
    p.add_argument("checkpoint", type=Path, help="a training run's checkpoint.safetensors")
    p.add_argument("-o", "--output", type=Path, required=True)
    p.set_defaults(func=cmd_export, **({"kind": kind} if kind else {}))


def cmd_export(args) -> int:
    """``ganfill export KIND CHECKPOINT -o OUT`` (and its ``export-KIND`` aliases)."""
    from .weights import export

    export(args.kind, args.checkpoint, args.output)
    print(f"wrote {args.output}")
    return 0


def cmd_sample(args) -> int:
    from .data import save_image_atomic
    from .train.pictures import sample_grid
    from .weights import load_gan

    if args.n < 1:
        raise UserError("-n must be at least 1")
    save_image_atomic(sample_grid(load_gan(args.weights)[0], args.n, args.seed), args.output)
    print(f"wrote {args.n} samples to {args.output}")
    return 0


def _output_paths(output: Path, k: int) -> list[Path]:
    return [output] if k == 1 else [output.with_name(f"{output.stem}-{i}{output.suffix}") for i in range(1, k + 1)]


OUTPUT_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


def _check_output(path: Path) -> None:
    if path.suffix.lower() not in OUTPUT_SUFFIXES:
        raise UserError(f"{path}: output must end in .png, .jpg or .webp")


def _prepare_file(pipe, image_path: Path, mask_path: Path, args):
    """Load one photo and its mask and cut the model's crop -> (photo, mask, prepared); a one-line
    error (ValueError, OSError) for a bad file, a box outside the photo, no face, ..."""
    from .data import load_mask, load_photo, resize_mask

    photo = load_photo(image_path)
    h, w = photo.rgb.shape[:2]
    mask = load_mask(mask_path)
    if mask.shape != (h, w):
        print(f"ganfill: warning: {mask_path.name}: mask is {mask.shape[1]}x{mask.shape[0]}, image is {w}x{h}; "
              f"resizing the mask (nearest neighbour)", file=sys.stderr)
        mask = resize_mask(mask, (h, w))
    prepared = pipe.prepare(photo.rgb, mask, args.box, args.crop)
    if prepared.source == "no hole":
        print(f"ganfill: {mask_path.name}: the mask has no hole; writing the image unchanged", file=sys.stderr)
    return photo, mask, prepared


def _write_results(photo, mask, done, output: Path, args) -> list[Path]:
    """Write the K results of one photo; returns the files written."""
    paths = _output_paths(output, args.candidates)
    for path, image in zip(paths, done.images):
        # The photo writes itself: its ICC profile, EXIF and DPI go with it; RGBA to JPEG is
        # composited on white as the model saw it, with a warning.
        for line in photo.save(photo.with_fill(image, mask), path):
            print(f"ganfill: warning: {line}", file=sys.stderr)
    return paths


#: a folder is filled this many photos at a time (one model call for all their crops) ...
BATCH_PHOTOS = 16
#: ... and fewer when their pixels add up to more than this (one photo at the size limit)
BATCH_PIXELS = 64_000_000


def _one_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _batch_outputs(images: list[Path], root: Path, out_dir: Path, k: int) -> dict[Path, Path]:
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
                print(f"ganfill: note: {rel} and {others} would both write {target}; writing {outputs[path].name} "
                      f"for {rel.name}", file=sys.stderr)
    written: dict[Path, Path] = {}
    for path, output in outputs.items():
        for file in _output_paths(output, k):
            if file in written:
                raise UserError(f"{path.relative_to(root)} and {written[file].relative_to(root)} would both write "
                                f"{file}; rename one of them")
            written[file] = path
    return outputs


def _mask_for(stem: str, mask_dir: Path) -> Path:
    from .data.dataset import IMAGE_SUFFIXES

    for suffix in (".png", *IMAGE_SUFFIXES):
        for candidate in (mask_dir / f"{stem}{suffix}", mask_dir / f"{stem}{suffix.upper()}"):
            if candidate.is_file():
                return candidate
    raise UserError(f"no mask named {stem}.png (or .jpg, ...) in {mask_dir}")


def cmd_inpaint(args) -> int:
    from .data import list_images
    from .data.faces import Box
    from .methods import method_options
    from .pipeline import Pipeline

    if args.candidates < 1:
        raise UserError("--candidates must be at least 1")
    if args.mask is None and args.mask_dir is None:
        raise UserError("give the hole with --mask MASK (or --mask-dir MDIR for a folder of images)")
    if args.mask is not None and args.mask_dir is not None:
        raise UserError("give either --mask or --mask-dir, not both")
    batch = args.image.is_dir()
    if args.mask_dir is not None and not batch:
        raise UserError("--mask-dir goes with a folder of images; for one image use --mask")
    if args.mask_dir is not None and not args.mask_dir.is_dir():
        raise UserError(f"{args.mask_dir}: no such folder")
    if args.output.suffix and batch:
        raise UserError(f"{args.output}: with a folder of images, -o names the output folder")
    if not batch:
        _check_output(args.output)
    args.box = Box.parse(args.box) if args.box else None
    if args.output.suffix.lower() in (".jpg", ".jpeg"):
        print("ganfill: warning: JPEG is lossy, so pixels outside the hole will not stay exactly as they were; "
              "write .png to keep them", file=sys.stderr)
    options = {"iterations": args.iterations}
    accepted = method_options(args.method)
    for key in ("iterations",):
        if options[key] is not None and key not in accepted:
            raise UserError(f"method {args.method!r} takes no --{key}")
    detail = {} if args.detail is None else {"detail": args.detail}
    pipe = Pipeline.from_pretrained(args.method, device=args.device, **detail,
                                    **{k: v for k, v in options.items() if v is not None})
    if args.candidates > 1 and not pipe.method.gives_candidates:   # before a whole folder fails file by file
        raise UserError(f"method {args.method!r} gives a single answer; several candidates need an lsgan method")

    if not batch:
        photo, mask, prepared = _prepare_file(pipe, args.image, args.mask, args)
        done = pipe.run([prepared], args.candidates, args.seed)[0]
        paths = _write_results(photo, mask, done, args.output, args)
        print("wrote " + ", ".join(str(p) for p in paths))
        return 0

    from tqdm import tqdm

    images = list_images(args.image)
    outputs = _batch_outputs(images, args.image, args.output, args.candidates)   # name clashes: before any work
    failures: list[str] = []
    written = 0
    progress = tqdm(total=len(images), desc="inpainting", unit="image", disable=args.no_progress, dynamic_ncols=True)
    pending: list[tuple[int, Path, tuple]] = []     # (index in the folder, file, (photo, mask, prepared))

    def flush() -> None:
        """Fill the pending photos with one model call, then write each; a failure is that file's."""
        nonlocal written
        if not pending:
            return
        try:
            results = pipe.run([item[2][2] for item in pending], args.candidates, args.seed,
                               [item[0] for item in pending])
        except ValueError:
            results = []         # one photo spoiled the batch: run each alone, so only it fails
            for index, path, (_, _, prepared) in pending:
                try:
                    results.append(pipe.run([prepared], args.candidates, args.seed, [index])[0])
                except ValueError as exc:
                    results.append(exc)
        for (index, path, (photo, mask, _)), done in zip(pending, results):
            try:
                if isinstance(done, Exception):
                    raise done
                _write_results(photo, mask, done, outputs[path], args)
                written += 1
            except (UserError, ValueError, OSError) as exc:
                failures.append(f"{path.relative_to(args.image)}: {_one_line(exc)}")
        progress.update(len(pending))
        pending.clear()

    for index, path in enumerate(images):
        rel = path.relative_to(args.image)
        try:
            mask_path = args.mask if args.mask is not None else _mask_for(path.stem, args.mask_dir / rel.parent)
            loaded = _prepare_file(pipe, path, mask_path, args)
        except (UserError, ValueError, OSError) as exc:
            failures.append(f"{rel}: {_one_line(exc)}")
            progress.update(1)
            continue
        if pending and (len(pending) >= BATCH_PHOTOS or
                        sum(item[2][0].rgb.shape[0] * item[2][0].rgb.shape[1] for item in pending)
                        + loaded[0].rgb.shape[0] * loaded[0].rgb.shape[1] > BATCH_PIXELS):
            flush()
        pending.append((index, path, loaded))
    flush()
    progress.close()
    print(f"inpainted {written} of {len(images)} images into {args.output}"
          + (f"; {len(failures)} failed:" if failures else ""))
    for line in failures:
        print(f"  {line}", file=sys.stderr)
    return EXIT_ERROR if failures else 0


def cmd_serve(args) -> int:
    import uvicorn

    from .methods import method_options
    from .server.app import ServerConfig, create_app, uvicorn_config

    if not 0 < args.port < 65536:
        raise UserError("--port must be 1 to 65535")
    if args.max_queue < 1 or args.workers < 1 or args.max_upload_mb <= 0 or args.timeout <= 0:
        raise UserError("--max-queue, --workers, --max-upload-mb and --timeout must be positive")
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"ganfill: warning: serving on {args.host}, reachable from other machines", file=sys.stderr)
    config = ServerConfig(method=args.method, device=args.device, max_upload_mb=args.max_upload_mb,
                          max_queue=args.max_queue, workers=args.workers, timeout_s=args.timeout)
    method_options(config.method)          # an unknown default method fails now, not at the first request
    print(f"ganfill: serving on http://{args.host}:{args.port}/ (API docs at /docs)", file=sys.stderr)
    # uvicorn_config: keep-alive and header deadlines (the body's are the app's middleware).
    uvicorn.Server(uvicorn_config(create_app(config), args.host, args.port)).run()
    return 0


def cmd_methods(args) -> int:
    """One line per method: name, the size it works at, speed, candidates, what it is."""
    from .methods import method_class, method_names

    for name in method_names():
        cls = method_class(name)
        size = f"{cls.fixed_size} px" if cls.fixed_size else "any size"
        several = "candidates" if cls.gives_candidates else "one answer"
        print(f"{name:<16} {size:<9} {cls.speed:<7} {several:<11} {cls.description}")
    return 0


def cmd_evaluate(args) -> int:
    from .data import MASK_KINDS, default_data_root
    from .evaluate import evaluate, format_table, results_grid, save_grid, write_json_atomic

    if args.mask not in MASK_KINDS:
        raise UserError(f"unknown mask kind {args.mask!r}; choose from {', '.join(MASK_KINDS)}")
    if args.grid and args.grid.suffix.lower() not in (".png", ".jpg", ".jpeg", ".webp"):
        raise UserError(f"{args.grid}: the grid must be a .png, .jpg or .webp file")
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    if not methods:
        raise UserError("--methods is empty")
    limits = {}
    for item in args.method_limit or []:
        name, _, n = item.partition("=")
        if not n.isdigit():
            raise UserError(f"--method-limit wants NAME=N, got {item!r}")
        limits[name] = int(n)
    data = args.data or default_data_root() / "celeba" / "test"
    report, images, masks, results = evaluate(data, args.mask, methods, args.limit, args.seed, args.batch_size,
                                              progress=not args.no_progress, method_limits=limits,
                                              device=args.device, candidates=args.candidates,
                                              face_metrics=not args.no_face_metrics, detail=args.detail,
                                              warn=lambda line: print(f"ganfill: {line}", file=sys.stderr))
    print(format_table(report))
    if args.json:
        write_json_atomic(report, args.json)
    if args.grid:
        save_grid(results_grid(images, masks, results), args.grid)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ganfill", description="Fill holes in face images with a GAN prior.")
    parser.add_argument("--version", action="version", version=f"ganfill {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show the traceback behind an error message (or set GANFILL_DEBUG=1)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train-gan", help="train the LSGAN")
    _add_loop_args(p, epochs=25, batch=64)
    p.add_argument("--config", default="quarter", help="paper, half, quarter or tiny")
    p.add_argument("--loss", default=None, choices=["01", "chi2"], help="LSGAN targets: 01 (a=0,b=1,c=1) or chi2 (a=-1,b=1,c=0)")
    p.set_defaults(func=cmd_train, recipe="gan")

    p = sub.add_parser("train-encoder", help="train the latent encoder against a frozen generator")
    _add_loop_args(p, epochs=10, batch=64)
    p.add_argument("--config", default="default", help="default or tiny")
    p.add_argument("--gan", type=Path, default=None, help="GAN weights to train against (default: shipped)")
    p.set_defaults(func=cmd_train, recipe="encoder")

    p = sub.add_parser("train-refiner", help="train the autoencoder refiner on the LSGAN's completions")
    _add_loop_args(p, epochs=20, batch=64)
    p.add_argument("--arch", default="unet", help="unet (ours), paper (the thesis's autoencoder), tiny or tiny-paper")
    p.add_argument("--input", default="lsgan", choices=["lsgan", "empty"],
                   help="lsgan: refine the fast-path LSGAN completion; empty: the hole left empty (ae-only)")
    p.add_argument("--adv-weight", type=float, default=0.0,
                   help="weight of the frozen LSGAN discriminator's loss on the output (default 0: L1 only)")
    p.add_argument("--iterations", type=int, default=None,
                   help="latent-search iterations of the LSGAN input (default: the fast path's)")
    p.add_argument("--ssim-weight", type=float, default=0.0,
                   help="add this weight times 1 - SSIM(output, truth) to the loss (default 0: L1 only)")
    p.add_argument("--init", type=Path, default=None, help="start from these refiner weights (fine-tuning)")
    p.add_argument("--lr", type=float, default=None, help="Adam learning rate (default 5e-4)")
    p.add_argument("--gan", type=Path, default=None, help="GAN weights for the input and D (default: shipped)")
    p.add_argument("--encoder", type=Path, default=None, help="latent-encoder weights (default: shipped)")
    p.set_defaults(func=cmd_train, recipe="refiner")

    p = sub.add_parser("train-context-encoder", help="train the Context Encoder baseline (Pathak et al. 2016)")
    _add_loop_args(p, epochs=20, batch=64)
    p.add_argument("--config", default="default", help="default (512 x 4 x 4 bottleneck), half or tiny")
    p.add_argument("--adv-weight", type=float, default=None,
                   help="adversarial weight against 0.999 reconstruction (default 0.001, Pathak et al.)")
    p.set_defaults(func=cmd_train, recipe="context-encoder")

    p = sub.add_parser("export", help="write a training checkpoint's shipping part as fp16 weights")
    p.add_argument("kind", choices=EXPORT_KINDS)
    _add_export_args(p)
    for kind in EXPORT_KINDS:   # the older spelling, one command per kind
        _add_export_args(sub.add_parser(f"export-{kind}", help=f"the same as `export {kind}`"), kind)

    p = sub.add_parser("sample", help="write a grid of faces from the generator")
    p.add_argument("-n", type=int, default=64)
    p.add_argument("-o", "--output", type=Path, default=Path("samples.png"))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--weights", type=Path, default=None, help="GAN weights (default: the shipped ones)")
    p.set_defaults(func=cmd_sample)
    p = sub.add_parser("inpaint", help="fill the hole of a photo, or of every photo in a folder")
    p.add_argument("image", type=Path, help="a photo of any size, or a folder of them")
    p.add_argument("--mask", type=Path, default=None, help="mask image: white / nonzero = hole (one for all)")
    p.add_argument("--mask-dir", type=Path, default=None, help="folder of masks matched to the images by file stem")
    p.add_argument("-o", "--output", type=Path, required=True, help="output file (or folder, for a folder)")
    p.add_argument("--method", default="lsgan+ae", help="any method of `ganfill methods` (default lsgan+ae)")
    p.add_argument("--candidates", type=int, default=1, help="write K alternatives OUT-1 ... OUT-K, best first")
    p.add_argument("--box", default=None, metavar="X,Y,W,H", help="the face's box, instead of detecting it")
    p.add_argument("--crop", default="face", choices=["face", "hole"],
                   help="the square the model sees: around the detected face (default), or around the hole")
    p.add_argument("--iterations", type=int, default=None, help="latent-search iterations (lsgan methods)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--detail", action=argparse.BooleanOptionalAction, default=None,
                   help="fixed-size methods: add the photo's own fine detail where the face crop is larger "
                        "than the model's size (default: as docs/results.md's measurement chose)")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_inpaint)

    p = sub.add_parser("serve", help="the web page with a brush, and the REST API")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: this machine only)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--method", default="lsgan+ae", help="the default method of a request")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"],
                   help="where the networks run (auto: a CUDA GPU if there is one, as ganfill inpaint)")
    p.add_argument("--max-upload-mb", type=float, default=20.0, help="per request (image and mask together)")
    p.add_argument("--max-queue", type=int, default=8, help="requests running or waiting; more get 503")
    p.add_argument("--workers", type=int, default=1, help="requests computed at once")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds before a request gets 504")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("methods", help="list the inpainting methods")
    p.set_defaults(func=cmd_methods)

    p = sub.add_parser("evaluate", help="score methods on a folder of square faces, at their own size")
    p.add_argument("--data", type=Path, default=None,
                   help="folder of square faces of one size: 64 px (default: shared celeba/test) or e.g. "
                        "256 px (celeba-wild/test); masks scale with the size")
    p.add_argument("--mask", default="center", help="center, box, free, half or pixels")
    p.add_argument("--methods", default="mean,telea,navier-stokes,biharmonic", help="comma-separated method names")
    p.add_argument("--limit", type=int, default=None, help="the first N images in file-name order")
    p.add_argument("--method-limit", action="append", metavar="NAME=N", help="run NAME on only the first N images")
    p.add_argument("--seed", type=int, default=0, help="seed of the generated masks")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"],
                   help="for the methods that run networks (default auto, as everywhere: the GPU if there is one)")
    p.add_argument("--candidates", type=int, default=1,
                   help="K candidates per image from the methods that give several: adds `diversity`; "
                        "the other columns score candidate 1")
    p.add_argument("--no-face-metrics", action="store_true", help="skip fd_dlib and identity (dlib)")
    p.add_argument("--detail", action=argparse.BooleanOptionalAction, default=None,
                   help="fixed-size methods on larger images: add the photo's own fine detail above the "
                        "model's size, as `ganfill inpaint --detail` (default: as for ganfill inpaint)")
    p.add_argument("--json", type=Path, default=None)
    p.add_argument("--grid", type=Path, default=None)
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_evaluate)
    for command in sub.choices.values():   # --debug after the command too
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):
        # File names need not be UTF-8 (POSIX allows any bytes); print them escaped, never crash on them.
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    parser = build_parser()
    args = parser.parse_args(argv)
    previous = _sigterm_as_interrupt()
    try:
        import torch
        torch.set_num_threads(int(os.environ.get("GANFILL_THREADS", torch.get_num_threads())))
        return args.func(args)
    except KeyboardInterrupt as exc:
        # Every `with` and `except BaseException` has run on the way here: temp files are gone.
        print("ganfill: interrupted" + (" (SIGTERM)" if isinstance(exc, Terminated) else ""), file=sys.stderr)
        return 128 + int(signal.SIGTERM) if isinstance(exc, Terminated) else 130
    except (ValueError, OSError, UserError) as exc:
        if not _is_user_error(exc):
            raise           # a bug: its traceback, not a one-line message
        if args.debug or os.environ.get("GANFILL_DEBUG", "") not in ("", "0"):
            traceback.print_exc()
        print(f"ganfill: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_ERROR
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, so that it unwinds like Ctrl-C."""


def _sigterm_as_interrupt():
    """Turn SIGTERM (what `kill`, systemd and container runtimes send) into :class:`Terminated`, so
    a half-written output's temp file is removed on the way out instead of left behind.  Returns
    the previous handler (None where signals cannot be set: outside the main thread)."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        return None

    def terminate(signum, frame):
        raise Terminated()

    return signal.signal(signal.SIGTERM, terminate)


if __name__ == "__main__":
    sys.exit(main())
