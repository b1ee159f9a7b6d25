"""Two-process DDP training on CPU (gloo): every replica must end up holding the same model."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch
from conftest import subprocess_env_for
from safetensors.torch import load_file

from ganfill.train import CHECKPOINT, GANRecipe, gan_config
from ganfill.train.seeding import mix_seed
from ganfill.train.checkpoint import read_checkpoint_meta

# Each run starts torchrun and two training processes: a dozen seconds on 2 CPU cores, nearly all
# of it the three interpreters importing torch (the steps themselves take well under a second).
pytestmark = pytest.mark.slow


def _torchrun(args, cwd, env):
    """``ganfill ARGS`` in two processes under torchrun; ``--standalone`` takes a free port itself."""
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "ganfill.cli", *args, "--dry-run", "--dump-replicas", "--no-progress", "--device", "cpu"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180, env=env, cwd=cwd)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    return proc


def test_ddp_replicas_are_identical(tmp_path, subprocess_env):
    out = tmp_path / "ddp"
    proc = _torchrun(["train-gan", "--config", "tiny", "--out", str(out), "--batch-size", "16", "--max-steps", "4"],
                     tmp_path, subprocess_env)
    assert "done: 4 steps" in proc.stdout

    r0 = load_file(str(out / "replica-0.safetensors"))
    r1 = load_file(str(out / "replica-1.safetensors"))
    assert r0.keys() == r1.keys()
    assert any(k.startswith("G.") and "running_var" in k for k in r0)     # batch-norm buffers
    assert any(k.startswith("D.") and "running_mean" in k for k in r0)
    assert any(k.startswith("opt_G.state.") and k.endswith("exp_avg_sq") for k in r0)   # Adam states
    assert any(k.startswith("opt_D.state.") and k.endswith("exp_avg") for k in r0)
    different = [k for k in r0 if not torch.equal(r0[k], r1[k])]
    assert not different, different[:5]

    # Rank 0's checkpoint holds the same model, after 4 global steps of 16 images.
    ckpt = out / CHECKPOINT
    assert ckpt.is_file()
    saved = load_file(str(ckpt))
    assert all(torch.equal(saved[k], r0[k]) for k in saved)
    progress = read_checkpoint_meta(ckpt)["progress"]
    assert progress["global_step"] == 4 and progress["images_seen"] == 64 and progress["world"] == 2

    # Training moved the weights away from the shared initialisation.
    torch.manual_seed(mix_seed(0, "init"))      # as cmd_train_gan seeds every rank
    init = GANRecipe(gan_config("tiny"))
    for name, module in init.modules.items():
        weights = [k for k, _ in module.named_parameters()]
        moved = [k for k in weights if not torch.equal(module.state_dict()[k], r0[f"{name}.{k}"])]
        assert len(moved) == len(weights), (name, sorted(set(weights) - set(moved)))


@pytest.fixture(scope="module")
def refiner_run(tmp_path_factory, tmp_cache):
    """One two-process refiner run for the two tests below, under a time budget of 0 minutes and
    100 epochs: every rank stops after its first step (the loop is the GAN's: its several steps
    are test_ddp_replicas_are_identical's)."""
    tmp = tmp_path_factory.mktemp("ddp-refiner")
    out = tmp / "refiner"
    proc = _torchrun(["train-refiner", "--arch", "tiny", "--input", "empty", "--out", str(out), "--batch-size", "8",
                      "--epochs", "100", "--max-minutes", "0"], tmp, subprocess_env_for(os.environ))
    return proc, out


def test_ddp_refiner_replicas_are_identical(refiner_run):
    _, out = refiner_run
    r0 = load_file(str(out / "replica-0.safetensors"))
    r1 = load_file(str(out / "replica-1.safetensors"))
    assert any(k.startswith("R.") and "running_var" in k for k in r0)
    assert any(k.startswith("opt_R.state.") and k.endswith("exp_avg_sq") for k in r0)
    assert [k for k in r0 if not torch.equal(r0[k], r1[k])] == []
    saved = load_file(str(out / CHECKPOINT))
    assert all(torch.equal(saved[k], r0[k]) for k in saved)
    assert read_checkpoint_meta(out / CHECKPOINT)["progress"]["global_step"] == 1


def test_ddp_time_budget_stops_every_rank_at_the_same_step(refiner_run):
    proc, out = refiner_run
    assert "done: 1 steps" in proc.stdout
    progress = read_checkpoint_meta(out / CHECKPOINT)["progress"]
    assert progress["global_step"] == 1 and progress["epoch"] == 0 and progress["world"] == 2
    r0 = load_file(str(out / "replica-0.safetensors"))
    r1 = load_file(str(out / "replica-1.safetensors"))
    assert [k for k in r0 if not torch.equal(r0[k], r1[k])] == []
