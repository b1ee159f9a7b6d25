"""Shared fixtures: the face data, a few real faces, and a private decode cache for the whole session."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

REPO = Path(__file__).resolve().parents[1]

# The suite shares a small machine with long training runs: keep every test on one thread.
os.environ.setdefault("GANFILL_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
torch.set_num_threads(1)

# pytest-xdist hands out whole files, in this order (pyproject.toml turns off its own, by number of
# tests, which left the long files with few tests, Ray's and DDP's, for last): the longest first,
# so that what is left at the end is short and the workers finish together; and, as far as the
# lengths allow, a file that starts processes of its own (Ray, Chromium, server workers, torchrun)
# next to one that computes in the test process, so that two swarms of processes importing torch
# seldom run at once.  On 2 cores: 50 s for the longest, 10 s for the last named, less for the rest.
LONGEST_FIRST = (
    "test_batch_ray.py", "test_baselines.py", "test_browser.py", "test_realism.py", "test_server_workers.py",
    "test_portrait.py", "test_ddp.py", "test_photo.py", "test_pipeline.py", "test_shipped_quality.py",
    "test_boxes_and_memory.py", "test_bad_input.py", "test_evaluate_cli.py", "test_gan.py", "test_faults.py",
    "test_gan128.py", "test_server_limits.py", "test_server.py", "test_readme.py", "test_refiner.py",
)


def pytest_collection_modifyitems(items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))     # stable: a file keeps its order


@pytest.fixture(scope="session", autouse=True)
def tmp_cache(tmp_path_factory) -> Path:
    """Point ``GANFILL_CACHE`` at a fresh folder so no test reads or writes ``~/.cache``."""
    cache = tmp_path_factory.mktemp("ganfill-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GANFILL_CACHE", str(cache))
        yield cache


@pytest.fixture(scope="session")
def data_root() -> Path:
    from ganfill.data import default_data_root

    root = default_data_root()
    if not (root / "celeba" / "test").is_dir():
        pytest.skip(f"face data not found under {root}")
    return root


@pytest.fixture(scope="session")
def test_dir(data_root) -> Path:
    return data_root / "celeba" / "test"


def _folder(path: Path, what: str) -> Path:
    """``path``, or the test skipped with ``what`` is missing."""
    if not path.is_dir():
        pytest.skip(f"no {what} under {path.parent}")
    return path


@pytest.fixture(scope="session")
def train_dir(data_root) -> Path:
    return _folder(data_root / "celeba" / "train", "training faces")


@pytest.fixture(scope="session")
def wild_dir(data_root) -> Path:
    """celeba-wild/test: 1,000 in-the-wild faces at 256 x 256, in no training set."""
    return _folder(data_root / "celeba-wild" / "test", "in-the-wild test faces")


@pytest.fixture
def hole(tmp_path) -> tuple[Path, np.ndarray]:
    """A mask file for a 64 x 64 face (white box over the middle) and its bool hole."""
    from PIL import Image

    mask = np.zeros((64, 64), np.uint8)
    mask[20:44, 16:48] = 255
    path = tmp_path / "hole.png"
    Image.fromarray(mask).save(path)
    return path, mask > 127


@pytest.fixture(scope="session")
def faces(test_dir) -> np.ndarray:
    """The first 8 real test faces, uint8 ``(8, 64, 64, 3)``."""
    from ganfill.data import FaceFolder

    images = FaceFolder(test_dir, limit=8).images
    assert images.shape == (8, 64, 64, 3) and images.dtype == np.uint8
    return images


@pytest.fixture
def truth(faces) -> torch.Tensor:
    """The first 4 real test faces as the networks take them: float (4, 3, 64, 64) in [-1, 1]."""
    from ganfill.data import to_tensor

    return to_tensor(faces[:4])


@pytest.fixture
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def subprocess_env_for(environ) -> dict[str, str]:
    """``environ`` as a child ``ganfill`` process gets it: one thread, the checkout's sources."""
    env = dict(environ)
    env["OMP_NUM_THREADS"] = "1"
    env["GANFILL_THREADS"] = "1"
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def run_ganfill(*args, cwd=None) -> subprocess.CompletedProcess:
    """``ganfill ARGS`` run by the console script's entry point in this process, as a child would
    run it: its exit code (argparse's and sys.exit's included), stdout and stderr, and every warning
    printed as a fresh process prints it.  Tests of what only a process shows (signals, memory,
    the installed script) spawn one instead."""
    import contextlib
    import io
    import warnings

    from ganfill.cli import main

    out, err, here = io.StringIO(), io.StringIO(), os.getcwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), warnings.catch_warnings():
            warnings.simplefilter("always")
            try:
                code = main([str(a) for a in args])
            except SystemExit as stop:
                code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    finally:
        os.chdir(here)
    return subprocess.CompletedProcess(["ganfill", *map(str, args)], code, out.getvalue(), err.getvalue())


@pytest.fixture
def subprocess_env() -> dict[str, str]:
    """The environment for a child ``ganfill`` process (it inherits the session's cache folder)."""
    return subprocess_env_for(os.environ)



@pytest.fixture
def serve(free_port):
    """``serve(app)`` runs a FastAPI app under uvicorn on a free loopback port and returns its URL;
    the server stops at the end of the test."""
    import threading
    import time

    import uvicorn

    servers = []

    def start(app) -> str:
        # The same uvicorn settings as `ganfill serve` (timeouts, header deadline) for a ganfill app.
        if hasattr(app.state, "config"):
            from ganfill.server.app import uvicorn_config

            config = uvicorn_config(app, "127.0.0.1", free_port)
        else:
            config = uvicorn.Config(app, host="127.0.0.1", port=free_port, log_level="warning")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        for _ in range(1200):           # the app's warm-up loads its default method first
            if server.started:
                break
            time.sleep(0.05)
        servers.append((server, thread))
        return f"http://127.0.0.1:{free_port}/"

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=10)
