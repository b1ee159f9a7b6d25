"""The latent encoder E: its input / output contract, its training recipe, and its weights files."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn

from ganfill.data import make_mask, mask_to_tensor, to_tensor
from ganfill.models.encoder import ENCODER_PRESETS, EncoderConfig, LatentEncoder
from ganfill.models.gan import GAN_PRESETS, Generator
from ganfill.models.io import CheckpointError, load_tensors
from ganfill.train.checkpoint import save_checkpoint
from ganfill.train.seeding import seeded
from ganfill.train.encoder import EncoderRecipe, EncoderTrainConfig, random_masks
from ganfill.weights import export_encoder, export_gan, load_encoder, load_gan


def tiny_encoder(seed: int = 0) -> LatentEncoder:
    torch.manual_seed(seed)
    return LatentEncoder(copy.deepcopy(ENCODER_PRESETS["tiny"])).eval()


def tiny_generator(seed: int = 0) -> Generator:
    """A tiny G whose output depends visibly on z (DCGAN's N(0, 0.02) init makes it near-constant)."""
    torch.manual_seed(seed)
    G = Generator(copy.deepcopy(GAN_PRESETS["tiny"].generator))
    for m in G.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.kaiming_normal_(m.weight, a=0.2)
            m.weight.data.mul_(2.0)
    return G.eval()


def tiny_recipe(seed: int = 0) -> EncoderRecipe:
    G = tiny_generator(seed)
    torch.manual_seed(seed + 100)
    return EncoderRecipe(EncoderTrainConfig(encoder=copy.deepcopy(ENCODER_PRESETS["tiny"])), G)


@pytest.fixture
def real_batch(faces) -> torch.Tensor:
    return to_tensor(faces[:4])


MASKS = np.stack([make_mask("center"), make_mask("free", seed=1), make_mask("half", seed=2),
                  make_mask("box", seed=3)])


# ---------------------------------------------------------------- the network

def test_encoder_shapes_and_range(real_batch):
    E = tiny_encoder()
    m = mask_to_tensor(MASKS)
    with torch.no_grad():
        z = E(real_batch, m)
    assert z.shape == (4, ENCODER_PRESETS["tiny"].z_dim) and z.dtype == torch.float32
    assert z.min() >= -1 and z.max() <= 1
    assert torch.isfinite(z).all()

    torch.manual_seed(1)
    other = LatentEncoder(EncoderConfig(z_dim=7, width=1 / 32)).eval()
    with torch.no_grad():
        assert other(real_batch[:1], m[:1]).shape == (1, 7)
        # even with extreme inputs the output stays in the prior's range (tanh head)
        assert other(real_batch * 1e4, m).abs().max() <= 1


def test_hole_content_does_not_affect_the_latent(real_batch):
    E = tiny_encoder()
    m = mask_to_tensor(MASKS)
    scribbled = real_batch.clone()
    noise = torch.rand(real_batch.shape, generator=torch.Generator().manual_seed(3)) * 2 - 1
    hole = m.expand_as(real_batch).bool()
    scribbled[hole] = noise[hole]
    assert not torch.equal(scribbled, real_batch)
    with torch.no_grad():
        z = E(real_batch, m)
        assert torch.equal(E(scribbled, m), z)
        # ...but the known pixels and the mask itself do matter
        brighter = real_batch.clone()
        brighter[~hole] = (brighter[~hole] + 0.5).clamp(-1, 1)
        assert not torch.allclose(E(brighter, m), z)
        assert not torch.allclose(E(real_batch, m.flip(0)), z)


# ---------------------------------------------------------------- training

def test_random_masks_are_seeded_binary_holes():
    a = random_masks(6, ("center", "box", "free", "half"), torch.Generator().manual_seed(4))
    b = random_masks(6, ("center", "box", "free", "half"), torch.Generator().manual_seed(4))
    assert a.shape == (6, 1, 64, 64) and a.dtype == torch.float32
    assert torch.equal(a, b)
    assert set(a.unique().tolist()) <= {0.0, 1.0}
    assert all(0 < float(x.mean()) < 1 for x in a)          # every mask has a hole and some context


def test_training_steps_lower_the_loss_on_a_fixed_batch(real_batch):
    recipe = tiny_recipe()
    g_before = {k: v.clone() for k, v in recipe.G.state_dict().items()}
    e_before = {k: v.clone() for k, v in recipe.E.state_dict().items()}
    # The same seed every step: the same synthetic latents and the same masks, so each step's
    # reported loss (computed before its update) is the loss of one fixed batch.
    history = [recipe.train_step(real_batch, seeded(0, "fixed-batch"), step) for step in range(21)]
    first, last = history[0], history[-1]
    assert set(first) == set(EncoderRecipe.loss_keys)
    assert all(np.isfinite(list(h.values())).all() for h in history)
    assert last["loss"] < 0.75 * first["loss"]
    assert last["latent_mse"] < 0.5 * first["latent_mse"]
    assert last["real_l1"] <= first["real_l1"] + 1e-6
    assert min(h["loss"] for h in history[-5:]) < min(h["loss"] for h in history[:5])
    # only E learns: G is frozen, and E's weights did move
    assert all(torch.equal(g_before[k], v) for k, v in recipe.G.state_dict().items())
    assert not any(p.requires_grad for p in recipe.G.parameters())
    assert not all(torch.equal(e_before[k], v) for k, v in recipe.E.state_dict().items())


# ---------------------------------------------------------------- weights files

@pytest.fixture
def trained_recipe(real_batch) -> EncoderRecipe:
    recipe = tiny_recipe(seed=2)
    for step in range(3):     # move the weights and the batch-norm statistics away from their init
        recipe.train_step(real_batch, seeded(1, step), step)
    return recipe


def _gan_checkpoint(path):
    from ganfill.train import GANRecipe

    torch.manual_seed(0)
    save_checkpoint(path, GANRecipe(copy.deepcopy(GAN_PRESETS["tiny"])), {"global_step": 0})


def test_export_and_load_encoder_round_trip(trained_recipe, real_batch, tmp_path):
    ckpt, weights = tmp_path / "run" / "checkpoint.safetensors", tmp_path / "encoder.safetensors"
    save_checkpoint(ckpt, trained_recipe, {"global_step": 3})
    export_encoder(ckpt, weights)

    tensors, meta = load_tensors(weights)
    assert meta["kind"] == "encoder" and meta["config"]["z_dim"] == ENCODER_PRESETS["tiny"].z_dim
    assert meta["progress"] == {"global_step": 3}
    assert all(k.startswith("E.") for k in tensors)
    assert all(v.dtype == torch.float16 for v in tensors.values() if v.is_floating_point())
    assert weights.stat().st_size < ckpt.stat().st_size      # no optimiser state, half precision

    E = trained_recipe.E.eval()
    loaded = load_encoder(weights)
    assert isinstance(loaded, LatentEncoder) and not loaded.training
    assert loaded.config == E.config
    m = mask_to_tensor(MASKS)
    with torch.no_grad():
        z, z_loaded = E(real_batch, m), loaded(real_batch, m)
    assert torch.allclose(z_loaded, z, atol=2e-2)
    assert not torch.allclose(z_loaded, tiny_encoder()(real_batch, m).detach(), atol=2e-2)  # not just any E
    # the state is the trained one, rounded to fp16
    for k, v in E.state_dict().items():
        w = loaded.state_dict()[k]
        if v.is_floating_point():
            assert torch.allclose(w, v.half().float())
        else:
            assert torch.equal(w, v)


def test_wrong_weights_files_raise_checkpoint_errors(trained_recipe, tmp_path):
    enc_ckpt, gan_ckpt = tmp_path / "enc.ckpt.safetensors", tmp_path / "gan.ckpt.safetensors"
    enc_file, gan_file = tmp_path / "encoder.safetensors", tmp_path / "gan.safetensors"
    save_checkpoint(enc_ckpt, trained_recipe, {})
    _gan_checkpoint(gan_ckpt)
    export_encoder(enc_ckpt, enc_file)
    export_gan(gan_ckpt, gan_file)
    G, D = load_gan(gan_file)                   # the GAN file itself is fine
    assert G.config.z_dim == GAN_PRESETS["tiny"].generator.z_dim

    with pytest.raises(CheckpointError, match="latent-encoder"):
        load_encoder(gan_file)
    with pytest.raises(CheckpointError):
        load_encoder(enc_ckpt)                  # a training checkpoint is not a weights file
    with pytest.raises(CheckpointError):
        load_gan(enc_file)
    with pytest.raises(CheckpointError, match="not a latent-encoder training checkpoint"):
        export_encoder(gan_ckpt, tmp_path / "nope.safetensors")
    assert not (tmp_path / "nope.safetensors").exists()
    with pytest.raises(CheckpointError, match="no such weights file"):
        load_encoder(tmp_path / "missing.safetensors")
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"this is not a safetensors file at all")
    with pytest.raises(CheckpointError):
        load_encoder(junk)


def test_export_encoder_cli_reports_a_one_line_error(tmp_path, capsys):
    from ganfill.cli import main

    gan_ckpt = tmp_path / "gan.ckpt.safetensors"
    _gan_checkpoint(gan_ckpt)
    code = main(["export-encoder", str(gan_ckpt), "-o", str(tmp_path / "e.safetensors")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code != 0
    assert len(err) == 1 and err[0].startswith("ganfill: error:")
    assert not (tmp_path / "e.safetensors").exists()
