"""The LSGAN networks, loss, training steps, checkpoints, exact resume and shipping weights."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from torch import nn

from ganfill.cli import main
from ganfill.data import FaceFolder, load_image, to_uint8
from ganfill.models.gan import (GAN_PRESETS, LOSS_VARIANTS, Discriminator, DiscriminatorConfig, GANConfig,
                                Generator, GeneratorConfig, LSGANLoss)
from ganfill.models.io import CheckpointError, config_to_dict, prefixed, save_tensors
from ganfill.train import CHECKPOINT, GANRecipe, gan_config
from ganfill.train.checkpoint import load_checkpoint, read_checkpoint_meta
from ganfill.train.seeding import seeded
from ganfill.weights import export_gan, load_gan

TINY = GAN_PRESETS["tiny"]


def _convs(module: nn.Module, kind) -> list[nn.Module]:
    return [m for m in module.modules() if isinstance(m, kind)]


# ------------------------------------------------------------------ networks

def test_tiny_shapes():
    torch.manual_seed(0)
    G, D = Generator(TINY.generator), Discriminator(TINY.discriminator)
    z = G.sample_z(5, torch.Generator().manual_seed(0))
    assert z.shape == (5, TINY.generator.z_dim)
    x = G(z)
    assert x.shape == (5, 3, 64, 64)
    assert D(x).shape == (5,)
    assert G(z.view(5, -1, 1, 1)).shape == (5, 3, 64, 64)


def test_generator_output_is_tanh_bounded():
    torch.manual_seed(0)
    G = Generator(TINY.generator)
    assert isinstance(G.net[-1], nn.Tanh)
    with torch.no_grad():
        for p in G.parameters():
            p.mul_(50)     # huge weights: pre-activations far outside [-1, 1]
        x = G(G.sample_z(4, torch.Generator().manual_seed(1)))
    assert x.min() >= -1 and x.max() <= 1
    assert x.abs().max() > 0.99    # saturated, so the bound is what tanh gives


def test_sample_z_is_uniform_in_the_box_and_seeded():
    G = Generator(TINY.generator)
    a = G.sample_z(2000, torch.Generator().manual_seed(3))
    b = G.sample_z(2000, torch.Generator().manual_seed(3))
    assert torch.equal(a, b)
    assert a.min() >= -1 and a.max() <= 1
    assert abs(a.mean().item()) < 0.02 and a.min() < -0.99 and a.max() > 0.99


def test_paper_config_channel_table():
    config = GAN_PRESETS["paper"]
    assert config.generator.channels() == (1024, 512, 256, 128)
    assert config.generator.z_dim == 100
    G, D = Generator(config.generator), Discriminator(config.discriminator)
    outs = [m.out_channels for m in _convs(G, nn.ConvTranspose2d)]
    assert outs == [1024, 512, 256, 128, 3]
    assert _convs(G, nn.ConvTranspose2d)[0].in_channels == 100
    assert [m.out_channels for m in _convs(D, nn.Conv2d)] == [64, 128, 256, 512, 1]
    assert any(isinstance(m, nn.Dropout2d) for m in G.modules())   # the thesis's "drop"
    assert not any(isinstance(m, nn.LayerNorm) for m in G.modules())
    G.eval()
    with torch.no_grad():
        x = G(G.sample_z(1, torch.Generator().manual_seed(0)))
    assert x.shape == (1, 3, 64, 64)


def test_one_octave_up_the_generator_gains_a_64_wide_stage_at_128_px(tmp_path):
    config = GAN_PRESETS["paper-128"]
    assert config.generator.channels() == (1024, 512, 256, 128, 64)       # the thesis's G, one stage deeper
    G, D = Generator(config.generator).eval(), Discriminator(config.discriminator).eval()
    assert [m.out_channels for m in _convs(G, nn.ConvTranspose2d)] == [1024, 512, 256, 128, 64, 3]
    assert [m.out_channels for m in _convs(D, nn.Conv2d)] == [32, 64, 128, 256, 512, 1]
    with torch.no_grad():
        x = G(G.sample_z(2, torch.Generator().manual_seed(0)))
        assert x.shape == (2, 3, 128, 128) and D(x).shape == (2,)
    with pytest.raises(ValueError, match="power of two"):
        GeneratorConfig(size=96).channels()
    with pytest.raises(ValueError, match="128-px"):
        GANRecipe(GANConfig(GeneratorConfig(size=128), DiscriminatorConfig()))
    # the whole CLI path at 128 px: training steps on 128-px faces, export, load
    out = tmp_path / "run"
    assert main(["train-gan", "--config", "tiny-128", "--dry-run", "--out", str(out), "--batch-size", "4",
                 "--no-progress"]) == 0
    assert main(["export-gan", str(out / CHECKPOINT), "-o", str(tmp_path / "g.safetensors")]) == 0
    G128 = load_gan(tmp_path / "g.safetensors")[0]
    assert G128.config.size == 128 and G128(torch.zeros(1, G128.config.z_dim)).shape == (1, 3, 128, 128)
    assert main(["train-encoder", "--config", "tiny-128", "--gan", str(tmp_path / "g.safetensors"), "--dry-run",
                 "--out", str(tmp_path / "enc"), "--batch-size", "4", "--no-progress"]) == 0
    assert main(["train-encoder", "--config", "tiny", "--gan", str(tmp_path / "g.safetensors"), "--dry-run",
                 "--out", str(tmp_path / "enc64"), "--batch-size", "4", "--no-progress"]) != 0


def test_width_scales_the_channels():
    assert GeneratorConfig(width=0.5).channels() == (512, 256, 128, 64)
    assert DiscriminatorConfig(width=0.5).channels() == (32, 64, 128, 256)
    assert GeneratorConfig(width=1 / 64).channels() == (16, 8, 4, 2)


def test_batch_norm_can_be_switched_off():
    G = Generator(GeneratorConfig(z_dim=8, width=1 / 64, batch_norm=False))
    D = Discriminator(DiscriminatorConfig(width=1 / 16, batch_norm=False))
    assert not any(isinstance(m, nn.BatchNorm2d) for m in [*G.modules(), *D.modules()])
    assert G(torch.zeros(2, 8)).shape == (2, 3, 64, 64)


def test_dcgan_init():
    torch.manual_seed(0)
    G = Generator(GeneratorConfig(width=0.25))
    w = torch.cat([m.weight.flatten() for m in _convs(G, nn.ConvTranspose2d)])
    assert abs(w.std().item() - 0.02) < 0.002 and abs(w.mean().item()) < 0.001


# ------------------------------------------------------------------ loss

def test_loss_variants():
    assert LOSS_VARIANTS["01"] == LSGANLoss(a=0.0, b=1.0, c=1.0)
    assert LOSS_VARIANTS["chi2"] == LSGANLoss(a=-1.0, b=1.0, c=0.0)


@pytest.mark.parametrize("variant, d_real, d_fake, loss_d, loss_g", [
    ("01", 1.0, 0.0, 0.0, 0.5),      # perfect D; G is told to reach 1 from 0
    ("01", 0.0, 1.0, 1.0, 0.0),      # D fooled both ways; G already at its target
    ("01", 0.5, 0.5, 0.25, 0.125),
    ("chi2", 1.0, -1.0, 0.0, 0.5),
    ("chi2", 0.0, 0.0, 1.0, 0.0),
    ("chi2", -1.0, 1.0, 4.0, 0.5),
])
def test_loss_values(variant, d_real, d_fake, loss_d, loss_g):
    loss = LOSS_VARIANTS[variant]
    real, fake = torch.full((4,), d_real), torch.full((4,), d_fake)
    assert loss.discriminator(real, fake).item() == pytest.approx(loss_d)
    assert loss.generator(fake).item() == pytest.approx(loss_g)


def test_loss_is_a_mean_over_the_batch():
    loss = LOSS_VARIANTS["01"]
    real, fake = torch.tensor([1.0, 3.0]), torch.tensor([0.0, 2.0])
    # ½·mean((0, 4)) + ½·mean((0, 4)) = 1 + 1
    assert loss.discriminator(real, fake).item() == pytest.approx(2.0)
    assert loss.generator(fake).item() == pytest.approx(0.5 * (1 + 1) / 2)


def test_gan_config_presets_and_loss():
    c = gan_config("tiny", "chi2")
    assert c.loss == "chi2"
    assert GAN_PRESETS["tiny"].loss == "01", "gan_config must not change the preset itself"
    with pytest.raises(ValueError, match="unknown GAN config"):
        gan_config("huge")
    with pytest.raises(ValueError, match="unknown LSGAN loss"):
        gan_config("tiny", "wasserstein")


# ------------------------------------------------------------------ training

@pytest.fixture(scope="module")
def train_faces(train_dir):
    return FaceFolder(train_dir, limit=32)


@pytest.mark.parametrize("loss", ["01", "chi2"])
def test_training_steps_reduce_the_discriminator_loss(train_faces, loss):
    torch.manual_seed(0)
    recipe = GANRecipe(gan_config("tiny", loss))
    losses = []
    for step in range(40):
        gen = seeded(0, "test", step)
        idx = torch.randperm(len(train_faces), generator=gen)[:16]
        out = recipe.train_step(train_faces.batch(idx, gen), gen, step)
        assert set(out) == {"loss_d", "loss_g", "d_real", "d_fake"}
        assert all(np.isfinite(v) for v in out.values())
        losses.append(out["loss_d"])
    first, last = np.mean(losses[:5]), np.mean(losses[-5:])
    assert last < 0.5 * first, (first, last)


@pytest.mark.parametrize("loss", ["01", "chi2"])
def test_discriminator_updates_separate_a_fixed_batch(train_faces, loss):
    """The recipe's own D step (the one train_step runs) drives LSGANLoss.discriminator down."""
    torch.manual_seed(1)
    recipe = GANRecipe(gan_config("tiny", loss))
    real = train_faces.batch(list(range(16)))
    with torch.no_grad():
        fake = recipe.G(recipe.G.sample_z(16, torch.Generator().manual_seed(0)))
    g_before = {k: v.clone() for k, v in recipe.G.state_dict().items()}

    def d_loss():
        with torch.no_grad():   # in training mode, as the D step sees it (real and fake normalised separately)
            return recipe.loss.discriminator(recipe.D(real), recipe.D(fake)).item()

    before = d_loss()
    losses = [recipe.d_step(real, fake)["loss_d"] for _ in range(30)]
    assert losses[0] == pytest.approx(before, rel=1e-5)     # the step's loss is LSGANLoss.discriminator
    assert d_loss() < 0.1 * before, (before, d_loss())
    assert all(torch.equal(v, recipe.G.state_dict()[k]) for k, v in g_before.items()), "a D step moved G"


def test_generator_step_spends_nothing_on_d_and_leaves_it_trainable(train_faces):
    """The G step: G moves, D's weights do not, no gradient is left on D, and D is trainable after."""
    torch.manual_seed(2)
    recipe = GANRecipe(gan_config("tiny"))
    d_before = {k: v.clone() for k, v in recipe.D.state_dict().items()}
    g_before = {k: v.clone() for k, v in recipe.G.state_dict().items()}
    recipe.D.eval()    # batch-norm statistics stay put, so any change below is a weight update
    recipe.g_step(recipe.G(recipe.G.sample_z(8, torch.Generator().manual_seed(0))))
    assert all(p.grad is None for p in recipe.D.parameters()), "the G step computed gradients for D"
    assert all(torch.equal(v, recipe.D.state_dict()[k]) for k, v in d_before.items()), "the G step moved D"
    assert all(p.requires_grad for p in recipe.D.parameters()), "D left frozen after the G step"
    assert any(not torch.equal(v, recipe.G.state_dict()[k]) for k, v in g_before.items()), "G did not move"
    # ... and the D step that follows in training does train D.
    recipe.D.train()
    recipe.d_step(train_faces.batch(list(range(8))), recipe.G(recipe.G.sample_z(8)).detach())
    assert any(not torch.equal(v, recipe.D.state_dict()[k]) for k, v in d_before.items())


def test_generator_step_leaves_ds_batch_norm_statistics_to_real_images():
    """In training mode too, the G step must not move D's running statistics towards fakes: eval mode
    (the latent search, the refiner's loss) uses them.  The D step does update them."""
    torch.manual_seed(3)
    recipe = GANRecipe(gan_config("tiny"))
    recipe.D.train()
    stats = lambda: {k: v.clone() for k, v in recipe.D.state_dict().items() if "running" in k}  # noqa: E731
    before = stats()
    assert before, "the tiny D has batch norm"
    recipe.g_step(recipe.G(recipe.G.sample_z(8, torch.Generator().manual_seed(0))))
    assert all(torch.equal(v, stats()[k]) for k, v in before.items()), "the G step moved D's statistics"
    assert all(m.momentum == 0.1 for m in recipe.D.modules() if isinstance(m, torch.nn.BatchNorm2d))
    recipe.d_step(torch.rand(8, 3, 64, 64) * 2 - 1, recipe.G(recipe.G.sample_z(8)).detach())
    assert any(not torch.equal(v, stats()[k]) for k, v in before.items()), "the D step left the statistics"


# ------------------------------------------------------------------ checkpoints through the CLI

def _train(train_dir, out, *extra, limit=64, steps=4):
    args = ["train-gan", "--config", "tiny", "--data", str(train_dir), "--limit", str(limit), "--batch-size", "16",
            "--max-steps", str(steps), "--out", str(out), "--no-progress", "--device", "cpu", *extra]
    assert main(args) == 0


@pytest.fixture(scope="module")
def run4(train_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("run4")
    _train(train_dir, out)
    return out


def test_train_writes_a_checkpoint(run4):
    ckpt = run4 / CHECKPOINT
    assert ckpt.is_file()
    meta = read_checkpoint_meta(ckpt)
    assert meta["recipe"] == "lsgan"
    assert meta["config"] == config_to_dict(GAN_PRESETS["tiny"])
    assert meta["progress"]["global_step"] == 4 and meta["progress"]["images_seen"] == 64
    # 64 images in batches of 16 = one epoch: its sample grid is written.
    assert meta["progress"]["epoch"] == 1
    assert (run4 / "samples" / "epoch-001.png").is_file()


def test_checkpoint_round_trip(run4):
    ckpt = run4 / CHECKPOINT
    saved = load_file(str(ckpt))
    torch.manual_seed(12345)                   # a different initialisation
    recipe = GANRecipe(gan_config("tiny"))
    assert not torch.equal(recipe.G.state_dict()["net.0.weight"], saved["G.net.0.weight"])
    progress = load_checkpoint(ckpt, recipe)
    assert progress["global_step"] == 4
    for name, module in recipe.modules.items():
        for k, v in module.state_dict().items():
            assert torch.equal(v, saved[f"{name}.{k}"]), f"{name}.{k}"
    for name, opt in recipe.optimizers.items():
        state = opt.state_dict()["state"]
        assert len(state) == len(list(recipe.modules[name].parameters()))
        for pid, s in state.items():
            for key, value in s.items():
                assert torch.equal(torch.as_tensor(value), saved[f"opt_{name}.state.{pid}.{key}"])
        group = opt.param_groups[0]
        assert group["lr"] == TINY.lr and tuple(group["betas"]) == (TINY.beta1, TINY.beta2)


def test_checkpoint_into_another_shape_fails(run4):
    other = GANConfig(GeneratorConfig(z_dim=16, width=1 / 32), DiscriminatorConfig(width=1 / 16))
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(run4 / CHECKPOINT, GANRecipe(other))
    assert "shape" in str(info.value) and "\n" not in str(info.value)


def test_exact_resume(train_dir, tmp_path):
    # 96 images / 16 = 6 steps an epoch: the break at step 4 is mid-epoch, and the resumed run
    # crosses the epoch boundary.
    straight, split = tmp_path / "straight", tmp_path / "split"
    _train(train_dir, straight, limit=96, steps=8)
    _train(train_dir, split, limit=96, steps=4)
    assert read_checkpoint_meta(split / CHECKPOINT)["progress"]["step_in_epoch"] == 4
    _train(train_dir, split, "--resume", limit=96, steps=8)

    a, b = load_file(str(straight / CHECKPOINT)), load_file(str(split / CHECKPOINT))
    assert a.keys() == b.keys()
    assert any(k.startswith("opt_D.state.") for k in a)
    different = [k for k in a if not torch.equal(a[k], b[k])]
    assert not different, different[:5]
    pa, pb = (read_checkpoint_meta(p / CHECKPOINT)["progress"] for p in (straight, split))
    for key in ("epoch", "step_in_epoch", "global_step", "images_seen"):
        assert pa[key] == pb[key], key
    assert (pa["epoch"], pa["step_in_epoch"], pa["global_step"]) == (1, 2, 8)


def test_resume_without_checkpoint_starts_fresh(train_dir, tmp_path):
    _train(train_dir, tmp_path / "fresh", "--resume", limit=32, steps=2)
    assert read_checkpoint_meta(tmp_path / "fresh" / CHECKPOINT)["progress"]["global_step"] == 2


def test_too_few_images_for_a_batch(train_dir, tmp_path, capsys):
    rc = main(["train-gan", "--config", "tiny", "--data", str(train_dir), "--limit", "8", "--batch-size", "16",
               "--out", str(tmp_path / "r"), "--no-progress", "--device", "cpu"])
    assert rc == 1
    assert capsys.readouterr().err.startswith("ganfill: error:")


# ------------------------------------------------------------------ shipping weights

@pytest.fixture(scope="module")
def exported(run4):
    path = run4 / "lsgan-tiny.safetensors"
    assert main(["export-gan", str(run4 / CHECKPOINT), "-o", str(path)]) == 0
    return path


def test_export_keeps_only_g_and_d_in_fp16(exported, run4):
    tensors = load_file(str(exported))
    assert tensors and all(k.startswith(("G.", "D.")) for k in tensors)
    assert all(v.dtype == torch.float16 for v in tensors.values() if v.is_floating_point())
    full = load_file(str(run4 / CHECKPOINT))
    for k, v in tensors.items():
        assert torch.equal(v, full[k].to(v.dtype)), k


def test_load_gan_rebuilds_the_trained_networks(exported, run4):
    G, D = load_gan(exported)
    assert not G.training and not D.training
    assert G.config == GAN_PRESETS["tiny"].generator
    full = load_file(str(run4 / CHECKPOINT))
    for k, v in G.state_dict().items():
        assert torch.allclose(v.float(), full[f"G.{k}"].float(), atol=1e-3, rtol=1e-3), k
    with torch.no_grad():
        x = G(G.sample_z(3, torch.Generator().manual_seed(0)))
    assert x.shape == (3, 3, 64, 64) and torch.isfinite(x).all()


def test_sample_writes_a_grid(exported, tmp_path):
    out = tmp_path / "samples.png"
    assert main(["sample", "--weights", str(exported), "-n", "4", "-o", str(out), "--seed", "1"]) == 0
    grid = load_image(out)
    assert grid.shape == (2 * 66 + 2, 2 * 66 + 2, 3)     # 4 samples: 2x2 cells of 64 px, 2 px apart
    # The cells are G's images for the seeded z, in order.
    G, _ = load_gan(exported)
    with torch.no_grad():
        expected = to_uint8(G(G.sample_z(4, seeded(1, "sample"))))
    for i in range(4):
        r, c = divmod(i, 2)
        y, x = 2 + r * 66, 2 + c * 66
        assert np.array_equal(grid[y:y + 64, x:x + 64], expected[i])
    again = tmp_path / "again.png"
    assert main(["sample", "--weights", str(exported), "-n", "4", "-o", str(again), "--seed", "1"]) == 0
    assert out.read_bytes() == again.read_bytes()
    assert main(["sample", "--weights", str(exported), "-n", "5", "-o", str(again)]) == 0
    assert load_image(again).shape == (3 * 66 + 2, 2 * 66 + 2, 3)   # round(sqrt(5)) = 2 columns, 3 rows


def test_sample_rejects_zero(exported, tmp_path, capsys):
    assert main(["sample", "--weights", str(exported), "-n", "0", "-o", str(tmp_path / "s.png")]) == 1
    assert capsys.readouterr().err.startswith("ganfill: error:")
    assert not (tmp_path / "s.png").exists()


def test_export_rejects_a_non_lsgan_file(exported, tmp_path, capsys):
    # An exported file is not a training checkpoint.
    rc = main(["export-gan", str(exported), "-o", str(tmp_path / "x.safetensors")])
    assert rc == 1
    err = capsys.readouterr().err
    assert err.startswith("ganfill: error:") and "not an LSGAN training checkpoint" in err
    assert not (tmp_path / "x.safetensors").exists()


def test_load_gan_wrong_shapes(tmp_path):
    tiny = GAN_PRESETS["tiny"]
    wider = dataclasses.replace(tiny.generator, width=1 / 32)
    tensors = {**prefixed(Generator(wider), "G"), **prefixed(Discriminator(tiny.discriminator), "D")}
    path = tmp_path / "wrong.safetensors"
    save_tensors(path, tensors, {"kind": "lsgan", "config": config_to_dict(tiny)})
    with pytest.raises(CheckpointError) as info:
        load_gan(path)
    msg = str(info.value)
    assert "\n" not in msg
    assert "shape" in msg and "Generator" in msg and str(path) in msg


def test_load_gan_missing_keys(tmp_path):
    tiny = GAN_PRESETS["tiny"]
    path = tmp_path / "g-only.safetensors"
    save_tensors(path, prefixed(Generator(tiny.generator), "G"), {"config": config_to_dict(tiny)})
    with pytest.raises(CheckpointError, match="does not match Discriminator"):
        load_gan(path)


def test_load_gan_without_config(tmp_path):
    path = tmp_path / "noconfig.safetensors"
    save_tensors(path, prefixed(Generator(TINY.generator), "G"), {})
    with pytest.raises(CheckpointError, match="no model config"):
        load_gan(path)


def test_pickle_renamed_safetensors_is_refused(tmp_path, capsys):
    path = tmp_path / "model.safetensors"
    torch.save({f"G.{k}": v for k, v in Generator(TINY.generator).state_dict().items()}, path)
    with pytest.raises(CheckpointError) as info:
        load_gan(path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)
    rc = main(["sample", "--weights", str(path), "-n", "1", "-o", str(tmp_path / "s.png")])
    assert rc == 1
    err = capsys.readouterr().err
    assert err.startswith("ganfill: error:") and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("content", [None, b"", b"garbage" * 10])
def test_unreadable_weights(tmp_path, content):
    path = tmp_path / "w.safetensors"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(CheckpointError):
        load_gan(path)


def test_max_minutes_stops_with_a_checkpoint_and_resume_goes_on(train_dir, tmp_path):
    run = tmp_path / "budget"
    argv = ["train-gan", "--config", "tiny", "--data", str(train_dir), "--limit", "64", "--batch-size", "16",
            "--epochs", "1000", "--max-minutes", "0", "--out", str(run), "--no-progress"]
    assert main(argv) == 0
    first = read_checkpoint_meta(run / CHECKPOINT)["progress"]
    assert first["global_step"] == 1                     # a zero budget still finishes one step
    assert main(argv + ["--resume"]) == 0
    assert read_checkpoint_meta(run / CHECKPOINT)["progress"]["global_step"] == 2


def test_weights_dir_override(monkeypatch, tmp_path):
    from ganfill.models.io import CheckpointError
    from ganfill.weights import shipped, weights_dir

    monkeypatch.setenv("GANFILL_WEIGHTS_DIR", str(tmp_path))
    assert weights_dir() == tmp_path
    with pytest.raises(CheckpointError, match=str(tmp_path)):
        shipped("lsgan.safetensors")
    (tmp_path / "lsgan.safetensors").write_bytes(b"x")
    assert shipped("lsgan.safetensors") == tmp_path / "lsgan.safetensors"
