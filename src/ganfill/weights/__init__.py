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
CONTEXT_ENCODER_WEIGHTS = WEIGHTS_DIR / "context-encoder.safetensors"


def shipped(name: str) -> Path:
    """Path of a shipped weights file; a clear error if it is not there."""
    path = WEIGHTS_DIR / name
    if not path.is_file():
        raise CheckpointError(f"shipped weights {name} are missing from {WEIGHTS_DIR}; reinstall ganfill or "
                              f"pass --weights")
    return path


def export_gan(checkpoint: str | os.PathLike, output: str | os.PathLike, dtype: torch.dtype = torch.float16) -> None:
    """Keep G and D (and their config) from a training checkpoint, in ``dtype``, for shipping."""
    tensors, meta = load_tensors(checkpoint)
    if meta.get("recipe") != "lsgan":
        raise CheckpointError(f"{checkpoint}: not an LSGAN training checkpoint")
    keep = {k: v for k, v in tensors.items() if k.startswith(("G.", "D."))}
    save_tensors(output, keep, {"kind": "lsgan", "config": meta["config"],
                                "progress": meta.get("progress", {})}, dtype=dtype)


def load_gan(path: str | os.PathLike | None = None, device: str | torch.device = "cpu"
             ) -> tuple[Generator, Discriminator]:
    """Generator and discriminator from a weights file (default: the shipped ones), in eval mode.

    The file holds its own config, so it rebuilds the networks it was trained as.
    """
    path = Path(path) if path is not None else shipped(GAN_WEIGHTS.name)
    tensors, meta = load_tensors(path)
    if "config" not in meta:
        raise CheckpointError(f"{path}: no model config in its metadata; not a ganfill GAN file")
    config = config_from_dict(GANConfig, meta["config"])
    G, D = Generator(config.generator), Discriminator(config.discriminator)
    load_state(G, unprefixed(tensors, "G"), f"{path} [G]")
    load_state(D, unprefixed(tensors, "D"), f"{path} [D]")
    return G.to(device).eval(), D.to(device).eval()


def export_encoder(checkpoint: str | os.PathLike, output: str | os.PathLike, dtype: torch.dtype = torch.float16) -> None:
    """Keep the latent encoder (and its config) from a training checkpoint, for shipping."""
    tensors, meta = load_tensors(checkpoint)
    if meta.get("recipe") != "encoder":
        raise CheckpointError(f"{checkpoint}: not a latent-encoder training checkpoint")
    keep = {k: v for k, v in tensors.items() if k.startswith("E.")}
    save_tensors(output, keep, {"kind": "encoder", "config": meta["config"]["encoder"],
                                "progress": meta.get("progress", {})}, dtype=dtype)


def load_encoder(path: str | os.PathLike | None = None, device: str | torch.device = "cpu") -> LatentEncoder:
    """The latent encoder from a weights file (default: the shipped one), in eval mode."""
    path = Path(path) if path is not None else shipped(ENCODER_WEIGHTS.name)
    tensors, meta = load_tensors(path)
    if meta.get("kind") != "encoder" or "config" not in meta:
        raise CheckpointError(f"{path}: not a ganfill latent-encoder weights file")
    encoder = LatentEncoder(config_from_dict(EncoderConfig, meta["config"]))
    load_state(encoder, unprefixed(tensors, "E"), f"{path} [E]")
    return encoder.to(device).eval()


def export_refiner(checkpoint: str | os.PathLike, output: str | os.PathLike, dtype: torch.dtype = torch.float16) -> None:
    """Keep the refiner (its config, and which input it was trained on) from a training checkpoint."""
    tensors, meta = load_tensors(checkpoint)
    if meta.get("recipe") != "refiner":
        raise CheckpointError(f"{checkpoint}: not a refiner training checkpoint")
    keep = {k: v for k, v in tensors.items() if k.startswith("R.")}
    save_tensors(output, keep, {"kind": "refiner", "config": meta["config"]["refiner"],
                                "input": meta["config"]["input"], "progress": meta.get("progress", {})}, dtype=dtype)


def load_refiner(path: str | os.PathLike | None = None, device: str | torch.device = "cpu",
                 input: str | None = None) -> Refiner:
    """The refiner from a weights file (default: the shipped ``refiner.safetensors``), in eval mode.

    ``input`` ("lsgan" or "empty"), when given, must be the input the refiner was trained on.
    """
    path = Path(path) if path is not None else shipped(REFINER_WEIGHTS.name)
    tensors, meta = load_tensors(path)
    if meta.get("kind") != "refiner" or "config" not in meta:
        raise CheckpointError(f"{path}: not a ganfill refiner weights file")
    if input is not None and meta.get("input") != input:
        raise CheckpointError(f"{path}: a refiner trained on {meta.get('input')!r} input; this method needs "
                              f"one trained on {input!r} input")
    refiner = Refiner(config_from_dict(RefinerConfig, meta["config"]))
    load_state(refiner, unprefixed(tensors, "R"), f"{path} [R]")
    return refiner.to(device).eval()


def export_context_encoder(checkpoint: str | os.PathLike, output: str | os.PathLike,
                           dtype: torch.dtype = torch.float16) -> None:
    """Keep the context encoder (not its discriminator) from a training checkpoint, for shipping."""
    tensors, meta = load_tensors(checkpoint)
    if meta.get("recipe") != "context-encoder":
        raise CheckpointError(f"{checkpoint}: not a context-encoder training checkpoint")
    keep = {k: v for k, v in tensors.items() if k.startswith("CE.")}
    save_tensors(output, keep, {"kind": "context-encoder", "config": meta["config"]["context_encoder"],
                                "progress": meta.get("progress", {})}, dtype=dtype)


def load_context_encoder(path: str | os.PathLike | None = None, device: str | torch.device = "cpu") -> ContextEncoder:
    """The context encoder from a weights file (default: the shipped one), in eval mode."""
    path = Path(path) if path is not None else shipped(CONTEXT_ENCODER_WEIGHTS.name)
    tensors, meta = load_tensors(path)
    if meta.get("kind") != "context-encoder" or "config" not in meta:
        raise CheckpointError(f"{path}: not a ganfill context-encoder weights file")
    net = ContextEncoder(config_from_dict(ContextEncoderConfig, meta["config"]))
    load_state(net, unprefixed(tensors, "CE"), f"{path} [CE]")
    return net.to(device).eval()
