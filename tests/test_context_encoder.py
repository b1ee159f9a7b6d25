"""The Context Encoder baseline (Pathak et al. 2016): the network, its channel-wise fully-connected
layer, its adversarial training recipe, its weights files, the command and the registry method."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn

from ganfill.data import load_image, make_mask, mask_to_tensor
from ganfill.models.context_encoder import (CONTEXT_ENCODER_PRESETS, ChannelwiseFC, ContextEncoder,
                                            ContextEncoderConfig)
from ganfill.models.io import CheckpointError, config_from_dict, load_tensors
from ganfill.train.checkpoint import save_checkpoint
from ganfill.train.seeding import seeded
from ganfill.train.context_encoder import (ContextEncoderRecipe, ContextEncoderTrainConfig,
                                           context_encoder_config)
from ganfill.weights import export_context_encoder, load_context_encoder

MASKS = np.stack([make_mask("center"), make_mask("free", seed=1), make_mask("half", seed=2),
                  make_mask("box", seed=3)])


@pytest.fixture
def masks() -> torch.Tensor:
    return mask_to_tensor(MASKS)


def tiny_recipe(seed: int = 0, **changes) -> ContextEncoderRecipe:
    config = context_encoder_config("tiny")
    config.lr = 2e-3
    for key, value in changes.items():
        setattr(config, key, value)
    torch.manual_seed(seed)
    return ContextEncoderRecipe(config)


def _cli(argv) -> int:
    from ganfill.cli import main

    return main([str(a) for a in argv])


# ---------------------------------------------------------------- the network

def test_shapes_known_pixels_and_the_hole_is_not_read(truth, masks):
    torch.manual_seed(0)
    CE = ContextEncoder(copy.deepcopy(CONTEXT_ENCODER_PRESETS["tiny"])).eval()
    with torch.no_grad():
        out = CE(truth, masks)
    assert out.shape == (4, 3, 64, 64) and out.min() >= -1 and out.max() <= 1
    known = ~masks.bool().expand_as(out)
    assert torch.equal(out[known], truth[known])
    assert not torch.allclose(out[~known], truth[~known])
    noise = torch.rand(truth.shape, generator=torch.Generator().manual_seed(3)) * 2 - 1
    scribbled = torch.where(known, truth, noise)
    with torch.no_grad():
        assert torch.equal(CE(scribbled, masks), out)                        # the hole's content is zeroed
        assert not torch.allclose(CE(truth, masks.flip(0))[~known], out[~known])   # the mask itself matters


def test_default_bottleneck_is_512x4x4_with_a_channelwise_layer(truth, masks):
    torch.manual_seed(0)
    CE = ContextEncoder(copy.deepcopy(CONTEXT_ENCODER_PRESETS["default"])).eval()
    with torch.no_grad():
        assert CE.code(truth[:1], masks[:1]).shape == (1, 512, 4, 4)
        assert CE(truth[:1], masks[:1]).shape == (1, 3, 64, 64)
    cfc = CE.bottleneck[0]
    assert isinstance(cfc, ChannelwiseFC)
    assert sum(p.numel() for p in cfc.parameters()) == 512 * 16 * 16 + 512 * 16   # not (512·16)²
    assert isinstance(CE.bottleneck[1], nn.Conv2d) and CE.bottleneck[1].kernel_size == (1, 1)


def test_channelwise_fc_is_one_linear_layer_per_channel():
    torch.manual_seed(0)
    fc = ChannelwiseFC(3, 4)
    x = torch.randn(2, 3, 4, 4)
    y = fc(x)
    for c in range(3):      # each channel: its own 16 -> 16 linear map of its own 16 values
        expected = x[:, c].reshape(2, 16) @ fc.weight[c] + fc.bias[c]
        assert torch.allclose(y[:, c].reshape(2, 16), expected, atol=1e-6)
    x2 = x.clone()
    x2[:, 0] += 1.0
    y2 = fc(x2)
    assert not torch.allclose(y2[:, 0], y[:, 0])
    assert torch.equal(y2[:, 1:], y[:, 1:])      # no mixing across channels
    # every output position depends on every input position of its channel
    x3 = x.clone()
    x3[:, 1, 0, 0] += 1.0
    assert (fc(x3)[:, 1] != y[:, 1]).all()


# ---------------------------------------------------------------- training

def test_training_steps_lower_the_reconstruction_loss(truth):
    recipe = tiny_recipe()
    d_before = {k: v.clone() for k, v in recipe.D.state_dict().items()}
    history = [recipe.train_step(truth, seeded(0, "fixed-batch"), step) for step in range(15)]
    assert set(history[0]) == set(ContextEncoderRecipe.loss_keys)
    assert all(np.isfinite(list(h.values())).all() for h in history)
    assert history[-1]["rec_l2"] < 0.7 * history[0]["rec_l2"]
    assert all(h["adv"] > 0 and h["loss_d"] > 0 for h in history)
    h = history[0]
    assert h["loss_g"] == pytest.approx(0.999 * h["rec_l2"] + 0.001 * h["adv"], rel=1e-5)
    # D was trained in the same steps, and left trainable
    assert not all(torch.equal(d_before[k], v) for k, v in recipe.D.state_dict().items())
    assert all(p.requires_grad for p in recipe.D.parameters())


def test_without_adversarial_weight_d_is_left_alone(truth):
    recipe = tiny_recipe(adv_weight=0.0)
    d_before = {k: v.clone() for k, v in recipe.D.state_dict().items()}
    losses = recipe.train_step(truth, seeded(0), 0)
    assert losses["adv"] == 0.0 and losses["loss_d"] == 0.0
    assert all(torch.equal(d_before[k], v) for k, v in recipe.D.state_dict().items())


def test_config_presets_and_validation():
    config = context_encoder_config("tiny", adv_weight=0.01)
    assert config.adv_weight == 0.01 and config.rec_weight == 0.999
    assert config.discriminator.width == config.context_encoder.width == 1 / 16
    assert context_encoder_config("default").context_encoder == ContextEncoderConfig(width=1.0)
    assert CONTEXT_ENCODER_PRESETS["tiny"].width == 1 / 16          # the presets are copied, not shared
    with pytest.raises(ValueError, match="unknown context-encoder config"):
        context_encoder_config("huge")
    with pytest.raises(ValueError, match=">= 0"):
        context_encoder_config("tiny", adv_weight=-1.0)


# ---------------------------------------------------------------- weights files

def test_checkpoint_export_load_round_trip_and_wrong_kinds(truth, masks, tmp_path):
    recipe = tiny_recipe(seed=2)
    for step in range(3):
        recipe.train_step(truth, seeded(1, step), step)
    ckpt, weights = tmp_path / "run" / "checkpoint.safetensors", tmp_path / "ce.safetensors"
    save_checkpoint(ckpt, recipe, {"global_step": 3})
    assert config_from_dict(ContextEncoderTrainConfig, load_tensors(ckpt)[1]["config"]) == recipe.config
    export_context_encoder(ckpt, weights)
    tensors, meta = load_tensors(weights)
    assert meta["kind"] == "context-encoder" and meta["progress"] == {"global_step": 3}
    assert tensors and all(k.startswith("CE.") for k in tensors)       # D is not shipped
    assert all(v.dtype == torch.float16 for v in tensors.values() if v.is_floating_point())

    CE = recipe.CE.eval()
    loaded = load_context_encoder(weights)
    assert not loaded.training and loaded.config == CE.config
    with torch.no_grad():
        assert torch.allclose(loaded(truth, masks), CE(truth, masks), atol=3e-2)

    from ganfill.weights import export_refiner, load_gan, load_refiner
    with pytest.raises(CheckpointError, match="context-encoder"):
        load_context_encoder(ckpt)
    with pytest.raises(CheckpointError):
        load_refiner(weights)
    with pytest.raises(CheckpointError):
        load_gan(weights)
    with pytest.raises(CheckpointError, match="not a refiner training checkpoint"):
        export_refiner(ckpt, tmp_path / "nope.safetensors")
    assert not (tmp_path / "nope.safetensors").exists()


# ---------------------------------------------------------------- the command and the method

def test_cli_train_export_and_the_registry_method(train_dir, faces, tmp_path, capsys):
    from ganfill.methods import get_method
    from ganfill.train.checkpoint import read_checkpoint_meta

    run, weights = tmp_path / "run", tmp_path / "context-encoder.safetensors"
    assert _cli(["train-context-encoder", "--config", "tiny", "--data", train_dir, "--limit", "8",
                 "--batch-size", "4", "--max-steps", "2", "--out", run, "--no-progress"]) == 0
    meta = read_checkpoint_meta(run / "checkpoint.safetensors")
    assert meta["recipe"] == "context-encoder" and meta["progress"]["global_step"] == 2
    assert load_image(run / "glimpses" / "epoch-001.png").shape == (3 * 66 + 2, 8 * 66 + 2, 3)
    assert _cli(["export-context-encoder", run / "checkpoint.safetensors", "-o", weights]) == 0

    method = get_method("context-encoder", weights=weights)
    assert method.name == "context-encoder"
    images = faces[:4]
    out = method(images, MASKS)
    assert out.shape == images.shape and out.dtype == np.uint8
    assert np.array_equal(out[~MASKS], images[~MASKS])
    assert not np.array_equal(out[MASKS], images[MASKS])
    noisy = images.copy()
    noisy[MASKS] = 0
    assert np.array_equal(method(noisy, MASKS), out)

    capsys.readouterr()
    code = _cli(["export-context-encoder", weights, "-o", tmp_path / "again.safetensors"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code != 0 and len(err) == 1 and "not a context-encoder training checkpoint" in err[0]
    with pytest.raises(CheckpointError):
        get_method("context-encoder", weights=tmp_path / "missing.safetensors")
