"""The weights that ship inside the package, and loading / exporting them (safetensors only)."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from ..models.context_encoder import ContextEncoder, ContextEncoderConfig
from ..models.encoder import EncoderConfig, LatentEncoder
from ..models.gan import Discriminator, GANConfig, Generator
from ..models.refiner import Refiner, RefinerConfig
from ..models.io import CheckpointError, config_from_dict, load_state, load_tensors, save_tensors, unprefixed

WEIGHTS_DIR = Path(__file__).resolve().parent
GAN_WEIGHTS = WEIGHTS_DIR / "lsgan.safetensors"
ENCODER_WEIGHTS = WEIGHTS_DIR / "encoder.safetensors"
# The refiner variants: ours (the default, U-Net, refining the LSGAN's completion), the thesis's
# autoencoder on the same input, and the ablation that sees the image with an empty hole.
REFINER_WEIGHTS = WEIGHTS_DIR / "refiner.safetensors"
REFINER_PAPER_WEIGHTS = WEIGHTS_DIR / "refiner-paper.safetensors"
REFINER_AE_ONLY_WEIGHTS = WEIGHTS_DIR / "refiner-ae-only.safetensors"
# The photo-scale refiner: 128 px, in-the-wild faces, the LSGAN's completion scaled up as its input.
REFINER_WILD_WEIGHTS = WEIGHTS_DIR / "refiner-wild.safetensors"
CONTEXT_ENCODER_WEIGHTS = WEIGHTS_DIR / "context-encoder.safetensors"


def weights_dir() -> Path:
    """Where the default weights are read from: the package's folder, or ``$GANFILL_WEIGHTS_DIR``
    (to try a freshly trained set with every method and command, without installing it)."""
    return Path(os.environ.get("GANFILL_WEIGHTS_DIR") or WEIGHTS_DIR)


#: the SHA-256 of every shipped file, as `sha256sum *.safetensors` writes it
CHECKSUMS = "SHA256SUMS"
_verified: dict[tuple, str] = {}     # (path, size, mtime) -> its digest: each file is hashed once


def shipped(name: str) -> Path:
    """Path of a shipped weights file, checked against the folder's ``SHA256SUMS``; a clear error if
    it is missing or its bytes are not the ones shipped (a damaged or replaced file would otherwise
    load and fill holes with garbage).  A ``$GANFILL_WEIGHTS_DIR`` without ``SHA256SUMS`` is not checked."""
    folder = weights_dir()
    path = folder / name
    if not path.is_file():
        raise CheckpointError(f"shipped weights {name} are missing from {folder}; reinstall ganfill or "
                              f"pass --weights")
    sums = folder / CHECKSUMS
    if not sums.is_file():
        if folder.resolve() == WEIGHTS_DIR:
            raise CheckpointError(f"{sums} is missing, so the shipped weights cannot be checked; reinstall ganfill")
        return path
    expected = dict(line.split()[::-1] for line in sums.read_text().splitlines() if line.strip()).get(name)
    if expected is None:
        raise CheckpointError(f"{name} is not listed in {sums}; add its SHA-256 there (sha256sum {name})")
    if file_digest(path) != expected:
        raise CheckpointError(f"{path}: its SHA-256 does not match {CHECKSUMS}: the file is damaged or was "
                              f"replaced; reinstall ganfill")
    return path


def file_digest(path: Path) -> str:
    import hashlib

    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _verified:
        with open(path, "rb") as fh:
            _verified[key] = hashlib.file_digest(fh, "sha256").hexdigest()
    return _verified[key]


# How each kind of file is named in messages.
_LABELS = {"lsgan": "an LSGAN", "encoder": "a latent-encoder", "refiner": "a refiner",
           "photo-refiner": "a photo-refiner", "context-encoder": "a context-encoder"}


def _export(checkpoint, output, recipe: str, kind: str, prefixes: tuple[str, ...], config: str | None,
            dtype: torch.dtype, rename: dict[str, str] | None = None, **extra) -> None:
    """Keep the tensors under ``prefixes`` of a ``recipe`` training checkpoint, with the model config
    (``meta["config"][config]``, or the whole config when ``config`` is None), as a ``kind`` file;
    ``rename`` maps a kept prefix to the one the file stores it under."""
    tensors, meta = load_tensors(checkpoint)
    if meta.get("recipe") != recipe:
        raise CheckpointError(f"{checkpoint}: not {_LABELS[recipe]} training checkpoint")
    keep = {k: v for k, v in tensors.items() if k.startswith(tuple(p + "." for p in prefixes))}
    for old, new in (rename or {}).items():
        keep = {(new + k[len(old):] if k.startswith(old) else k): v for k, v in keep.items()}
    model_config = meta["config"] if config is None else meta["config"][config]
    extras = {k: meta["config"][v] for k, v in extra.items()}
    save_tensors(output, keep, {"kind": kind, "config": model_config, **extras,
                                "progress": meta.get("progress", {})}, dtype=dtype)


def _read(path, default: Path, kind: str) -> tuple[Path, dict, dict]:
    path = Path(path) if path is not None else shipped(default.name)
    tensors, meta = load_tensors(path)
    if "config" not in meta:
        raise CheckpointError(f"{path}: no model config in its metadata; not {_LABELS[kind]} weights file")
    if "kind" not in meta and "recipe" in meta:
        raise CheckpointError(f"{path}: a training checkpoint, not {_LABELS[kind]} weights file; "
                              f"export it first (ganfill export-...)")
    if meta.get("kind", kind) != kind:
        raise CheckpointError(f"{path}: holds {meta['kind']} weights, not {_LABELS[kind]} weights file")
    return path, tensors, meta


def _build(module: torch.nn.Module, tensors: dict, prefix: str, path: Path, device) -> torch.nn.Module:
    load_state(module, unprefixed(tensors, prefix), f"{path} [{prefix}]")
    return module.to(device).eval()


def export_gan(checkpoint: str | os.PathLike, output: str | os.PathLike, dtype: torch.dtype = torch.float16) -> None:
    """Keep G and D (and their config) from a training checkpoint, in ``dtype``, for shipping; when
    the run kept an EMA of G's weights, that average is the G shipped."""
    tensors, _ = load_tensors(checkpoint)
    ema = any(k.startswith("G_ema.") for k in tensors)
    _export(checkpoint, output, "lsgan", "lsgan", ("G_ema" if ema else "G", "D"), None, dtype,
            rename={"G_ema.": "G."} if ema else None)


def load_gan(path: str | os.PathLike | None = None, device: str | torch.device = "cpu"
             ) -> tuple[Generator, Discriminator]:
    """Generator and discriminator from a weights file (default: the shipped ones), in eval mode.

    The file holds its own config, so it rebuilds the networks it was trained as.
    """
    path, tensors, meta = _read(path, GAN_WEIGHTS, "lsgan")
    config = config_from_dict(GANConfig, meta["config"])
    return (_build(Generator(config.generator), tensors, "G", path, device),
            _build(Discriminator(config.discriminator), tensors, "D", path, device))


def export_encoder(checkpoint: str | os.PathLike, output: str | os.PathLike, dtype: torch.dtype = torch.float16) -> None:
    """Keep the latent encoder (and its config) from a training checkpoint, for shipping."""
    _export(checkpoint, output, "encoder", "encoder", ("E",), "encoder", dtype)


def load_encoder(path: str | os.PathLike | None = None, device: str | torch.device = "cpu") -> LatentEncoder:
    """The latent encoder from a weights file (default: the shipped one), in eval mode."""
    path, tensors, meta = _read(path, ENCODER_WEIGHTS, "encoder")
    return _build(LatentEncoder(config_from_dict(EncoderConfig, meta["config"])), tensors, "E", path, device)


def export_refiner(checkpoint: str | os.PathLike, output: str | os.PathLike, dtype: torch.dtype = torch.float16) -> None:
    """Keep the refiner (its config, and which input it was trained on) from a training checkpoint."""
    _export(checkpoint, output, "refiner", "refiner", ("R",), "refiner", dtype, input="input", blend="blend",
            search_iterations="search_iterations")


def export_photo_refiner(checkpoint: str | os.PathLike, output: str | os.PathLike, inference: dict | None = None,
                         dtype: torch.dtype = torch.float16) -> None:
    """Keep the photo refiner from a ``photo-refiner`` training checkpoint (not its discriminator),
    with how its input was made and the ``size`` it trained at; ``inference`` records the choices
    made for it on the validation split (``{"iterations": …, "flip": …}``, by default the run's
    ``inference_iterations`` and ``flip``), read back by :func:`refiner_input_settings`."""
    tensors, meta = load_tensors(checkpoint)
    if meta.get("recipe") != "photo-refiner":
        raise CheckpointError(f"{checkpoint}: not {_LABELS['photo-refiner']} training checkpoint")
    config = meta["config"]
    if inference is None:
        inference = {"iterations": config["inference_iterations"], "flip": config["flip"]} if "flip" in config else {}
    save_tensors(output, {k: v for k, v in tensors.items() if k.startswith("R.")},
                 {"kind": "refiner", "config": config["refiner"], "input": "lsgan-upscaled", "blend": "paste",
                  "size": config["size"], "search_iterations": config["search_iterations"],
                  "inference": inference, "progress": meta.get("progress", {})}, dtype=dtype)


def refiner_input_settings(path: str | os.PathLike | None = None) -> dict:
    """How the refiner's LSGAN input was made in training (``blend``, ``search_iterations``, the
    ``size`` it trained at), so that inference makes it the same way, and the inference choices
    made for it on the validation split (``inference_iterations``, ``flip``; by default as in
    training, and flip averaging on).  Files written before these were recorded used a Poisson blend."""
    _, _, meta = _read(path, REFINER_WEIGHTS, "refiner")
    settings = {"blend": meta.get("blend", "poisson")}
    if "search_iterations" in meta:
        settings["iterations"] = int(meta["search_iterations"])
    if "size" in meta:
        settings["size"] = int(meta["size"])
    inference = meta.get("inference") or {}
    # None: the fast path's own number of iterations
    settings["inference_iterations"] = inference.get("iterations", settings.get("iterations"))
    settings["flip"] = bool(inference.get("flip", True))
    return settings


def load_refiner(path: str | os.PathLike | None = None, device: str | torch.device = "cpu",
                 input: str | None = None) -> Refiner:
    """The refiner from a weights file (default: the shipped ``refiner.safetensors``), in eval mode.

    ``input`` ("lsgan", "empty" or "lsgan-upscaled"), when given, must be the input the refiner was trained on.
    """
    path, tensors, meta = _read(path, REFINER_WEIGHTS, "refiner")
    if input is not None and meta.get("input") != input:
        raise CheckpointError(f"{path}: a refiner trained on {meta.get('input')!r} input; this method needs "
                              f"one trained on {input!r} input")
    return _build(Refiner(config_from_dict(RefinerConfig, meta["config"])), tensors, "R", path, device)


def export_context_encoder(checkpoint: str | os.PathLike, output: str | os.PathLike,
                           dtype: torch.dtype = torch.float16) -> None:
    """Keep the context encoder (not its discriminator) from a training checkpoint, for shipping."""
    _export(checkpoint, output, "context-encoder", "context-encoder", ("CE",), "context_encoder", dtype)


def load_context_encoder(path: str | os.PathLike | None = None, device: str | torch.device = "cpu") -> ContextEncoder:
    """The context encoder from a weights file (default: the shipped one), in eval mode."""
    path, tensors, meta = _read(path, CONTEXT_ENCODER_WEIGHTS, "context-encoder")
    return _build(ContextEncoder(config_from_dict(ContextEncoderConfig, meta["config"])), tensors, "CE", path,
                  device)


EXPORTERS = {"gan": export_gan, "encoder": export_encoder, "refiner": export_refiner,
             "photo-refiner": export_photo_refiner, "context-encoder": export_context_encoder}


def export(kind: str, checkpoint: str | os.PathLike, output: str | os.PathLike,
           dtype: torch.dtype = torch.float16) -> None:
    """A ``kind`` training checkpoint's shipping part (a key of :data:`EXPORTERS`), in ``dtype``:
    what ``ganfill export KIND`` writes."""
    if kind not in EXPORTERS:
        raise ValueError(f"unknown kind of weights {kind!r}; choose from {', '.join(EXPORTERS)}")
    EXPORTERS[kind](checkpoint, output, dtype=dtype)
