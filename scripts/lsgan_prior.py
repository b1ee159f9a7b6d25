"""Is the GAN prior doing its job?  The measurements and fixes of the latent search's prior (issue 13).

    python scripts/lsgan_prior.py margin                 # D's real/fake margin, eval and train mode
    python scripts/lsgan_prior.py recalibrate -o W.safetensors   # D's batch-norm statistics from real faces
    python scripts/lsgan_prior.py gradients              # |∇z contextual| / |∇z perceptual| at the start
    python scripts/lsgan_prior.py sweep --lams 0,0.003,1,10 --iterations 10,30
    python scripts/lsgan_prior.py -n 200 candidates     # lsgan+ae's 4 candidates: flip averaging for which

Every tuning number comes from the **validation split**: celeba-wild/train faces 22211-22710
(shrunk to 64 px), which no model trained on (the LSGAN trained on celeba/train).  ``recalibrate``
uses celeba/train, the faces D was trained on.  Weights: ``--gan`` (default: the shipped ones).
"""

from __future__ import annotations

import argparse
import json
import os

import numpy as np
import torch

from ganfill.data import WILD_VALIDATION, FaceFolder, default_data_root, make_masks, mask_to_tensor, to_tensor
from ganfill.inpaint.losses import contextual_loss, importance_weights, perceptual_loss
from ganfill.models.io import load_tensors, save_tensors
from ganfill.weights import GAN_WEIGHTS, load_encoder, load_gan


def validation_faces(n: int) -> np.ndarray:
    every = FaceFolder(default_data_root() / "celeba-wild" / "train", size=64)
    return every.images[WILD_VALIDATION.start:WILD_VALIDATION.stop][:n]


@torch.no_grad()
def margin(G, D, real: torch.Tensor, seed: int = 0) -> dict[str, float]:
    """Mean D(real) − mean D(G(z)) with D in eval mode (as the search uses it) and in train mode."""
    fake = G(G.sample_z(len(real), torch.Generator().manual_seed(seed)))
    out = {}
    for mode in ("eval", "train"):
        D.train(mode == "train")
        out[f"{mode}_real"] = float(D(real).mean())
        out[f"{mode}_fake"] = float(D(fake).mean())
        out[f"{mode}_margin"] = out[f"{mode}_real"] - out[f"{mode}_fake"]
    D.eval()
    return out


@torch.no_grad()
def recalibrate_batch_norm(model: torch.nn.Module, batches) -> None:
    """Reset every batch norm's running statistics and recompute them as the plain average over
    ``batches`` (momentum None), i.e. from exactly the images the model will be asked about."""
    norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None
    model.train()
    for batch in batches:
        model(batch)
    for m in norms:
        m.momentum = 0.1
    model.eval()


def cmd_margin(args) -> None:
    G, D = load_gan(args.gan)
    real = to_tensor(validation_faces(args.n))
    print(json.dumps({"weights": str(args.gan or GAN_WEIGHTS), **{k: round(v, 4) for k, v in
                                                                 margin(G, D, real).items()}}))


def cmd_recalibrate(args) -> None:
    G, D = load_gan(args.gan)
    train = FaceFolder(default_data_root() / "celeba" / "train").images
    real_val = to_tensor(validation_faces(args.n))
    before = margin(G, D, real_val)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(train))[:args.images]
    recalibrate_batch_norm(D, (to_tensor(train[order[i:i + 64]]) for i in range(0, len(order), 64)))
    after = margin(G, D, real_val)
    tensors, meta = load_tensors(args.gan or GAN_WEIGHTS)
    for k, v in D.state_dict().items():
        if "running" in k:
            tensors[f"D.{k}"] = v.to(tensors[f"D.{k}"].dtype)
    meta["d_statistics"] = f"batch-norm running statistics recomputed on {len(order)} celeba/train faces"
    save_tensors(args.output, tensors, meta)
    print(json.dumps({"before": {k: round(v, 4) for k, v in before.items()},
                      "after": {k: round(v, 4) for k, v in after.items()}, "wrote": str(args.output)}))


def cmd_gradients(args) -> None:
    G, D = load_gan(args.gan)
    E = load_encoder()
    faces = validation_faces(args.n)
    for kind in ("center", "free"):
        y = to_tensor(faces)
        m = mask_to_tensor(make_masks(kind, len(faces), 64, seed=1))
        z = E(y, m).detach().requires_grad_(True)
        generated = G(z)
        g_ctx, = torch.autograd.grad(contextual_loss(generated, y, importance_weights(m)).sum(), z, retain_graph=True)
        g_per, = torch.autograd.grad(perceptual_loss(D(generated)).sum(), z)
        ratio = g_ctx.norm(dim=1) / g_per.norm(dim=1).clamp_min(1e-12)
        print(json.dumps({"mask": kind, "ctx_grad": round(float(g_ctx.norm(dim=1).median()), 4),
                          "perceptual_grad": round(float(g_per.norm(dim=1).median()), 6),
                          "lambda_equal_gradients": round(float(ratio.median()), 3)}))


def cmd_sweep(args) -> None:
    from ganfill.evaluate import evaluate_method
    from ganfill.face_descriptors import descriptor_unavailable, descriptors
    from ganfill.inpaint import Inpainter
    from ganfill.methods import image_seeds

    faces = validation_faces(args.n)
    masks = make_masks(args.mask, len(faces), 64, seed=1)
    truth = None if descriptor_unavailable() else descriptors(faces)
    y, m = to_tensor(faces), mask_to_tensor(masks)
    for it in [int(v) for v in args.iterations.split(",")]:
        for lr in [float(v) for v in args.lrs.split(",")]:
            for lam in [float(v) for v in args.lams.split(",")]:
                options = {"lam": lam, "iterations": it, "lr": lr, "gan_weights": args.gan}
                r = evaluate_method(args.method, faces, masks, options=options, truth_descriptors=truth, seed=0)
                inp = Inpainter.from_pretrained("fast", gan_weights=args.gan, lam=lam, iterations=it, lr=lr)
                z0 = inp.encoder(y, m)
                result, _ = inp.generate(y, m, 1, image_seeds(0, 0, len(faces)))
                moved = (result.z - z0).norm(dim=1)
                print(json.dumps({"method": args.method, "mask": args.mask, "lam": lam, "iterations": it, "lr": lr,
                                  **{k: round(v, 4) for k, v in r.scores.items()},
                                  "z_moved_median": round(float(moved.median()), 4),
                                  "z_moved_max": round(float(moved.max()), 4)}), flush=True)


def cmd_candidates(args) -> None:
    """lsgan+ae's K candidates refined with the flip average for all of them, for the best only, or
    for none: their diversity, and what each costs candidate 1 and the alternatives."""
    from ganfill.data import to_uint8
    from ganfill.face_descriptors import descriptor_unavailable, descriptors, frechet_distance
    from ganfill.inpaint.refine import run_refiner
    from ganfill.methods import get_method, image_seeds
    from ganfill.metrics import diversity, score_batch, sharpness

    faces = validation_faces(args.n)
    masks = make_masks("center", len(faces), 64, seed=1)
    k = args.k
    method = get_method("lsgan+ae")
    y, m = to_tensor(faces), mask_to_tensor(masks)
    completed = method.inpainter.complete_tensor(y, m, k, image_seeds(0, 0, len(faces))).images.flatten(0, 1)
    with torch.no_grad():
        refined = {flip: to_uint8(run_refiner(method.refiner, completed, m.repeat_interleave(k, 0), flip)
                                  ).reshape(len(faces), k, 64, 64, 3) for flip in (True, False)}
    truth = None if descriptor_unavailable() else descriptors(faces)
    for name, flips in (("all", [True] * k), ("best only", [True] + [False] * (k - 1)), ("none", [False] * k)):
        cands = np.stack([refined[f][:, j] for j, f in enumerate(flips)], axis=1)
        cands = np.where(masks[:, None, :, :, None], cands, faces[:, None])
        others = cands[:, 1:].reshape(-1, 64, 64, 3)
        others_masks = np.repeat(masks, k - 1, axis=0)
        first, rest = score_batch(cands[:, 0], faces, masks), score_batch(others, np.repeat(faces, k - 1, 0), others_masks)
        row = {"flip": name, "n": len(faces), "k": k, "diversity": round(diversity(cands, masks), 2),
               "psnr_1": round(first["psnr"], 3), "ssim_1": round(first["ssim"], 4),
               "psnr_rest": round(rest["psnr"], 3), "ssim_rest": round(rest["ssim"], 4),
               "sharpness_rest": round(sharpness(others, np.repeat(faces, k - 1, 0), others_masks), 4)}
        if truth is not None:
            row["fd_dlib_rest"] = round(frechet_distance(descriptors(others), truth), 4)
        print(json.dumps(row), flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--gan", default=None, help="LSGAN weights (default: shipped)")
    p.add_argument("-n", type=int, default=500, help="validation faces")
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("margin")
    r = sub.add_parser("recalibrate")
    r.add_argument("-o", "--output", required=True)
    r.add_argument("--images", type=int, default=8192)
    sub.add_parser("gradients")
    s = sub.add_parser("sweep")
    s.add_argument("--method", default="lsgan")
    s.add_argument("--mask", default="center")
    s.add_argument("--lams", default="0,0.003,0.1,1,10")
    s.add_argument("--iterations", default="10")
    s.add_argument("--lrs", default="0.01")
    c = sub.add_parser("candidates")
    c.add_argument("-k", type=int, default=4)
    args = p.parse_args()
    torch.set_num_threads(int(os.environ.get("GANFILL_THREADS", torch.get_num_threads())))
    {"margin": cmd_margin, "recalibrate": cmd_recalibrate, "gradients": cmd_gradients, "sweep": cmd_sweep,
     "candidates": cmd_candidates}[args.cmd](args)


if __name__ == "__main__":
    main()
