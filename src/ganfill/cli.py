"""The ``ganfill`` command.  Every user error ends in one line on stderr and a non-zero exit code."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import traceback
from pathlib import Path

from . import __version__
from .errors import Terminated, UserError, is_user_error, one_line, sigterm_as_interrupt

EXIT_ERROR = 1


def cmd_sample(args) -> int:
    from .data import save_image_atomic
    from .train.pictures import sample_grid
    from .weights import load_gan

    if args.n < 1:
        raise UserError("-n must be at least 1")
    save_image_atomic(sample_grid(load_gan(args.weights)[0], args.n, args.seed), args.output)
    print(f"wrote {args.n} samples to {args.output}")
    return 0


def _path_or_url(text: str) -> Path | str:
    """A file or folder: a path, or an fsspec URL (``s3://...``) kept as it is (a Path drops a slash)."""
    return text if "://" in text else Path(text)


def cmd_inpaint(args) -> int:
    from . import batch     # the runner: the checks, the batches, the writing

    if args.ray or args.ray_address is not None or args.ray_workers is not None:
        from . import batch_ray     # the same folder on Ray Data

        report = batch_ray.run(args)
    else:
        if any(isinstance(p, str) for p in (args.image, args.output, args.mask, args.mask_dir)):
            raise UserError("a URL (s3://..., gs://..., file://...) is read and written with --ray")
        folder, settings = batch.check_options(args.image, args.output, args.mask, args.mask_dir, args.candidates,
                                               args.box, args.seed, args.crop, overwrite=args.overwrite,
                                               require_face=args.require_face)
        pipe = batch.load_pipeline(args.method, args.device, args.iterations, args.detail, args.candidates)
        if not folder:
            print("wrote " + ", ".join(map(str, batch.fill_photo(pipe, args.image, args.mask, args.output, settings))))
            return 0
        report = batch.fill_folder(pipe, args.image, args.output, args.mask, args.mask_dir, settings,
                                   not args.no_progress)
    for line in report.ignored:
        print(f"ganfill: not read: {line}", file=sys.stderr)
    print(report.summary(args.output))
    for line in report.failures:
        print(f"  {line}", file=sys.stderr)
    return EXIT_ERROR if report.failures else 0


def cmd_serve(args) -> int:
    import uvicorn

    from .methods import DEFAULT_METHOD
    from .server.app import ServerConfig, create_app, uvicorn_config

    if not 0 < args.port < 65536:
        raise UserError("--port must be 1 to 65535")
    if (args.max_queue < 1 or args.workers < 1 or args.max_upload_mb <= 0 or args.timeout <= 0
            or args.max_memory_mb <= 0):
        raise UserError("--max-queue, --workers, --max-upload-mb, --max-memory-mb and --timeout must be positive")
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"ganfill: warning: serving on {args.host}, reachable from other machines", file=sys.stderr)
    config = ServerConfig(method=args.method or DEFAULT_METHOD, device=args.device, max_upload_mb=args.max_upload_mb,
                          max_queue=args.max_queue, workers=args.workers, timeout_s=args.timeout,
                          max_memory_mb=args.max_memory_mb, enable=tuple(args.enable or ()))
    app = create_app(config)        # an unknown method fails now, not at the first request
    print(f"ganfill: serving on http://{args.host}:{args.port}/ (API docs at /docs)", file=sys.stderr)
    # uvicorn_config: keep-alive and header deadlines (the body's are the app's middleware).
    uvicorn.Server(uvicorn_config(app, args.host, args.port)).run()
    return 0


def cmd_methods(args) -> int:
    """One line per method: name, the size it works at, speed, candidates, what it is."""
    from .methods import DEFAULT_METHOD, method_info, method_names

    for name in method_names():
        info = method_info(name)
        size = f"{info.fixed_size} px" if info.fixed_size else "any size"
        several = "candidates" if info.gives_candidates else "one answer"
        print(f"{name + ' *' * (name == DEFAULT_METHOD):<16} {size:<9} {info.speed:<7} {several:<11} {info.description}")
    return 0


def cmd_evaluate(args) -> int:
    from .data import IMAGE_MASK_KINDS, MASK_KINDS, default_data_root
    from .evaluate import evaluate, format_table, results_grid, save_grid, write_json_atomic

    if args.mask not in (*MASK_KINDS, *IMAGE_MASK_KINDS):
        raise UserError(f"unknown mask kind {args.mask!r}; choose from {', '.join([*MASK_KINDS, *IMAGE_MASK_KINDS])}")
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


#: the commands a user needs; the others train and export the models
EVERYDAY = ("inpaint", "serve", "methods", "evaluate")


def _command_list(sub) -> str:
    """``ganfill --help``'s list of commands: the everyday ones apart from the maintainers'."""
    helps = {action.dest: action.help for action in sub._choices_actions}
    line = lambda name: f"  {name:<24}{helps[name]}"  # noqa: E731
    return "\n".join(["commands:", *map(line, EVERYDAY), "", "training and export (for maintainers):",
                      *(line(n) for n in helps if n not in EVERYDAY and not n.startswith("export-")),
                      "", "`ganfill COMMAND --help` for a command's options."])


def build_parser() -> argparse.ArgumentParser:
    from .cli_train import CommandParser, add_train_commands
    from .inputs import MAX_CANDIDATES
    from .server.config import ServerConfig
    parser = argparse.ArgumentParser(prog="ganfill", description="Fill holes in face photos with a GAN prior.",
                                     usage="ganfill [-h] [--version] [--debug] COMMAND ...",
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"ganfill {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show the traceback behind an error message (or set GANFILL_DEBUG=1)")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=CommandParser, metavar="COMMAND",
                                help=argparse.SUPPRESS)

    add_train_commands(sub)     # train-* and export

    p = sub.add_parser("sample", help="write a grid of faces from the generator")
    p.add_argument("-n", type=int, default=64, help="how many faces (default: %(default)s)")
    p.add_argument("-o", "--output", type=Path, default=Path("samples.png"), help="(default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="seed of the latent codes (default: %(default)s)")
    p.add_argument("--weights", type=Path, default=None, help="GAN weights (default: the shipped ones)")
    p.set_defaults(func=cmd_sample)
    p = sub.add_parser("inpaint", help="fill the hole of a photo, or of every photo in a folder")
    p.add_argument("image", type=_path_or_url, help="a photo of any size, or a folder of them")
    p.add_argument("--mask", type=_path_or_url, default=None,
                   help="mask image, one for all: white = hole (pixels brighter than 127 of 255); a warning if "
                        "it covers over half the photo or has paint too faint to count")
    p.add_argument("--mask-dir", type=_path_or_url, default=None,
                   help="folder of masks matched to the images by file stem")
    p.add_argument("-o", "--output", type=_path_or_url, required=True, help="output file (or folder, for a folder)")
    p.add_argument("--method", default=None, help="any method of `ganfill methods` (default: the one it marks)")
    p.add_argument("--candidates", type=int, default=1,
                   help=f"write K alternatives OUT-1 ... OUT-K, best first, K from 1 to {MAX_CANDIDATES} (default: 1)")
    p.add_argument("--overwrite", action="store_true",
                   help="allow the output to replace the input photo or its mask (refused otherwise)")
    p.add_argument("--box", default=None, metavar="X,Y,W,H", help="the face's box, instead of detecting it")
    p.add_argument("--crop", default="face", choices=["face", "hole"],
                   help="the square the model sees: around each detected face (default; the default method "
                        "fills the hole off the faces with the classical method), or around the hole")
    p.add_argument("--require-face", action="store_true",
                   help="a photo with no face found is an error (default: the default method fills it with "
                        "the classical method and warns)")
    p.add_argument("--iterations", type=int, default=None, help="latent-search iterations (lsgan methods)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--detail", action=argparse.BooleanOptionalAction, default=None,
                   help="fixed-size methods: add the photo's own fine detail where the face crop is larger "
                        "than the model's size (default: the method's own, on for lsgan+ae-wild)")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--ray", action="store_true",
                   help="fill the folder on Ray Data: a Ray started on this machine's cores, or --ray-address's "
                        "cluster; the folders may be fsspec URLs (s3://...); needs pip install 'ganfill[ray]'")
    p.add_argument("--ray-address", default=None, metavar="ADDRESS",
                   help="a running Ray cluster (implies --ray; auto: the one this machine belongs to)")
    p.add_argument("--ray-workers", type=int, default=None, metavar="N",
                   help="Ray actors, each one pipeline on one CPU or GPU (implies --ray; default: one per CPU, "
                        "or per GPU with --device cuda)")
    p.set_defaults(func=cmd_inpaint)

    p = sub.add_parser("serve", help="the web page with a brush, and the REST API")
    defaults = ServerConfig()
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: this machine only)")
    p.add_argument("--port", type=int, default=8000, help="(default: %(default)s)")
    p.add_argument("--method", default=None, help="a request's default method (default: `ganfill methods`'s)")
    p.add_argument("--device", default=defaults.device, choices=["auto", "cpu", "cuda"],
                   help="where the networks run (auto: a CUDA GPU if there is one, as ganfill inpaint)")
    p.add_argument("--max-upload-mb", type=float, default=defaults.max_upload_mb,
                   help="per request, image and mask together (default: %(default)s)")
    p.add_argument("--max-queue", type=int, default=defaults.max_queue,
                   help="requests running or waiting; more get 503 (default: %(default)s)")
    p.add_argument("--workers", type=int, default=defaults.workers,
                   help="worker processes, requests computed at once (default: %(default)s)")
    p.add_argument("--timeout", type=float, default=defaults.timeout_s,
                   help="seconds before a request gets 504 and its work is stopped (default: %(default)s)")
    p.add_argument("--max-memory-mb", type=float, default=defaults.max_memory_mb,
                   help="a worker process above this is stopped and its request gets 413 (default: %(default)s)")
    p.add_argument("--enable", action="append", metavar="METHOD",
                   help="turn on a method whose time or memory grows with the request (lsgan-yeh, biharmonic); "
                        "off by default")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("methods", help="list the inpainting methods (* marks the default)")
    p.set_defaults(func=cmd_methods)

    p = sub.add_parser("evaluate", help="score methods on a folder of square faces, at their own size")
    p.add_argument("--data", type=Path, default=None,
                   help="folder of square faces of one size: 64 px (default: shared celeba/test) or e.g. "
                        "256 px (celeba-wild/test); masks scale with the size")
    p.add_argument("--mask", default="center",
                   help="center, box, free, half, pixels, portrait (blobs anywhere) or off-face (blobs that touch "
                        "no detected face)")
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
    p.add_argument("--no-face-metrics", action="store_true", help="skip fd_dlib, identity, u_ids and p_ids (dlib)")
    p.add_argument("--detail", action=argparse.BooleanOptionalAction, default=None,
                   help="fixed-size methods on larger images: add the photo's own fine detail above the "
                        "model's size, as `ganfill inpaint --detail` (default: as for ganfill inpaint)")
    p.add_argument("--json", type=Path, default=None)
    p.add_argument("--grid", type=Path, default=None)
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_evaluate)
    parser.epilog = _command_list(sub)
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
    previous = sigterm_as_interrupt()
    try:
        if args.func is not cmd_methods:        # the list is read without loading torch
            import torch
            torch.set_num_threads(int(os.environ.get("GANFILL_THREADS", torch.get_num_threads())))
        return args.func(args)
    except KeyboardInterrupt as exc:
        # Every `with` and `except BaseException` has run on the way here: temp files are gone.
        print("ganfill: interrupted" + (" (SIGTERM)" if isinstance(exc, Terminated) else ""), file=sys.stderr)
        return 128 + int(signal.SIGTERM) if isinstance(exc, Terminated) else 130
    except (ValueError, OSError, UserError) as exc:
        if not is_user_error(exc):
            raise           # a bug: its traceback, not a one-line message
        if args.debug or os.environ.get("GANFILL_DEBUG", "") not in ("", "0"):
            traceback.print_exc()
        print(f"ganfill: error: {one_line(exc)}", file=sys.stderr)
        return EXIT_ERROR
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
