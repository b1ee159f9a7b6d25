"""Training survives kill -9 at random moments, including during a checkpoint write."""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver
import os
import random
import signal
import sys
import time

import pytest
from safetensors.torch import load_file

from ganfill.train import CHECKPOINT
from ganfill.train.checkpoint import read_checkpoint_meta

EPOCHS = 8            # 32 steps: room for the three kills' progress (a few steps each), then a short finish


def _train(argv: list[str], log: str) -> None:
    """``ganfill train-gan ARGV`` as a process of its own, its output to ``log``."""
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    from ganfill.cli import main

    sys.exit(main(argv))


@pytest.fixture
def trainer():
    """``trainer(argv, log)`` starts ``ganfill train-gan`` in a process of its own, forked from a
    server that has imported torch and the trainer once (a fresh interpreter spends most of a killed
    run's few seconds on imports); the process is started, killed and resumed like any other."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["torch", "torch._dynamo", "ganfill.cli", "ganfill.train.builders",
                                "ganfill.train.gan", "ganfill.data"])
    started = []

    def start(argv: list[str], log) -> multiprocessing.Process:
        proc = ctx.Process(target=_train, args=(argv, str(log)), daemon=True)
        proc.start()
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.is_alive():
            proc.kill()
        proc.join(timeout=30)
    # The server and its imports are not needed after this test.
    ctx.set_forkserver_preload([])
    stop = getattr(multiprocessing.forkserver._forkserver, "_stop", None)
    if stop is not None:
        stop()


def _train_args(out, data) -> list[str]:
    # --checkpoint-minutes 0 writes a checkpoint after every step, so kills often land mid-write.
    return ["train-gan", "--config", "tiny", "--data", str(data), "--limit", "64", "--batch-size", "16",
            "--epochs", str(EPOCHS), "--checkpoint-minutes", "0", "--out", str(out), "--no-progress", "--resume"]


@pytest.mark.slow
def test_kill_9_then_resume_finishes_from_the_last_complete_checkpoint(tmp_path, test_dir, trainer):
    out = tmp_path / "run"
    log = tmp_path / "train.log"
    rng = random.Random(0)
    steps_seen = []
    for _ in range(3):
        before = (out / CHECKPOINT).stat().st_mtime_ns if (out / CHECKPOINT).exists() else None
        proc = trainer(_train_args(out, test_dir), log)
        # Wait until this run has written a checkpoint of its own, then kill it at a random moment.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.is_alive():
            if (out / CHECKPOINT).exists() and (out / CHECKPOINT).stat().st_mtime_ns != before:
                break
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.5))
        if proc.is_alive():
            os.kill(proc.pid, signal.SIGKILL)
        proc.join(timeout=30)
        assert proc.exitcode == -signal.SIGKILL, log.read_text()
        # Whatever moment the kill hit, the checkpoint on disk is a complete, loadable file.
        meta = read_checkpoint_meta(out / CHECKPOINT)
        load_file(str(out / CHECKPOINT))
        steps_seen.append(meta["progress"]["global_step"])

    assert steps_seen == sorted(steps_seen) and steps_seen[-1] > steps_seen[0], "each resumed run made progress"
    assert steps_seen[-1] < EPOCHS * (64 // 16), "the kills landed before the run could finish"
    done = trainer(_train_args(out, test_dir), log)
    done.join(timeout=300)
    assert done.exitcode == 0, log.read_text()
    final = read_checkpoint_meta(out / CHECKPOINT)["progress"]
    assert final["epoch"] == EPOCHS and final["global_step"] == EPOCHS * (64 // 16)
    assert final["images_seen"] == EPOCHS * 64
    # The temp files of writes that the kills cut short were cleaned up by the next start.
    assert [p.name for p in out.iterdir() if p.name.endswith(".tmp")] == []
