"""The ``ganfill train-*`` and ``export`` commands.  Their defaults are the training code's own
(:func:`ganfill.train.builders.train_defaults`: the config dataclasses and the builders' arguments),
so the command shows and runs exactly what the recipe defines, and the defaults are what ships."""

from __future__ import annotations

import argparse
from pathlib import Path

#: the kinds of ``ganfill export`` (tests check it against ``weights.EXPORTERS``)
EXPORT_KINDS = ("gan", "encoder", "refiner", "photo-refiner", "context-encoder")
DEVICES = ["auto", "cpu", "cuda"]


def _add_loop_args(p: argparse.ArgumentParser, d: dict) -> None:
    p.add_argument("--data", type=Path, default=d["data"],
                   help="folder of face images (default: shared celeba/train at 64 px; celeba-wild/train at "
                        "128 px); at 128 px the validation faces (22211-22710) are left out of any folder")
    p.add_argument("--out", type=Path, required=True, help="run folder for checkpoints, logs and samples")
    p.add_argument("--epochs", type=int, default=d["epochs"],
                   help="total epochs; a resumed run continues to this (default: %(default)s)")
    p.add_argument("--batch-size", type=int, default=d["batch_size"], help="global batch size (default: %(default)s)")
    p.add_argument("--seed", type=int, default=d["seed"],
                   help="seed of the initial weights, the batches and the masks (default: %(default)s)")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.safetensors")
    p.add_argument("--checkpoint-minutes", type=float, default=d["checkpoint_minutes"],
                   help="minutes between checkpoints (default: %(default)s)")
    p.add_argument("--max-steps", type=int, default=d["max_steps"],
                   help="stop after this many steps (default: no limit; 3 with --dry-run)")
    p.add_argument("--max-minutes", type=float, default=d["max_minutes"],
                   help="stop after this many minutes of this run, with a checkpoint (resume to go on; "
                        "default: no limit)")
    p.add_argument("--limit", type=int, default=d["limit"], help="use only the first N images (default: all)")
    p.add_argument("--dry-run", action="store_true", help="a few steps on random images, for smoke tests")
    p.add_argument("--device", default=d["device"], choices=DEVICES,
                   help="(default: %(default)s: a CUDA GPU if there is one)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--dump-replicas", action="store_true", help=argparse.SUPPRESS)


class CommandParser(argparse.ArgumentParser):
    """A subcommand's parser whose options can be added when it is first used (``options``, a
    function of the parser): the training commands' defaults are read from the training code, which
    imports torch, and ``ganfill --help`` or ``ganfill inpaint`` need not wait for that."""

    def __init__(self, *args, options=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._options = options

    def _add_options(self) -> None:
        if self._options is not None:
            options, self._options = self._options, None
            options(self)

    def parse_known_args(self, args=None, namespace=None):
        self._add_options()
        return super().parse_known_args(args, namespace)

    def format_usage(self) -> str:
        self._add_options()
        return super().format_usage()

    def format_help(self) -> str:
        self._add_options()
        return super().format_help()


def _add_weights_args(p: argparse.ArgumentParser, d: dict, encoder: bool = True) -> None:
    p.add_argument("--gan", type=Path, default=d["gan"], help="LSGAN weights (default: the shipped ones)")
    if encoder:
        p.add_argument("--encoder", type=Path, default=d["encoder"],
                       help="latent-encoder weights (default: the shipped ones)")


def _add_refiner_args(p: argparse.ArgumentParser, d: dict, judge: str, init: str, lr: float) -> None:
    """The options both refiners' recipes take: the loss weights, the start, the step, the LSGAN."""
    p.add_argument("--adv-weight", type=float, default=d["adv_weight"],
                   help=f"weight of {judge}'s loss on the output (default: %(default)s)")
    p.add_argument("--ssim-weight", type=float, default=d["ssim_weight"],
                   help="weight of 1 - SSIM(output, truth) in the loss (default: %(default)s)")
    p.add_argument("--init", type=Path, default=d["init"],
                   help=f"start from these refiner weights, a fine-tune ({init}; default: fresh weights)")
    p.add_argument("--lr", type=float, default=d["lr"], help=f"the refiner's Adam step size (default: {lr})")
    _add_weights_args(p, d)


def _gan_options(p: argparse.ArgumentParser, d: dict) -> None:
    from .models.gan import GAN_PRESETS

    p.add_argument("--config", default=d["config"],
                   help=f"{', '.join(GAN_PRESETS)} (default: %(default)s, the shipped lsgan.safetensors)")
    p.add_argument("--loss", default=d["loss"], choices=["01", "chi2"],
                   help="LSGAN targets: 01 (a=0,b=1,c=1) or chi2 (a=-1,b=1,c=0) (default: the preset's)")


def _encoder_options(p: argparse.ArgumentParser, d: dict) -> None:
    from .models.encoder import ENCODER_PRESETS

    p.add_argument("--config", default=d["config"], help=f"{', '.join(ENCODER_PRESETS)} (default: %(default)s)")
    _add_weights_args(p, d, encoder=False)


def _refiner_options(p: argparse.ArgumentParser, d: dict) -> None:
    from .models.refiner import REFINER_PRESETS
    from .train.refiner import RefinerTrainConfig

    p.add_argument("--arch", default=d["arch"],
                   help=f"{', '.join(REFINER_PRESETS)}: unet is ours, paper the thesis's autoencoder "
                        f"(default: %(default)s)")
    p.add_argument("--input", default=d["input"], choices=["lsgan", "empty"],
                   help="lsgan: refine the fast-path LSGAN completion; empty: the hole left empty (ae-only) "
                        "(default: %(default)s)")
    p.add_argument("--iterations", type=int, default=d["iterations"],
                   help="latent-search iterations of the LSGAN input (default: the fast path's)")
    _add_refiner_args(p, d, "the frozen LSGAN discriminator", "its architecture wins over --arch",
                      RefinerTrainConfig.lr)


def _photo_refiner_options(p: argparse.ArgumentParser, d: dict) -> None:
    p.add_argument("--size", type=int, default=d["size"],
                   help="training side, a multiple of 64 (default: %(default)s)")
    p.add_argument("--search-iterations", type=int, default=d["search_iterations"],
                   help="latent-search iterations of the LSGAN input (default: %(default)s: the encoder's answer)")
    p.add_argument("--detail-head", type=int, default=d["detail_head"],
                   help="channels of the full-resolution head, 0 for none (default: %(default)s)")
    _add_refiner_args(p, d, "the patch discriminator", "a refiner of any size; a detail head it lacks starts at zero",
                      d["lr"])
    p.add_argument("--inference-iterations", type=int, default=d["inference_iterations"],
                   help="latent-search iterations of the input at inference, written into the exported file "
                        "(default: %(default)s)")
    p.add_argument("--flip", action=argparse.BooleanOptionalAction, default=d["flip"],
                   help="average the output with the mirrored face's at inference, written into the exported "
                        "file (default: %(default)s)")


def _context_encoder_options(p: argparse.ArgumentParser, d: dict) -> None:
    from .models.context_encoder import CONTEXT_ENCODER_PRESETS
    from .train.context_encoder import ContextEncoderTrainConfig

    p.add_argument("--config", default=d["config"],
                   help=f"{', '.join(CONTEXT_ENCODER_PRESETS)} (default: %(default)s, a 512 x 4 x 4 bottleneck)")
    p.add_argument("--adv-weight", type=float, default=d["adv_weight"],
                   help="adversarial weight against 0.999 reconstruction "
                        f"(default: {ContextEncoderTrainConfig.adv_weight}, Pathak et al.)")


#: recipe -> (what ``ganfill --help`` says of ``train-RECIPE``, the function adding its own options)
TRAIN_COMMANDS = {
    "gan": ("train the LSGAN", _gan_options),
    "encoder": ("train the latent encoder against a frozen generator", _encoder_options),
    "refiner": ("train the autoencoder refiner on the LSGAN's completions", _refiner_options),
    "photo-refiner": ("train the 128-px refiner of the default method on the upscaled LSGAN completion, "
                      "against a patch discriminator", _photo_refiner_options),
    "context-encoder": ("train the Context Encoder baseline (Pathak et al. 2016)", _context_encoder_options),
}


def _train_options(kind: str, own):
    def add(p: argparse.ArgumentParser) -> None:
        from .train.builders import train_defaults

        d = train_defaults(kind)
        _add_loop_args(p, d)
        own(p, d)
    return add


def add_train_commands(sub) -> None:
    """``train-KIND`` for each of :data:`TRAIN_COMMANDS` (``sub`` makes :class:`CommandParser` objects),
    ``export`` and its ``export-KIND`` aliases."""
    for kind, (help, own) in TRAIN_COMMANDS.items():
        p = sub.add_parser(f"train-{kind}", help=help, options=_train_options(kind, own))
        p.set_defaults(func=cmd_train, recipe=kind)

    p = sub.add_parser("export", help="write a training checkpoint's shipping part as fp16 weights")
    p.add_argument("kind", choices=EXPORT_KINDS, help="the recipe that wrote the checkpoint")
    _add_export_args(p)
    for kind in EXPORT_KINDS:   # the older spelling, one command per kind
        _add_export_args(sub.add_parser(f"export-{kind}", help=f"the same as `export {kind}`"), kind)


def cmd_train(args) -> int:
    """Every ``train-*`` command: :func:`ganfill.train.builders.train` with the parsed options."""
    from .train.builders import train

    train(args.recipe, **{k: v for k, v in vars(args).items() if k not in ("func", "command", "recipe", "debug")})
    return 0


def _add_export_args(p: argparse.ArgumentParser, kind: str | None = None) -> None:
    p.add_argument("checkpoint", type=Path, help="a training run's checkpoint.safetensors")
    p.add_argument("-o", "--output", type=Path, required=True, help="the weights file to write")
    p.set_defaults(func=cmd_export, **({"kind": kind} if kind else {}))


def cmd_export(args) -> int:
    """``ganfill export KIND CHECKPOINT -o OUT`` (and its ``export-KIND`` aliases)."""
    from .weights import export

    export(args.kind, args.checkpoint, args.output)
    print(f"wrote {args.output}")
    return 0
