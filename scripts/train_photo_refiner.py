"""Train the photo-scale refiner (``train/photo_refiner.py``) on celeba-wild/train less its
validation faces, with the shipped 64-px LSGAN and encoder making the input.

    python scripts/train_photo_refiner.py --out runs/photo-refiner --epochs 3 [--resume] [--max-minutes M]

Resumable (atomic checkpoints in ``--out``); ``ganfill export photo-refiner`` is not needed: at the
end the refiner is written as fp16 safetensors to ``--out/photo-refiner.safetensors``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import torch

from ganfill.data import ArrayFaces, FaceFolder, default_data_root
from ganfill.inpaint import Inpainter
from ganfill.models.io import config_from_dict, config_to_dict, load_tensors, save_tensors
from ganfill.train import CHECKPOINT, LoopConfig, fit
from ganfill.train.photo_refiner import PhotoRefinerRecipe, PhotoRefinerTrainConfig, UpscaledLSGANCompleter
from ganfill.train.seeding import mix_seed
from ganfill.weights import ENCODER_WEIGHTS, GAN_WEIGHTS

#: celeba-wild/train 00000-22210; 22211-22710 are the validation split no model trains on
TRAIN_FACES = 22211


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--adv-weight", type=float, default=0.01)
    p.add_argument("--limit", type=int, default=TRAIN_FACES)
    p.add_argument("--max-minutes", type=float, default=None)
    p.add_argument("--max-steps", type=int, default=None)
    p.add_argument("--resume", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    torch.set_num_threads(int(os.environ.get("GANFILL_THREADS", torch.get_num_threads())))

    ckpt = args.out / CHECKPOINT
    if args.resume and ckpt.exists():
        config = config_from_dict(PhotoRefinerTrainConfig, load_tensors(ckpt)[1]["config"])
    else:
        config = PhotoRefinerTrainConfig(adv_weight=args.adv_weight, gan_weights=str(GAN_WEIGHTS),
                                         encoder_weights=str(ENCODER_WEIGHTS))
    inpainter = Inpainter.from_pretrained("fast", gan_weights=config.gan_weights or None,
                                          encoder_weights=config.encoder_weights or None,
                                          iterations=config.search_iterations)
    every = FaceFolder(default_data_root() / "celeba-wild" / "train", size=config.size, progress=True)
    data = ArrayFaces(every.images[:min(args.limit, TRAIN_FACES)], flip=True)
    glimpse = every.batch(range(TRAIN_FACES, TRAIN_FACES + 8))        # validation faces, never trained on
    torch.manual_seed(mix_seed(args.seed, "init"))
    recipe = PhotoRefinerRecipe(config, UpscaledLSGANCompleter(inpainter), "cpu", glimpse)
    loop = LoopConfig(epochs=args.epochs, batch_size=args.batch_size, seed=args.seed, max_minutes=args.max_minutes,
                      max_steps=args.max_steps, checkpoint_minutes=5.0, progress=False)
    progress = fit(recipe, data, args.out, loop, resume=args.resume)
    print(f"done: {progress}")
    tensors, meta = load_tensors(ckpt)
    keep = {k: v for k, v in tensors.items() if k.startswith("R.")}
    save_tensors(args.out / "photo-refiner.safetensors", keep,
                 {"kind": "refiner", "config": config_to_dict(config.refiner), "input": "lsgan-upscaled",
                  "size": config.size, "search_iterations": config.search_iterations, "blend": "paste",
                  "progress": meta.get("progress", {})}, dtype=torch.float16)


if __name__ == "__main__":
    main()
