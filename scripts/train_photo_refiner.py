"""Train the photo-scale refiner (``train/photo_refiner.py``) on celeba-wild/train less its
validation faces, with the shipped 64-px LSGAN and encoder making the input.

    python scripts/train_photo_refiner.py --out runs/photo-refiner --epochs 3 [--resume] [--max-minutes M]
        [--init src/ganfill/weights/refiner.safetensors] [--size 128] [--search-iterations 0] [--detail-head 24]
        [--ssim-weight 2] [--lr 3e-4] [--device cuda] [--checkpoint-minutes 5]

``--init`` starts the refiner from a trained one (the 64-px U-Net is fully convolutional, so its
weights fit any size); with ``--detail-head`` a full-resolution head is added to it, starting at
zero (``models/refiner.py``), so the run begins from exactly the ``--init`` network.
``--size 64 --data ../shared/data/celeba/train`` trains the 64-px refiner with the same adversarial
recipe (the thesis's protocol: all 16,000 training faces).

Resumable (atomic checkpoints in ``--out``); at the end the refiner is exported as fp16 safetensors
to ``--out/photo-refiner.safetensors`` (``ganfill.weights.export_photo_refiner``).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import torch

from ganfill.data import (WILD_VALIDATION, ArrayFaces, FaceFolder, default_data_root, wild_validation_faces,
                          without_wild_validation)
from ganfill.inpaint import Inpainter
from ganfill.models.io import config_from_dict, config_to_dict, load_tensors
from ganfill.train import CHECKPOINT, LoopConfig, fit
from ganfill.train.distributed import setup_distributed
from ganfill.train.photo_refiner import PhotoRefinerRecipe, PhotoRefinerTrainConfig, UpscaledLSGANCompleter
from ganfill.train.seeding import mix_seed
from ganfill.weights import ENCODER_WEIGHTS, GAN_WEIGHTS, export_photo_refiner, load_refiner

#: celeba-wild/train 00000-22210; the faces after them are the validation split no model trains on
TRAIN_FACES = WILD_VALIDATION.start


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--adv-weight", type=float, default=0.01)
    p.add_argument("--lr", type=float, default=PhotoRefinerTrainConfig.lr, help="the refiner's Adam step size")
    p.add_argument("--ssim-weight", type=float, default=0.0, help="weight of 1 - SSIM(output, truth) in the loss")
    p.add_argument("--limit", type=int, default=TRAIN_FACES, help="train on the first N faces only")
    p.add_argument("--max-minutes", type=float, default=None)
    p.add_argument("--max-steps", type=int, default=None)
    p.add_argument("--resume", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--search-iterations", type=int, default=0)
    p.add_argument("--data", type=Path, default=None, help="default: celeba-wild/train less its validation faces")
    p.add_argument("--init", type=Path, default=None, help="start the refiner from these weights")
    p.add_argument("--detail-head", type=int, default=0, help="channels of the full-resolution head (0: none)")
    p.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    p.add_argument("--checkpoint-minutes", type=float, default=5.0)
    args = p.parse_args()
    torch.set_num_threads(int(os.environ.get("GANFILL_THREADS", torch.get_num_threads())))
    env = setup_distributed(args.device)

    ckpt = args.out / CHECKPOINT
    if args.resume and ckpt.exists():
        config = config_from_dict(PhotoRefinerTrainConfig, load_tensors(ckpt)[1]["config"])
    else:
        config = PhotoRefinerTrainConfig(adv_weight=args.adv_weight, ssim_weight=args.ssim_weight, lr=args.lr,
                                         size=args.size, search_iterations=args.search_iterations,
                                         gan_weights=str(GAN_WEIGHTS), encoder_weights=str(ENCODER_WEIGHTS))
        config.refiner.detail_head = args.detail_head
    inpainter = Inpainter.from_pretrained("fast", device=env.device, gan_weights=config.gan_weights or None,
                                          encoder_weights=config.encoder_weights or None,
                                          iterations=config.search_iterations)
    glimpse = ArrayFaces(wild_validation_faces(8)).batch(range(8))   # validation faces, never trained on
    folder = args.data or default_data_root() / "celeba-wild" / "train"
    data = without_wild_validation(FaceFolder(folder, size=config.size, progress=True), args.limit)
    torch.manual_seed(mix_seed(args.seed, "init"))
    recipe = PhotoRefinerRecipe(config, UpscaledLSGANCompleter(inpainter), env.device, glimpse)
    if args.init is not None and not (args.resume and ckpt.exists()):
        start = load_refiner(args.init)
        if {**config_to_dict(start.config), "detail_head": 0} != {**config_to_dict(config.refiner), "detail_head": 0}:
            raise SystemExit(f"--init {args.init}: its refiner config differs from this run's")
        # A head the --init network lacks keeps its zero start.
        missing, unexpected = recipe.R.load_state_dict(start.state_dict(), strict=False)
        if unexpected or any(not k.startswith("net.head.") for k in missing):
            raise SystemExit(f"--init {args.init}: its weights do not fit this run's refiner")
    loop = LoopConfig(epochs=args.epochs, batch_size=args.batch_size, seed=args.seed, max_minutes=args.max_minutes,
                      max_steps=args.max_steps, checkpoint_minutes=args.checkpoint_minutes, progress=False)
    progress = fit(recipe, data, args.out, loop, env, resume=args.resume)
    print(f"done: {progress}")
    export_photo_refiner(ckpt, args.out / "photo-refiner.safetensors")


if __name__ == "__main__":
    main()
