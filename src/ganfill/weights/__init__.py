"""The weights that ship inside the package, and loading / exporting them (safetensors only)."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from ..models.encoder import EncoderConfig, LatentEncoder
from ..models.gan import Discriminator, GANConfig, Generator
from ..models.io import CheckpointError, config_from_dict, load_state, load_tensors, save_tensors, unprefixed

WEIGHTS_DIR = Path(__file__).resolve().parent
GAN_WEIGHTS = WEIGHTS_DIR / "lsgan.safetensors"
ENCODER_WEIGHTS = WEIGHTS_DIR / "encoder.safetensors"


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
