"""The ``ganfill`` command.  Every user error ends in one line on stderr and a non-zero exit code."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import __version__

EXIT_USAGE = 2
EXIT_ERROR = 1


class UserError(Exception):
    """A problem with what the user asked for, reported as one line."""


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


def _dataset(args):
    from .data import ArrayFaces, FaceFolder, default_data_root

    if args.dry_run:
        import numpy as np
        rng = np.random.default_rng(args.seed)
        return ArrayFaces(rng.integers(0, 256, size=(args.batch_size * 4, 64, 64, 3), dtype=np.uint8), flip=True)
    folder = args.data or default_data_root() / "celeba" / "train"
    return FaceFolder(folder, flip=True, limit=args.limit, progress=not args.no_progress)


def _loop(args):
    from .train import LoopConfig

    max_steps = args.max_steps if args.max_steps is not None else (3 if args.dry_run else None)
    return LoopConfig(epochs=args.epochs, batch_size=args.batch_size, seed=args.seed,
                      checkpoint_minutes=args.checkpoint_minutes, max_steps=max_steps,
                      max_minutes=args.max_minutes,
                      progress=not args.no_progress, dump_replicas=args.dump_replicas)


def _saved_config(args, cls):
    """When resuming, the config stored in RUN_DIR's checkpoint (it rebuilds its own model); else None."""
    from .models.io import config_from_dict
    from .train import CHECKPOINT
    from .train.common import read_checkpoint_meta

    ckpt = args.out / CHECKPOINT
    if args.resume and ckpt.exists():
        return config_from_dict(cls, read_checkpoint_meta(ckpt)["config"])
    return None


def _seed_init(args) -> None:
    """Seed weight initialisation, so that every DDP rank starts from the same weights."""
    import torch

    from .train.common import mix_seed

    torch.manual_seed(mix_seed(args.seed, "init"))


def _fit(args, env, recipe) -> int:
    from .train import CHECKPOINT, fit

    progress = fit(recipe, _dataset(args), args.out, _loop(args), env, resume=args.resume)
    if env.main:
        print(f"done: {progress['global_step']} steps, {progress['images_seen']} images seen, "
              f"checkpoint in {args.out / CHECKPOINT}")
    return 0


def cmd_train_gan(args) -> int:
    from .models.gan import GANConfig
    from .train import GANRecipe, gan_config, setup_distributed

    env = setup_distributed(args.device)
    config = _saved_config(args, GANConfig) or gan_config(args.config, args.loss)
    _seed_init(args)
    recipe = GANRecipe(config, env.device, sample_seed=args.seed)
    return _fit(args, env, recipe)


def cmd_train_encoder(args) -> int:
    from .models.encoder import ENCODER_PRESETS, EncoderConfig
    from .train import setup_distributed
    from .train.encoder import EncoderRecipe, EncoderTrainConfig
    from .weights import GAN_WEIGHTS, load_gan, shipped

    env = setup_distributed(args.device)
    config = _saved_config(args, EncoderTrainConfig)
    if config is not None:
        config.mask_kinds = tuple(config.mask_kinds)
    else:
        if args.config not in ENCODER_PRESETS:
            raise UserError(f"unknown encoder config {args.config!r}; choose from {', '.join(ENCODER_PRESETS)}")
        config = EncoderTrainConfig(encoder=EncoderConfig(**vars(ENCODER_PRESETS[args.config])),
                                    gan_weights=str(args.gan or shipped(GAN_WEIGHTS.name)))
    G, _ = load_gan(config.gan_weights if args.resume and config.gan_weights else args.gan, env.device)
    if G.config.z_dim != config.encoder.z_dim:
        config.encoder.z_dim = G.config.z_dim
    _seed_init(args)
    recipe = EncoderRecipe(config, G, env.device, _glimpse_faces())
    return _fit(args, env, recipe)


def _glimpse_faces():
    """The first 8 test faces, shown at each epoch's end (None when the data is not there)."""
    from .data import FaceFolder, default_data_root

    test_dir = default_data_root() / "celeba" / "test"
    return FaceFolder(test_dir, limit=8).batch(range(8)) if test_dir.is_dir() else None


def cmd_train_refiner(args) -> int:
    from .inpaint import Inpainter
    from .models.io import load_tensors
    from .models.refiner import REFINER_PRESETS, RefinerConfig
    from .train import CHECKPOINT, setup_distributed
    from .train.refiner import EmptyHoleCompleter, LSGANCompleter, RefinerRecipe, RefinerTrainConfig
    from .weights import ENCODER_WEIGHTS, GAN_WEIGHTS, load_gan, load_refiner, shipped

    env = setup_distributed(args.device)
    config = _saved_config(args, RefinerTrainConfig)
    if config is None:
        if args.arch not in REFINER_PRESETS:
            raise UserError(f"unknown refiner architecture {args.arch!r}; choose from {', '.join(REFINER_PRESETS)}")
        if args.adv_weight < 0 or args.ssim_weight < 0:
            raise UserError("--adv-weight and --ssim-weight must be >= 0")
        if args.iterations is None:
            from .inpaint.pipeline import PRESETS
            args.iterations = PRESETS["fast"].search.iterations
        if args.iterations < 1:
            raise UserError("--iterations must be at least 1")
        needs_gan = args.input == "lsgan" or args.adv_weight > 0
        gan = args.gan or (shipped(GAN_WEIGHTS.name) if needs_gan else None)
        encoder = args.encoder or (shipped(ENCODER_WEIGHTS.name) if args.input == "lsgan" else None)
        config = RefinerTrainConfig(refiner=RefinerConfig(**vars(REFINER_PRESETS[args.arch])), input=args.input,
                                    adv_weight=args.adv_weight, search_iterations=args.iterations,
                                    gan_weights=str(gan) if needs_gan else "",
                                    encoder_weights=str(encoder) if args.input == "lsgan" else "")
        config.ssim_weight = args.ssim_weight
        if args.lr is not None:
            config.lr = args.lr
        if args.init is not None:   # fine-tune: the starting file's architecture wins over --arch
            config.refiner = load_refiner(args.init, "cpu", input=args.input).config
            config.init_weights = str(args.init)
        if needs_gan:   # the discriminator's targets, as the LSGAN was trained with them
            config.adv_loss = load_tensors(gan)[1].get("config", {}).get("loss", config.adv_loss)
    D = None
    if config.input == "lsgan":
        inpainter = Inpainter.from_pretrained("fast", device=env.device, gan_weights=config.gan_weights,
                                              encoder_weights=config.encoder_weights,
                                              iterations=config.search_iterations, blend=config.blend)
        completer = LSGANCompleter(inpainter)
        D = inpainter.D
    else:
        completer = EmptyHoleCompleter()
        if config.adv_weight > 0:
            D = load_gan(config.gan_weights, env.device)[1]
    _seed_init(args)
    recipe = RefinerRecipe(config, completer, D if config.adv_weight > 0 else None, env.device, _glimpse_faces())
    if config.init_weights and not (args.resume and (args.out / CHECKPOINT).exists()):
        recipe.R.load_state_dict(load_refiner(config.init_weights, env.device).state_dict())
    return _fit(args, env, recipe)


def cmd_train_context_encoder(args) -> int:
    from .train import setup_distributed
    from .train.context_encoder import ContextEncoderRecipe, ContextEncoderTrainConfig, context_encoder_config

    env = setup_distributed(args.device)
    config = _saved_config(args, ContextEncoderTrainConfig)
    if config is None:
        if args.adv_weight is not None and args.adv_weight < 0:
            raise UserError("--adv-weight must be >= 0")
        config = context_encoder_config(args.config, args.adv_weight)
    _seed_init(args)
    recipe = ContextEncoderRecipe(config, env.device, _glimpse_faces())
    return _fit(args, env, recipe)


def cmd_export(args) -> int:
    """Every ``export-*`` command: a training checkpoint's shipping part, in fp16 (``args.exporter``)."""
    from . import weights

    getattr(weights, args.exporter)(args.checkpoint, args.output)
    print(f"wrote {args.output}")
    return 0


def cmd_sample(args) -> int:
    import torch

    from .data import save_image_atomic, to_uint8
    from .train.common import seeded
    from .viz import image_grid
    from .weights import load_gan

    if args.n < 1:
        raise UserError("-n must be at least 1")
    G, _ = load_gan(args.weights)
    with torch.no_grad():
        images = G(G.sample_z(args.n, seeded(args.seed, "sample")))
    ncols = int(max(1, round(args.n ** 0.5)))
    save_image_atomic(image_grid(to_uint8(images), ncols), args.output)
    print(f"wrote {args.n} samples to {args.output}")
    return 0


def _output_paths(output: Path, k: int) -> list[Path]:
    return [output] if k == 1 else [output.with_name(f"{output.stem}-{i}{output.suffix}") for i in range(1, k + 1)]


OUTPUT_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


def _check_output(path: Path) -> None:
    if path.suffix.lower() not in OUTPUT_SUFFIXES:
        raise UserError(f"{path}: output must end in .png, .jpg or .webp")


def _inpaint_file(method, image_path: Path, mask_path: Path, output: Path, args) -> list[Path]:
    """One photo through :func:`ganfill.photo.inpaint_photo`; returns the files written."""
    from .data import load_mask, load_photo, resize_mask
    from .photo import inpaint_photo

    photo = load_photo(image_path)
    h, w = photo.rgb.shape[:2]
    mask = load_mask(mask_path)
    if mask.shape != (h, w):
        print(f"ganfill: warning: {mask_path.name}: mask is {mask.shape[1]}x{mask.shape[0]}, image is {w}x{h}; "
              f"resizing the mask (nearest neighbour)", file=sys.stderr)
        mask = resize_mask(mask, (h, w))
    done = inpaint_photo(photo.rgb, mask, method, args.candidates, args.box, args.crop, seed=args.seed)
    if done.source == "no hole":
        print(f"ganfill: {mask_path.name}: the mask has no hole; writing the image unchanged", file=sys.stderr)
    results = [photo.with_fill(image, mask) for image in done.images]
    paths = _output_paths(output, args.candidates)
    for path, result in zip(paths, results):
        # The photo writes itself: its ICC profile, EXIF and DPI go with it; RGBA to JPEG is
        # composited on white as the model saw it, with a warning.
        for line in photo.save(result, path):
            print(f"ganfill: warning: {line}", file=sys.stderr)
    return paths


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
    from .methods import get_method, method_options

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
    options = {"iterations": args.iterations, "device": args.device}
    accepted = method_options(args.method)
    for key in ("iterations",):
        if options[key] is not None and key not in accepted:
            raise UserError(f"method {args.method!r} takes no --{key}")
    method = get_method(args.method, **{k: v for k, v in options.items() if k in accepted and v is not None})
    if args.candidates > 1 and not method.gives_candidates:   # before a whole folder fails file by file
        raise UserError(f"method {args.method!r} gives a single answer; several candidates need an lsgan method")
    images = list_images(args.image) if batch else [args.image]

    if not batch:
        paths = _inpaint_file(method, args.image, args.mask, args.output, args)
        print("wrote " + ", ".join(str(p) for p in paths))
        return 0

    from tqdm import tqdm

    failures: list[str] = []
    written = 0
    for path in tqdm(images, desc="inpainting", unit="image", disable=args.no_progress, dynamic_ncols=True):
        rel = path.relative_to(args.image)
        try:
            mask = args.mask if args.mask is not None else _mask_for(path.stem, args.mask_dir / rel.parent)
            _inpaint_file(method, path, mask, args.output / rel.with_suffix(".png"), args)
            written += 1
        except (UserError, ValueError, OSError) as exc:
            failures.append(f"{rel}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
    print(f"inpainted {written} of {len(images)} images into {args.output}"
          + (f"; {len(failures)} failed:" if failures else ""))
    for line in failures:
        print(f"  {line}", file=sys.stderr)
    return EXIT_ERROR if failures else 0


def cmd_serve(args) -> int:
    import uvicorn

    from .methods import method_options
    from .server.app import ServerConfig, create_app

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
    uvicorn.run(create_app(config), host=args.host, port=args.port, log_level="warning",
                timeout_keep_alive=5, limit_concurrency=max(64, 4 * args.max_queue))
    return 0


def cmd_methods(args) -> int:
    from .methods import method_names

    print("\n".join(method_names()))
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
                                              device=args.device)
    print(format_table(report))
    if args.json:
        write_json_atomic(report, args.json)
    if args.grid:
        save_grid(results_grid(images, masks, results), args.grid)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ganfill", description="Fill holes in face images with a GAN prior.")
    parser.add_argument("--version", action="version", version=f"ganfill {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train-gan", help="train the LSGAN")
    _add_loop_args(p, epochs=25, batch=64)
    p.add_argument("--config", default="quarter", help="paper, half, quarter or tiny")
    p.add_argument("--loss", default=None, choices=["01", "chi2"], help="LSGAN targets: 01 (a=0,b=1,c=1) or chi2 (a=-1,b=1,c=0)")
    p.set_defaults(func=cmd_train_gan)

    p = sub.add_parser("train-encoder", help="train the latent encoder against a frozen generator")
    _add_loop_args(p, epochs=10, batch=64)
    p.add_argument("--config", default="default", help="default or tiny")
    p.add_argument("--gan", type=Path, default=None, help="GAN weights to train against (default: shipped)")
    p.set_defaults(func=cmd_train_encoder)

    p = sub.add_parser("export-encoder", help="write a training checkpoint's encoder as fp16 shipping weights")
    p.add_argument("checkpoint", type=Path)
    p.add_argument("-o", "--output", type=Path, required=True)
    p.set_defaults(func=cmd_export, exporter="export_encoder")

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
    p.set_defaults(func=cmd_train_refiner)

    p = sub.add_parser("export-refiner", help="write a training checkpoint's refiner as fp16 shipping weights")
    p.add_argument("checkpoint", type=Path)
    p.add_argument("-o", "--output", type=Path, required=True)
    p.set_defaults(func=cmd_export, exporter="export_refiner")

    p = sub.add_parser("train-context-encoder", help="train the Context Encoder baseline (Pathak et al. 2016)")
    _add_loop_args(p, epochs=20, batch=64)
    p.add_argument("--config", default="default", help="default (512 x 4 x 4 bottleneck), half or tiny")
    p.add_argument("--adv-weight", type=float, default=None,
                   help="adversarial weight against 0.999 reconstruction (default 0.001, Pathak et al.)")
    p.set_defaults(func=cmd_train_context_encoder)

    p = sub.add_parser("export-context-encoder", help="write a training checkpoint's context encoder as fp16 weights")
    p.add_argument("checkpoint", type=Path)
    p.add_argument("-o", "--output", type=Path, required=True)
    p.set_defaults(func=cmd_export, exporter="export_context_encoder")

    p = sub.add_parser("export-gan", help="write a training checkpoint's G and D as fp16 shipping weights")
    p.add_argument("checkpoint", type=Path)
    p.add_argument("-o", "--output", type=Path, required=True)
    p.set_defaults(func=cmd_export, exporter="export_gan")

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
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_inpaint)

    p = sub.add_parser("serve", help="the web page with a brush, and the REST API")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: this machine only)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--method", default="lsgan+ae", help="the default method of a request")
    p.add_argument("--device", default="cpu", choices=["auto", "cpu", "cuda"])
    p.add_argument("--max-upload-mb", type=float, default=20.0, help="per uploaded file")
    p.add_argument("--max-queue", type=int, default=8, help="requests running or waiting; more get 503")
    p.add_argument("--workers", type=int, default=1, help="requests computed at once")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds before a request gets 504")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("methods", help="list the inpainting methods")
    p.set_defaults(func=cmd_methods)

    p = sub.add_parser("evaluate", help="score methods with PSNR / SSIM on a folder of faces")
    p.add_argument("--data", type=Path, default=None, help="folder of 64x64 faces (default: shared celeba/test)")
    p.add_argument("--mask", default="center", help="center, box, free, half or pixels")
    p.add_argument("--methods", default="mean,telea,navier-stokes,biharmonic", help="comma-separated method names")
    p.add_argument("--limit", type=int, default=None, help="the first N images in file-name order")
    p.add_argument("--method-limit", action="append", metavar="NAME=N", help="run NAME on only the first N images")
    p.add_argument("--seed", type=int, default=0, help="seed of the generated masks")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--device", default="cpu", choices=["auto", "cpu", "cuda"],
                   help="for the methods that run networks (default cpu: the timings are CPU timings)")
    p.add_argument("--json", type=Path, default=None)
    p.add_argument("--grid", type=Path, default=None)
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_evaluate)
    return parser


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):
        # File names need not be UTF-8 (POSIX allows any bytes); print them escaped, never crash on them.
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        import torch
        torch.set_num_threads(int(os.environ.get("GANFILL_THREADS", torch.get_num_threads())))
        return args.func(args)
    except KeyboardInterrupt:
        print("ganfill: interrupted", file=sys.stderr)
        return 130
    except (UserError, ValueError, OSError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"ganfill: error: {msg}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
