"""The 128-px LSGAN recipe: the EMA of G (what is shipped), R1 and spectral norm on D, the sample
FD-dlib logged as it trains, and a run's state as files of bounded size that a resume continues
from exactly."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from torch import nn

from ganfill.cli import main
from ganfill.models.gan import Discriminator, DiscriminatorConfig
from ganfill.models.io import CheckpointError
from ganfill.train import CHECKPOINT, GANRecipe, gan_config
from ganfill.train.checkpoint import join_checkpoint, read_checkpoint_meta, split_checkpoint
from ganfill.weights import load_gan


@pytest.fixture(scope="session")
def wild_train(data_root, tmp_path_factory):
    """The first 32 training faces of celeba-wild/train and 8 of its validation faces, which a run
    must leave out of its training set."""
    import shutil

    from ganfill.data import WILD_VALIDATION

    source = data_root / "celeba-wild" / "train"
    if not source.is_dir():
        pytest.skip("celeba-wild/train not found")
    folder = tmp_path_factory.mktemp("wild-train")
    for i in [*range(32), *WILD_VALIDATION[:8]]:
        shutil.copy(source / f"{i:05d}.jpg", folder)
    return folder


def _faces(n: int = 8) -> torch.Tensor:
    return torch.rand(n, 3, 128, 128, generator=torch.Generator().manual_seed(0)) * 2 - 1


def test_ema_moves_towards_g_and_is_the_g_exported(tmp_path):
    torch.manual_seed(0)
    recipe = GANRecipe(gan_config("tiny-128-r1"))
    assert recipe.G_ema is not None and recipe.shipped_G is recipe.G_ema
    start = [p.clone() for p in recipe.G_ema.parameters()]
    recipe.train_step(_faces(), torch.Generator().manual_seed(1), 0)
    # step 0: the decay ramps from (1 + 0) / (10 + 0) = 0.1, below the config's 0.9
    for s, e, g in zip(start, recipe.G_ema.parameters(), recipe.G.parameters()):
        assert torch.allclose(e, 0.1 * s + 0.9 * g, atol=1e-6)
    for step in range(1, 30):
        recipe.train_step(_faces(), torch.Generator().manual_seed(step), step)
    ema, g = (torch.cat([p.flatten() for p in m.parameters()]) for m in (recipe.G_ema, recipe.G))
    assert not torch.equal(ema, g) and not any(p.requires_grad for p in recipe.G_ema.parameters())

    from ganfill.train.checkpoint import save_checkpoint
    from ganfill.weights import export_gan

    save_checkpoint(tmp_path / CHECKPOINT, recipe, {"global_step": 30})
    export_gan(tmp_path / CHECKPOINT, tmp_path / "g.safetensors")
    G, _ = load_gan(tmp_path / "g.safetensors")
    shipped = load_file(str(tmp_path / "g.safetensors"))
    assert not any(k.startswith("G_ema.") for k in shipped)
    for k, v in recipe.G_ema.state_dict().items():      # the average, in fp16, not the last G
        assert torch.allclose(G.state_dict()[k].float(), v.half().float()), k


def test_r1_is_its_own_d_step_every_few_steps():
    torch.manual_seed(0)
    recipe = GANRecipe(gan_config("tiny-128-r1"))          # r1_every = 2
    assert "r1" in recipe.loss_keys
    keys = [set(recipe.train_step(_faces(), torch.Generator().manual_seed(s), s)) for s in range(4)]
    assert ["r1" in k for k in keys] == [True, False, True, False]
    # the R1 step alone lowers D's gradient on the faces it was taken on (weights scaled up first:
    # at DCGAN's initial scale the gradient is ~1e-5, below what 20 Adam steps can be seen to move)
    with torch.no_grad():
        for p in recipe.D.parameters():
            p.mul_(4)
    real = _faces()
    before = recipe.r1_step(real, 0)
    for _ in range(20):
        recipe.r1_step(real, 0)
    assert recipe.r1_step(real, 0) < before
    assert recipe.r1_step(real, 1) is None
    assert "r1" not in GANRecipe(gan_config("tiny-128-sn")).loss_keys


def test_spectral_norm_holds_each_d_layer_to_unit_gain():
    torch.manual_seed(0)
    D = Discriminator(DiscriminatorConfig(width=1 / 16, size=128, batch_norm=False, spectral_norm=True))
    for _ in range(30):                          # each forward in training mode is a power-iteration step
        D(_faces(2))
    convs = [m for m in D.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 6
    for m in convs:
        sigma = torch.linalg.matrix_norm(m.weight.detach().flatten(1), ord=2)
        assert sigma.item() == pytest.approx(1.0, rel=0.05)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in D.modules())


def _train(data, out, steps, *extra):
    assert main(["train-gan", "--config", "tiny-128-r1", "--data", str(data), "--limit", "32", "--batch-size", "8",
                 "--max-steps", str(steps), "--out", str(out), "--no-progress", "--device", "cpu", *extra]) == 0


@pytest.mark.slow
def test_a_run_resumed_from_its_state_files_matches_an_unbroken_run(wild_train, tmp_path):
    # 32 faces / 8 = 4 steps an epoch: the break at step 3 is mid-epoch, the resumed run crosses the
    # epoch's end (its samples and its FD-dlib) and goes on to step 6.
    straight, first, resumed = tmp_path / "straight", tmp_path / "first", tmp_path / "resumed"
    _train(wild_train, straight, 6)
    _train(wild_train, first, 3)
    files = split_checkpoint(first / CHECKPOINT, tmp_path / "state", max_bytes=90_000)
    sizes = [f.stat().st_size for f in files]
    assert len(files) > 2 and max(sizes) <= 90_000
    # some tensor was larger than a file and travels in pieces
    assert any(json.loads(json.dumps(read_checkpoint_meta(f)["split_shapes"])) for f in files)
    join_checkpoint(tmp_path / "state", resumed / CHECKPOINT)
    _train(wild_train, resumed, 6, "--resume")

    a, b = load_file(str(straight / CHECKPOINT)), load_file(str(resumed / CHECKPOINT))
    assert a.keys() == b.keys() and any(k.startswith("G_ema.") for k in a) and any(k.startswith("opt_G.") for k in a)
    different = [k for k in a if not torch.equal(a[k], b[k])]
    assert not different, different[:5]
    # the sample FD-dlib of the epoch's end, measured in both runs alike
    rows = [json.loads(line) for line in (straight / "fd.jsonl").read_text().splitlines()]
    again = [json.loads(line) for line in (resumed / "fd.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1] and rows == again
    assert rows[0]["fd_dlib"] > 0 and rows[0]["samples"] == 8 and rows[0]["reals"] == 8
    assert (resumed / "samples" / "epoch-001.png").is_file()


def test_state_files_without_optimisers_and_foreign_sets(wild_train, tmp_path):
    _train(wild_train, tmp_path / "run", 2)
    full = split_checkpoint(tmp_path / "run" / CHECKPOINT, tmp_path / "full")
    lean = split_checkpoint(tmp_path / "run" / CHECKPOINT, tmp_path / "lean", optimizers=False)
    assert len(full) == len(lean) == 1 and lean[0].stat().st_size < full[0].stat().st_size / 2
    join_checkpoint(tmp_path / "lean", tmp_path / "cont" / CHECKPOINT)
    _train(wild_train, tmp_path / "cont", 3, "--resume")            # Adam starts afresh, the weights go on
    assert read_checkpoint_meta(tmp_path / "cont" / CHECKPOINT)["progress"]["global_step"] == 3
    # a file of another set of state files is refused, not silently mixed in
    split_checkpoint(tmp_path / "run" / CHECKPOINT, tmp_path / "mixed", max_bytes=90_000)
    (tmp_path / "lean" / "state-000.safetensors").replace(tmp_path / "mixed" / "state-000.safetensors")
    with pytest.raises(CheckpointError, match="state files"):
        join_checkpoint(tmp_path / "mixed", tmp_path / "x" / CHECKPOINT)
    with pytest.raises(CheckpointError, match="no state"):
        join_checkpoint(tmp_path / "empty", tmp_path / "x" / CHECKPOINT)
    # a later split into fewer files leaves no file of the earlier set behind
    split_checkpoint(tmp_path / "run" / CHECKPOINT, tmp_path / "mixed")
    assert len(list((tmp_path / "mixed").glob("state-*.safetensors"))) == 1
    assert np.isfinite(read_checkpoint_meta(tmp_path / "mixed" / "state-000.safetensors")["progress"]["global_step"])
