"""The autoencoder refiner: both architectures, its training recipe and completers, its weights
files, the ``lsgan+ae`` / ``lsgan+ae-paper`` / ``ae-only`` methods and the ``train-refiner`` command.

Every network is tiny and every latent search runs a few iterations, so the file takes seconds.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn

from ganfill.data import load_image, make_mask, mask_to_tensor, to_tensor, to_uint8
from ganfill.inpaint import Inpainter, PRESETS
from ganfill.models.encoder import ENCODER_PRESETS, LatentEncoder
from ganfill.models.gan import GAN_PRESETS, Discriminator, Generator
from ganfill.models.io import CheckpointError, config_from_dict, load_tensors
from ganfill.models.refiner import REFINER_PRESETS, Refiner, RefinerConfig
from ganfill.train.checkpoint import save_checkpoint
from ganfill.train.seeding import seeded
from ganfill.train.refiner import (EmptyHoleCompleter, LSGANCompleter, RefinerRecipe, RefinerTrainConfig,
                                   hole_mean)
from ganfill.weights import export_refiner, load_refiner

MASKS = np.stack([make_mask("center"), make_mask("free", seed=1), make_mask("half", seed=2),
                  make_mask("box", seed=3)])


# ---------------------------------------------------------------- helpers and fixtures

def lively(module: nn.Module, gain: float) -> nn.Module:
    """Kaiming weights scaled by ``gain`` (as in test_inpaint.py): a tiny G with DCGAN's N(0, 0.02)
    init draws an almost constant grey, so z would hardly matter."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.kaiming_normal_(m.weight, a=0.2)
            m.weight.data.mul_(gain)
    return module


def tiny_inpainter(seed: int = 0, iterations: int = 2) -> Inpainter:
    torch.manual_seed(seed)
    config = copy.deepcopy(GAN_PRESETS["tiny"])
    G = lively(Generator(config.generator), 2.0).eval()
    D = lively(Discriminator(config.discriminator), 1.0).eval()
    E = LatentEncoder(copy.deepcopy(ENCODER_PRESETS["tiny"])).eval()
    inp_config = copy.deepcopy(PRESETS["fast"])
    inp_config.search.iterations = iterations
    return Inpainter(G, D, E, inp_config)


def tiny_config(arch: str = "tiny", **changes) -> RefinerTrainConfig:
    config = RefinerTrainConfig(refiner=copy.deepcopy(REFINER_PRESETS[arch]), lr=2e-3)
    for key, value in changes.items():
        setattr(config, key, value)
    return config


@pytest.fixture
def masks() -> torch.Tensor:
    return mask_to_tensor(MASKS)


def _cli(argv) -> int:
    from ganfill.cli import main

    return main([str(a) for a in argv])


@pytest.fixture(scope="module")
def tiny_gan(tmp_path_factory):
    """Tiny LSGAN and latent-encoder weights files, made lively and exported as shipped files are."""
    from ganfill.train import GANRecipe
    from ganfill.train.encoder import EncoderRecipe, EncoderTrainConfig
    from ganfill.weights import export_encoder, export_gan

    root = tmp_path_factory.mktemp("tiny-gan")
    torch.manual_seed(0)
    gan = GANRecipe(copy.deepcopy(GAN_PRESETS["tiny"]))
    lively(gan.G, 2.0)
    lively(gan.D, 1.0)
    save_checkpoint(root / "gan.ckpt.safetensors", gan, {"global_step": 0})
    export_gan(root / "gan.ckpt.safetensors", root / "gan.safetensors")
    enc = EncoderRecipe(EncoderTrainConfig(encoder=copy.deepcopy(ENCODER_PRESETS["tiny"])), gan.G)
    save_checkpoint(root / "enc.ckpt.safetensors", enc, {"global_step": 0})
    export_encoder(root / "enc.ckpt.safetensors", root / "encoder.safetensors")
    return root / "gan.safetensors", root / "encoder.safetensors"


@pytest.fixture(scope="module")
def cli_runs(tiny_gan, tmp_path_factory, train_dir):
    """``ganfill train-refiner`` for two steps (one short epoch) per variant, then ``export-refiner``."""
    gan, enc = tiny_gan
    root = tmp_path_factory.mktemp("refiner-runs")
    runs = {}
    for name, arch, kind in (("lsgan", "tiny", "lsgan"), ("paper", "tiny-paper", "lsgan"), ("empty", "tiny", "empty")):
        run = root / f"run-{name}"
        assert _cli(["train-refiner", "--arch", arch, "--input", kind, "--gan", gan, "--encoder", enc,
                     "--iterations", "2", "--data", train_dir, "--limit", "8", "--batch-size", "4",
                     "--max-steps", "2", "--out", run, "--no-progress"]) == 0
        weights = root / f"refiner-{name}.safetensors"
        assert _cli(["export-refiner", run / "checkpoint.safetensors", "-o", weights]) == 0
        runs[name] = (run, weights)
    return runs


# ---------------------------------------------------------------- the networks

@pytest.mark.parametrize("arch", ["paper", "unet"])
def test_refiner_shapes_range_and_known_pixels(arch, truth, masks):
    torch.manual_seed(0)
    R = lively(Refiner(RefinerConfig(arch=arch, width=1 / 16)), 1.0).eval()
    scribbled = truth * (1 - masks) + masks * torch.rand(truth.shape, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        out = R(scribbled, masks)
    assert out.shape == (4, 3, 64, 64) and out.dtype == torch.float32
    assert out.min() >= -1 and out.max() <= 1
    known = ~masks.bool().expand_as(out)
    assert torch.equal(out[known], scribbled[known])          # exactly, not approximately
    assert not torch.allclose(out[~known], scribbled[~known])  # the hole is refined
    with torch.no_grad():                                      # ...from what the hole held
        assert not torch.allclose(R(truth, masks)[~known], out[~known])
    R.train()
    R(scribbled, masks).mean().backward()                      # trainable in train mode too
    assert all(p.grad is not None for p in R.parameters())


def test_paper_code_has_8192_values_and_unet_is_cpu_sized(truth, masks):
    torch.manual_seed(0)
    R = Refiner(copy.deepcopy(REFINER_PRESETS["paper"])).eval()
    assert R.config.width == 1.0 and R.config.arch == "paper"
    seen = {}
    R.net.encoder.register_forward_hook(lambda m, i, o: seen.update(code=o.shape))
    with torch.no_grad():
        assert R(truth[:1], masks[:1]).shape == (1, 3, 64, 64)
        code = R.code(truth[:1], masks[:1])
    assert tuple(code.shape) == tuple(seen["code"]) == (1, 512, 4, 4)
    assert code[0].numel() == 8192
    unet = Refiner(copy.deepcopy(REFINER_PRESETS["unet"]))
    assert 1_000_000 <= sum(p.numel() for p in unet.parameters()) <= 3_000_000
    assert any(isinstance(m, nn.Conv2d) and m.dilation != (1, 1) for m in unet.modules())
    assert any(isinstance(m, nn.BatchNorm2d) for m in unet.modules())
    with pytest.raises(ValueError, match="architecture"):
        Refiner(RefinerConfig(arch="transformer"))


def test_detail_head_starts_as_the_unet_it_is_added_to(truth, masks):
    torch.manual_seed(0)
    plain = lively(Refiner(RefinerConfig(width=1 / 16)), 1.0).eval()
    headed = Refiner(RefinerConfig(width=1 / 16, detail_head=4)).eval()
    missing, unexpected = headed.load_state_dict(plain.state_dict(), strict=False)
    assert not unexpected and missing and all(k.startswith("net.head.") for k in missing)
    x = truth * (1 - masks) + masks * 0.3
    with torch.no_grad():
        assert torch.equal(headed(x, masks), plain(x, masks))      # the zero start: exactly the U-Net
    headed.train()
    (headed(x, masks) - truth).abs().mean().backward()
    assert headed.net.head[-1].weight.grad.abs().sum() > 0          # ...and it learns from there
    with torch.no_grad():
        headed.net.head[-1].weight.normal_(0, 0.1)
        headed.eval()
        out = headed(x, masks)
    known = ~masks.bool().expand_as(out)
    assert torch.equal(out[known], x[known]) and not torch.allclose(out, plain(x, masks))
    with pytest.raises(ValueError, match="unet"):
        Refiner(RefinerConfig(arch="paper", detail_head=4))


# ---------------------------------------------------------------- completers and training

def test_completers_keep_the_known_pixels(truth, masks):
    empty = EmptyHoleCompleter()(truth, masks, seeded(0))
    assert torch.equal(empty, truth * (1 - masks))
    completer = LSGANCompleter(tiny_inpainter())
    a = completer(truth, masks, seeded(0))
    assert a.shape == truth.shape
    known = ~masks.bool().expand_as(truth)
    assert torch.equal(a[known], truth[known])          # the uint8 round trip is exact for decoded faces
    assert not torch.allclose(a[~known], truth[~known])
    assert torch.equal(completer(truth, masks, seeded(0)), a)  # seeded by the step's generator


@pytest.mark.parametrize("kind", ["lsgan", "empty"])
def test_training_steps_lower_the_loss_on_a_fixed_batch(kind, truth):
    completer = LSGANCompleter(tiny_inpainter()) if kind == "lsgan" else EmptyHoleCompleter()
    torch.manual_seed(0)
    recipe = RefinerRecipe(tiny_config(input=kind), completer)
    # The same seed every step: the same masks and the same inputs, so each step's reported loss
    # (computed before its update) is the loss of one fixed batch.
    history = [recipe.train_step(truth, seeded(0, "fixed-batch"), step) for step in range(15)]
    assert set(history[0]) == set(RefinerRecipe.loss_keys)
    assert all(np.isfinite(list(h.values())).all() for h in history)
    assert history[-1]["hole_l1"] < 0.8 * history[0]["hole_l1"]
    assert history[0]["adv"] == 0.0 and history[-1]["loss"] == pytest.approx(history[-1]["hole_l1"])
    assert len({round(h["input_l1"], 6) for h in history}) == 1       # the input did not change


def test_adversarial_term_uses_a_frozen_discriminator(truth):
    inpainter = tiny_inpainter()
    D = inpainter.D
    before = {k: v.clone() for k, v in D.state_dict().items()}
    torch.manual_seed(0)
    recipe = RefinerRecipe(tiny_config(adv_weight=0.5), LSGANCompleter(inpainter), D)
    r_before = {k: v.clone() for k, v in recipe.R.state_dict().items()}
    losses = [recipe.train_step(truth, seeded(1, step), step) for step in range(2)]
    assert all(h["adv"] > 0 for h in losses)
    assert losses[0]["loss"] == pytest.approx(losses[0]["hole_l1"] + 0.5 * losses[0]["adv"], rel=1e-5)
    assert all(torch.equal(before[k], v) for k, v in D.state_dict().items())
    assert not any(p.requires_grad for p in D.parameters()) and not D.training
    assert not all(torch.equal(r_before[k], v) for k, v in recipe.R.state_dict().items())
    with pytest.raises(ValueError, match="discriminator"):
        RefinerRecipe(tiny_config(adv_weight=0.1), EmptyHoleCompleter())


def test_config_validation_and_hole_mean():
    with pytest.raises(ValueError, match="input"):
        RefinerTrainConfig(input="telea")
    with pytest.raises(ValueError, match=">= 0"):
        RefinerTrainConfig(adv_weight=-1)
    err = torch.zeros(2, 3, 4, 4)
    m = torch.zeros(2, 1, 4, 4)
    err[0, :, 0, 0] = 3.0
    m[0, :, 0, 0] = 1.0
    m[1, :, 1, 1] = 1.0             # a hole pixel with no error
    err[1, :, 2, 2] = 100.0         # an error outside the hole: ignored
    assert hole_mean(err, m).item() == pytest.approx(1.5)


def test_glimpses_show_input_output_truth(truth, tmp_path):
    torch.manual_seed(0)
    recipe = RefinerRecipe(tiny_config(input="empty"), EmptyHoleCompleter(), glimpse=truth)
    recipe.epoch_end(tmp_path, 3)
    grid = load_image(tmp_path / "glimpses" / "epoch-003.png")
    assert grid.shape == (3 * 66 + 2, 4 * 66 + 2, 3)                # 3 rows x 4 faces, 2 px padding
    assert np.array_equal(grid[2 * 66 + 2:2 * 66 + 66, 2:66], to_uint8(truth[:1])[0])   # the truth row


# ---------------------------------------------------------------- weights files

@pytest.fixture
def trained_recipe(truth) -> RefinerRecipe:
    torch.manual_seed(2)
    recipe = RefinerRecipe(tiny_config(input="empty"), EmptyHoleCompleter())
    for step in range(3):      # move the weights and the batch-norm statistics away from their init
        recipe.train_step(truth, seeded(1, step), step)
    return recipe


def test_checkpoint_export_load_round_trip(trained_recipe, truth, masks, tmp_path):
    ckpt, weights = tmp_path / "run" / "checkpoint.safetensors", tmp_path / "refiner.safetensors"
    save_checkpoint(ckpt, trained_recipe, {"global_step": 3})
    meta = load_tensors(ckpt)[1]
    assert config_from_dict(RefinerTrainConfig, meta["config"]) == trained_recipe.config   # what resume rebuilds
    export_refiner(ckpt, weights)
    tensors, meta = load_tensors(weights)
    assert meta["kind"] == "refiner" and meta["input"] == "empty" and meta["progress"] == {"global_step": 3}
    assert all(k.startswith("R.") for k in tensors)
    assert all(v.dtype == torch.float16 for v in tensors.values() if v.is_floating_point())
    assert weights.stat().st_size < ckpt.stat().st_size

    R = trained_recipe.R.eval()
    loaded = load_refiner(weights, input="empty")
    assert isinstance(loaded, Refiner) and not loaded.training and loaded.config == R.config
    x = truth * (1 - masks)
    with torch.no_grad():
        assert torch.allclose(loaded(x, masks), R(x, masks), atol=2e-2)
    for k, v in R.state_dict().items():
        w = loaded.state_dict()[k]
        assert torch.allclose(w, v.half().float()) if v.is_floating_point() else torch.equal(w, v)


def test_wrong_weights_files_raise_checkpoint_errors(trained_recipe, tiny_gan, tmp_path):
    gan, enc = tiny_gan
    ckpt, weights = tmp_path / "ckpt.safetensors", tmp_path / "refiner.safetensors"
    save_checkpoint(ckpt, trained_recipe, {})
    export_refiner(ckpt, weights)
    for wrong in (gan, enc, ckpt):
        with pytest.raises(CheckpointError, match="refiner"):
            load_refiner(wrong)
    with pytest.raises(CheckpointError, match="'empty' input"):
        load_refiner(weights, input="lsgan")
    with pytest.raises(CheckpointError, match="not a refiner training checkpoint"):
        export_refiner(tiny_gan[0], tmp_path / "nope.safetensors")
    assert not (tmp_path / "nope.safetensors").exists()
    from ganfill.weights import load_context_encoder, load_encoder
    with pytest.raises(CheckpointError):
        load_context_encoder(weights)
    with pytest.raises(CheckpointError):
        load_encoder(weights)


# ---------------------------------------------------------------- the command and the methods

def test_cli_train_refiner_writes_checkpoint_and_glimpses(cli_runs):
    from ganfill.train.checkpoint import read_checkpoint_meta

    for name, (run, weights) in cli_runs.items():
        meta = read_checkpoint_meta(run / "checkpoint.safetensors")
        assert meta["recipe"] == "refiner" and meta["progress"]["global_step"] == 2
        assert meta["config"]["input"] == ("empty" if name == "empty" else "lsgan")
        grid = load_image(run / "glimpses" / "epoch-001.png")
        assert grid.shape == (3 * 66 + 2, 8 * 66 + 2, 3)        # input / output / truth x 8 test faces
        assert load_refiner(weights).config.arch == ("paper" if name == "paper" else "unet")


def test_registry_methods_keep_known_pixels(cli_runs, tiny_gan, faces):
    from ganfill.methods import get_method

    gan, enc = tiny_gan
    images = faces[:4]
    lsgan = get_method("lsgan", gan_weights=gan, encoder_weights=enc, iterations=2)(images, MASKS)
    for name, weights, options in (
            ("lsgan+ae", cli_runs["lsgan"][1], {"gan_weights": gan, "encoder_weights": enc, "iterations": 2}),
            ("lsgan+ae-paper", cli_runs["paper"][1], {"gan_weights": gan, "encoder_weights": enc, "iterations": 2}),
            ("ae-only", cli_runs["empty"][1], {})):
        method = get_method(name, refiner_weights=weights, **options)
        assert method.name == name
        out = method(images, MASKS)
        assert out.shape == images.shape and out.dtype == np.uint8
        assert np.array_equal(out[~MASKS], images[~MASKS]), name
        assert not np.array_equal(out[MASKS], images[MASKS]), name
        assert not np.array_equal(out[MASKS], lsgan[MASKS]), name      # the refiner did change the hole
        one = method(images[0], MASKS[0])
        assert np.array_equal(one[~MASKS[0]], images[0][~MASKS[0]])
    cands = get_method("lsgan+ae", refiner_weights=cli_runs["lsgan"][1], gan_weights=gan, encoder_weights=enc,
                       iterations=2).candidates(images[:2], MASKS[:2], 2)
    assert cands.shape == (2, 2, 64, 64, 3)
    for k in range(2):
        assert np.array_equal(cands[:, k][~MASKS[:2]], images[:2][~MASKS[:2]])
    # each method checks that its refiner was trained on the input it will get
    with pytest.raises(CheckpointError, match="'lsgan' input"):
        get_method("ae-only", refiner_weights=cli_runs["lsgan"][1])
    with pytest.raises(CheckpointError, match="'empty' input"):
        get_method("lsgan+ae", refiner_weights=cli_runs["empty"][1], gan_weights=gan, encoder_weights=enc)


def test_cli_refiner_errors_are_one_line(tiny_gan, tmp_path, capsys):
    gan, _ = tiny_gan
    code = _cli(["train-refiner", "--dry-run", "--arch", "huge", "--input", "empty", "--out", tmp_path / "r",
                 "--no-progress"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code != 0 and len(err) == 1 and err[0].startswith("ganfill: error:") and "huge" in err[0]
    code = _cli(["export-refiner", gan, "-o", tmp_path / "r.safetensors"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code != 0 and len(err) == 1 and "not a refiner training checkpoint" in err[0]
    assert not (tmp_path / "r.safetensors").exists()


# ---------------------------------------------------------------- paste input, SSIM, init, flip

def test_the_paste_completer_feeds_training_exactly_what_inference_feeds(truth, masks):
    """Training makes the refiner's input on tensors; lsgan+ae makes it through uint8 arrays."""
    inpainter = tiny_inpainter()
    inpainter.config.blend = "paste"
    trained = LSGANCompleter(inpainter)(truth, masks, seeded(3))
    starts = torch.randint(0, 2**62, (len(truth),), generator=seeded(3)).tolist()
    holes = masks[:, 0].numpy() > 0.5
    inferred = inpainter.complete(to_uint8(truth), holes, 1, starts).images[:, 0]
    assert np.array_equal(to_uint8(trained), inferred)


def test_ssim_torch_is_the_evaluators_ssim(faces):
    from ganfill.metrics import ssim, ssim_torch

    rng = np.random.default_rng(0)
    noisy = np.clip(faces[:4].astype(int) + rng.integers(-30, 30, faces[:4].shape), 0, 255).astype(np.uint8)
    ours = ssim_torch(to_tensor(noisy).double(), to_tensor(faces[:4]).double())
    theirs = [ssim(noisy[i], faces[i]) for i in range(4)]
    assert np.allclose(ours.numpy(), theirs, atol=1e-6)
    x = to_tensor(noisy).requires_grad_(True)
    ssim_torch(x, to_tensor(faces[:4])).mean().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()


def test_the_ssim_term_trains_and_is_logged(truth):
    recipe = RefinerRecipe(tiny_config(ssim_weight=2.0), EmptyHoleCompleter())
    first = recipe.train_step(truth, seeded(0), 0)
    assert 0 < first["ssim"] < 1 and first["loss"] > first["hole_l1"]
    with pytest.raises(ValueError, match=">= 0"):
        tiny_config(ssim_weight=-1.0).__post_init__()


def test_init_fine_tunes_from_a_refiner_file_and_records_it(cli_runs, tiny_gan, train_dir, tmp_path):
    gan, enc = tiny_gan
    _, start = cli_runs["lsgan"]
    run = tmp_path / "ft"
    assert _cli(["train-refiner", "--init", start, "--ssim-weight", "1", "--gan", gan, "--encoder", enc,
                 "--iterations", "2", "--data", train_dir, "--limit", "8", "--batch-size", "4", "--max-steps", "1",
                 "--lr", "0", "--out", run, "--no-progress"]) == 0
    tensors, meta = load_tensors(run / "checkpoint.safetensors")
    assert meta["config"]["init_weights"] == str(start) and meta["config"]["ssim_weight"] == 1.0
    before = load_refiner(start).state_dict()
    for k, v in before.items():
        if "running" not in k and "num_batches" not in k:     # lr 0: only batch-norm statistics move
            assert torch.allclose(tensors[f"R.{k}"].float(), v.float(), atol=1e-3), k


def test_refiner_file_records_how_its_input_was_made(cli_runs):
    from ganfill.weights import refiner_input_settings

    _, weights = cli_runs["lsgan"]
    assert refiner_input_settings(weights) == {"blend": "paste", "iterations": 2, "inference_iterations": 2,
                                               "flip": True}     # inference as in training, flip averaged


def test_flip_averaging_is_the_mean_of_both_passes(truth, masks):
    from ganfill.inpaint.refine import run_refiner

    torch.manual_seed(0)
    R = lively(Refiner(copy.deepcopy(REFINER_PRESETS["tiny"])), 2.0).eval()
    x = truth * (1 - masks)
    plain = run_refiner(R, x, masks, flip=False)
    both = run_refiner(R, x, masks, flip=True)
    with torch.no_grad():
        mirrored = R(x.flip(-1), masks.flip(-1)).flip(-1)
    assert torch.allclose(both, (plain + mirrored) / 2)
    assert not torch.allclose(both, plain)


def test_only_the_best_candidate_gets_the_flip_average(truth, masks):
    from ganfill.inpaint.refine import refine_candidates, run_refiner

    torch.manual_seed(0)
    R = lively(Refiner(copy.deepcopy(REFINER_PRESETS["tiny"])), 2.0).eval()
    k = 3
    x = (truth * (1 - masks)).repeat_interleave(k, 0) + torch.randn(len(truth) * k, 3, 64, 64) * 0.1
    out = refine_candidates(R, x, masks, k, flip=True)
    m_k = masks.repeat_interleave(k, 0)
    for i in range(len(x)):
        expected = run_refiner(R, x[i:i + 1], m_k[i:i + 1], flip=i % k == 0)
        assert (out[i:i + 1] - expected).abs().max() < 1e-3, i     # batch-size rounding only
    assert torch.allclose(refine_candidates(R, x, masks, k, flip=False), run_refiner(R, x, m_k, flip=False), atol=1e-3)
    assert (run_refiner(R, x[:1], m_k[:1], flip=True) - run_refiner(R, x[:1], m_k[:1], flip=False)).abs().max() > 1e-2
