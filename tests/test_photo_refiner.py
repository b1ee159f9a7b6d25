"""The photo-scale refiner's recipe: the 64-px LSGAN's completion scaled up to 128 px,
a refiner at 128 px, and a patch discriminator trained with it (least squares)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from ganfill.data import make_masks, mask_to_tensor, to_tensor
from ganfill.models.refiner import REFINER_PRESETS, PatchDiscriminator, PatchDiscriminatorConfig
from ganfill.inpaint.refine import shrink, upscaled_completion
from ganfill.models.io import CheckpointError
from ganfill.train.checkpoint import save_checkpoint
from ganfill.train.photo_refiner import PhotoRefinerRecipe, PhotoRefinerTrainConfig, UpscaledLSGANCompleter
from ganfill.train.seeding import seeded
from test_refiner import tiny_gan, tiny_inpainter  # noqa: F401  (tiny_gan: a fixture)


@pytest.fixture(scope="module")
def wild128(data_root) -> torch.Tensor:
    from ganfill.data import FaceFolder

    folder = data_root / "celeba-wild" / "train"
    if not folder.is_dir():
        pytest.skip("no celeba-wild training faces")
    return to_tensor(FaceFolder(folder, size=128, limit=4, cache=False).images)


def test_patch_discriminator_scores_a_patch_per_8_pixels():
    D = PatchDiscriminator(PatchDiscriminatorConfig(width=1 / 16))
    assert D(torch.zeros(2, 3, 128, 128)).shape == (2, 1, 16, 16)
    assert D(torch.zeros(1, 3, 64, 96)).shape == (1, 1, 8, 12)       # any size


def test_shrink_keeps_every_hole_pixel():
    masks = mask_to_tensor(make_masks("free", 3, 128, seed=4))
    images = torch.rand(3, 3, 128, 128) * 2 - 1
    small, small_masks = shrink(images, masks, 64)
    assert small.shape == (3, 3, 64, 64) and torch.allclose(small, torch.nn.functional.avg_pool2d(images, 2))
    # a 64-px pixel is hole when any of its four pixels is
    assert torch.equal(small_masks, (torch.nn.functional.max_pool2d(masks, 2) > 0).float())


def test_the_upscaled_completion_keeps_the_known_pixels_and_fills_the_hole(wild128):
    inpainter = tiny_inpainter()
    masks = mask_to_tensor(make_masks("center", 4, 128))
    out = upscaled_completion(inpainter, wild128, masks, [0, 1, 2, 3], candidates=2)
    assert out.shape == (8, 3, 128, 128)
    known = (1 - masks).repeat_interleave(2, 0).bool().expand_as(out)
    assert torch.equal(out[known], wild128.repeat_interleave(2, 0)[known])
    hole = ~known
    assert (out[hole] - wild128.repeat_interleave(2, 0)[hole]).abs().mean() > 0.01     # G's face, not the truth
    # candidates 2.. start elsewhere: they differ from candidate 1 in the hole
    assert not torch.equal(out[0][hole[0]], out[1][hole[1]])
    # ranked by the latent search's loss: candidate 1 is the start with the lowest loss
    small, small_masks = shrink(wild128, masks, 64)
    result, _ = inpainter.generate(small, small_masks, 2, [0, 1, 2, 3])
    losses = result.loss.view(4, 2)
    again = upscaled_completion(inpainter, wild128, masks, [0, 1, 2, 3], candidates=1)
    first_is_best = losses[:, 0] <= losses[:, 1]
    for i in range(4):       # the single candidate is the encoder's start, the first of the two
        assert torch.equal(again[i], out[2 * i if first_is_best[i] else 2 * i + 1])


def test_a_step_trains_the_refiner_and_the_patch_discriminator(wild128):
    config = PhotoRefinerTrainConfig(refiner=copy.deepcopy(REFINER_PRESETS["tiny"]),
                                     discriminator=PatchDiscriminatorConfig(width=1 / 16), adv_weight=0.1,
                                     ssim_weight=0.0)
    torch.manual_seed(0)
    recipe = PhotoRefinerRecipe(config, UpscaledLSGANCompleter(tiny_inpainter()))
    r_before = {k: v.clone() for k, v in recipe.R.state_dict().items()}
    d_before = {k: v.clone() for k, v in recipe.D.state_dict().items()}
    logs = recipe.train_step(wild128, seeded(0, "step"), 0)
    assert set(recipe.loss_keys) <= set(logs) and all(np.isfinite(v) for v in logs.values())
    assert logs["adv"] > 0 and logs["loss"] > logs["hole_l1"]          # the adversarial term counts
    assert any(not torch.equal(v, recipe.R.state_dict()[k]) for k, v in r_before.items())
    assert any(not torch.equal(v, recipe.D.state_dict()[k]) for k, v in d_before.items())
    # without the adversarial weight, D is left alone
    recipe = PhotoRefinerRecipe(PhotoRefinerTrainConfig(refiner=copy.deepcopy(REFINER_PRESETS["tiny"]),
                                                        discriminator=PatchDiscriminatorConfig(width=1 / 16),
                                                        adv_weight=0.0, ssim_weight=0.0),
                                UpscaledLSGANCompleter(tiny_inpainter()))
    d_before = {k: v.clone() for k, v in recipe.D.state_dict().items()}
    logs = recipe.train_step(wild128, seeded(0, "step"), 0)
    assert logs["adv"] == 0 and logs["loss"] == pytest.approx(logs["hole_l1"])
    assert all(torch.equal(v, recipe.D.state_dict()[k]) for k, v in d_before.items())


def test_the_ssim_term_counts_in_the_photo_refiners_loss(wild128):
    def first_step(ssim_weight):
        torch.manual_seed(0)
        recipe = PhotoRefinerRecipe(PhotoRefinerTrainConfig(refiner=copy.deepcopy(REFINER_PRESETS["tiny"]),
                                                            discriminator=PatchDiscriminatorConfig(width=1 / 16),
                                                            adv_weight=0.0, ssim_weight=ssim_weight),
                                    UpscaledLSGANCompleter(tiny_inpainter()))
        return recipe.train_step(wild128, seeded(0, "step"), 0), recipe.R

    plain, r_plain = first_step(0.0)
    weighted, r_weighted = first_step(2.0)
    assert 0 < weighted["ssim"] < 1 and weighted["ssim"] == pytest.approx(plain["ssim"])   # same step, same output
    assert weighted["loss"] == pytest.approx(weighted["hole_l1"] + 2.0 * (1 - weighted["ssim"]))
    # its gradient moves the refiner elsewhere than L1's alone
    assert any(not torch.equal(v, r_weighted.state_dict()[k]) for k, v in r_plain.state_dict().items())


def test_a_bad_config_is_refused():
    with pytest.raises(ValueError, match="multiple of 64"):
        PhotoRefinerTrainConfig(size=100)
    with pytest.raises(ValueError, match=">= 0"):
        PhotoRefinerTrainConfig(adv_weight=-1)
    with pytest.raises(ValueError, match=">= 0"):
        PhotoRefinerTrainConfig(ssim_weight=-1)


def _tiny_photo_refiner(path, size: int = 128, **inference):
    """A tiny photo refiner exported as a shipped one is, after one training step."""
    from ganfill.weights import export_photo_refiner

    config = PhotoRefinerTrainConfig(refiner=copy.deepcopy(REFINER_PRESETS["tiny"]), size=size,
                                     discriminator=PatchDiscriminatorConfig(width=1 / 16))
    torch.manual_seed(0)
    recipe = PhotoRefinerRecipe(config, UpscaledLSGANCompleter(tiny_inpainter()))
    recipe.train_step(torch.rand(2, 3, size, size) * 2 - 1, seeded(0, "step"), 0)
    save_checkpoint(path.with_suffix(".ckpt"), recipe, {"global_step": 1})
    export_photo_refiner(path.with_suffix(".ckpt"), path, inference)
    return path


def test_the_wild_method_fills_128px_faces_with_candidates_through_its_refiner(tiny_gan, wild128, tmp_path):
    from ganfill.methods import get_method

    gan, enc = tiny_gan
    as_trained = _tiny_photo_refiner(tmp_path / "trained.safetensors")
    method = get_method("lsgan+ae-wild", refiner_weights=as_trained, gan_weights=gan, encoder_weights=enc)
    assert method.inpainter.config.search.iterations == 0 and method.flip   # none recorded: as in training
    weights = _tiny_photo_refiner(tmp_path / "wild.safetensors", iterations=3, flip=False)
    method = get_method("lsgan+ae-wild", refiner_weights=weights, gan_weights=gan, encoder_weights=enc)
    assert method.fixed_size == 128 and method.flip is False           # the file's inference choices
    assert method.inpainter.config.search.iterations == 3
    images = (wild128.permute(0, 2, 3, 1).numpy() * 127.5 + 127.5).round().astype(np.uint8)
    holes = make_masks("center", 4, 128)
    out = method.candidates(images, holes, 3, seed=5)
    assert out.shape == (4, 3, 128, 128, 3) and out.dtype == np.uint8
    assert np.array_equal(out[:, :, ~holes[0]], np.repeat(images[:, None], 3, 1)[:, :, ~holes[0]])
    assert (out[:, 0] != out[:, 1])[holes].mean() > 0.1                 # the candidates differ in the hole
    # the refiner's output, not the upscaled completion pasted
    pasted = upscaled_completion(method.inpainter, to_tensor(images), mask_to_tensor(holes), [0] * 4)
    assert not np.array_equal(out[:, 0], (pasted.permute(0, 2, 3, 1).numpy() * 127.5 + 127.5).round())
    # per-image seeds: the same image gives the same fill at another place in the batch
    assert np.array_equal(method.candidates(images[2:3], holes[2:3], 3, seed=5, start=[2])[0], out[2])
    with pytest.raises(ValueError, match="128"):
        method(images[:, :64, :64], holes[:, :64, :64])


def test_the_wild_method_refuses_a_refiner_of_another_size_or_input(tiny_gan, tmp_path):
    from ganfill.methods import get_method
    from ganfill.weights import REFINER_WEIGHTS, export_photo_refiner

    gan, enc = tiny_gan
    with pytest.raises(ValueError, match="trained at 64 px"):
        get_method("lsgan+ae-wild", refiner_weights=_tiny_photo_refiner(tmp_path / "r64.safetensors", size=64),
                   gan_weights=gan, encoder_weights=enc)
    with pytest.raises(CheckpointError, match="trained on 'lsgan' input.*'lsgan-upscaled' input"):
        get_method("lsgan+ae-wild", refiner_weights=REFINER_WEIGHTS, gan_weights=gan, encoder_weights=enc)
    with pytest.raises(CheckpointError, match="not a photo-refiner training checkpoint"):
        export_photo_refiner(gan.parent / "gan.ckpt.safetensors", tmp_path / "x.safetensors")


def test_train_photo_refiner_resumes_and_exports_the_shipped_files_metadata(tiny_gan, tmp_path, capsys):
    """``ganfill train-photo-refiner`` from a tiny refiner with a detail head added, resumed, then
    ``ganfill export photo-refiner``: a file the default method's loader takes, as the shipped one."""
    from ganfill.cli import main
    from ganfill.models.io import load_tensors
    from ganfill.weights import REFINER_WILD_WEIGHTS, load_refiner, refiner_input_settings

    gan, enc = tiny_gan
    init = _tiny_photo_refiner(tmp_path / "init.safetensors")
    out = tmp_path / "run"
    common = ["--out", str(out), "--dry-run", "--batch-size", "2", "--gan", str(gan), "--encoder", str(enc),
              "--device", "cpu", "--no-progress"]
    assert main(["train-photo-refiner", *common, "--max-steps", "2", "--init", str(init), "--detail-head", "4",
                 "--inference-iterations", "3", "--no-flip"]) == 0
    # resumed: the run's own config wins over the options given again
    assert main(["train-photo-refiner", *common, "--max-steps", "3", "--resume", "--detail-head", "8"]) == 0
    assert "done: 3 steps" in capsys.readouterr().out
    weights = tmp_path / "photo-refiner.safetensors"
    assert main(["export", "photo-refiner", str(out / "checkpoint.safetensors"), "-o", str(weights)]) == 0
    refiner = load_refiner(weights, input="lsgan-upscaled")
    assert refiner.config.detail_head == 4 and refiner.config.width == load_refiner(init).config.width
    assert refiner_input_settings(weights) == {"blend": "paste", "iterations": 0, "size": 128,
                                               "inference_iterations": 3, "flip": False}
    meta = load_tensors(weights)[1]
    assert set(meta) == set(load_tensors(REFINER_WILD_WEIGHTS)[1]) and meta["progress"]["global_step"] == 3
    # trained from the starting weights, and moved away from them
    start = load_refiner(init).state_dict()
    trained = refiner.state_dict()
    assert any(not torch.equal(v.half(), trained[k].half()) for k, v in start.items() if v.is_floating_point())


@pytest.mark.parametrize("option, message", [(["--size", "100"], "multiple of 64"),
                                             (["--detail-head", "-1"], ">= 0"),
                                             (["--init", "nope.safetensors"], "nope.safetensors")])
def test_train_photo_refiner_refuses_a_bad_option_in_one_line(tiny_gan, tmp_path, capsys, option, message):
    from ganfill.cli import main

    gan, enc = tiny_gan
    assert main(["train-photo-refiner", "--out", str(tmp_path / "run"), "--dry-run", "--gan", str(gan),
                 "--encoder", str(enc), "--device", "cpu", *option]) == 1
    err = capsys.readouterr().err
    assert err.startswith("ganfill: error: ") and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "run" / "checkpoint.safetensors").exists()


def test_the_photo_refiners_defaults_are_the_shipped_files():
    from ganfill.cli import build_parser
    from ganfill.models.io import load_tensors
    from ganfill.weights import REFINER_WILD_WEIGHTS

    args = build_parser().parse_args(["train-photo-refiner", "--out", "x"])
    meta = load_tensors(REFINER_WILD_WEIGHTS)[1]
    assert (args.size, args.search_iterations, args.detail_head) == (meta["size"], meta["search_iterations"],
                                                                     meta["config"]["detail_head"])
    assert (args.inference_iterations, args.flip) == (meta["inference"]["iterations"], meta["inference"]["flip"])
    assert args.batch_size == meta["progress"]["batch_size"]
