"""Training survives kill -9 at random moments, including during a checkpoint write."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pytest
from safetensors.torch import load_file

from ganfill.train import CHECKPOINT
from ganfill.train.checkpoint import read_checkpoint_meta

EPOCHS = 20


def _train_cmd(out, data) -> list[str]:
    # --checkpoint-minutes 0 writes a checkpoint after every step, so kills often land mid-write.
    return [sys.executable, "-m", "ganfill.cli", "train-gan", "--config", "tiny", "--data", str(data),
            "--limit", "64", "--batch-size", "16", "--epochs", str(EPOCHS), "--checkpoint-minutes", "0",
            "--out", str(out), "--no-progress", "--resume"]


@pytest.mark.slow
def test_kill_9_then_resume_finishes_from_the_last_complete_checkpoint(tmp_path, test_dir, subprocess_env):
    out = tmp_path / "run"
    rng = random.Random(0)
    steps_seen = []
    for _ in range(3):
        before = (out / CHECKPOINT).stat().st_mtime_ns if (out / CHECKPOINT).exists() else None
        proc = subprocess.Popen(_train_cmd(out, test_dir), env=subprocess_env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # Wait until this run has written a checkpoint of its own, then kill it at a random moment.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if (out / CHECKPOINT).exists() and (out / CHECKPOINT).stat().st_mtime_ns != before:
                break
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.5))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        # Whatever moment the kill hit, the checkpoint on disk is a complete, loadable file.
        meta = read_checkpoint_meta(out / CHECKPOINT)
        load_file(str(out / CHECKPOINT))
        steps_seen.append(meta["progress"]["global_step"])

    assert steps_seen == sorted(steps_seen) and steps_seen[-1] > steps_seen[0], "each resumed run made progress"
    assert steps_seen[-1] < EPOCHS * (64 // 16), "the kills landed before the run could finish"
    done = subprocess.run(_train_cmd(out, test_dir), env=subprocess_env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    final = read_checkpoint_meta(out / CHECKPOINT)["progress"]
    assert final["epoch"] == EPOCHS and final["global_step"] == EPOCHS * (64 // 16)
    assert final["images_seen"] == EPOCHS * 64
    # The temp files of writes that the kills cut short were cleaned up by the next start.
    assert [p.name for p in out.iterdir() if p.name.endswith(".tmp")] == []
