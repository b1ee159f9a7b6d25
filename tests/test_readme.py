"""The README works as written: its quick-start commands and its Python snippet, run on the sample
photo and mask in examples/, as a new user would run them from a fresh clone."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import REPO

README = (REPO / "README.md").read_text()
PHOTO = REPO / "examples" / "photos" / "astronaut.png"
MASK = REPO / "examples" / "masks" / "astronaut.png"

# Not run here: `source` (the test puts the environment's bin/ on PATH instead), and `ganfill serve`
# with its `curl` (a server that runs until stopped; tests/test_server.py drives the same API).
NOT_RUN = ("source ", "ganfill serve", "curl ")


def section(title: str) -> str:
    """The README's text under the ``## title`` heading, up to the next ``## ``."""
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start:end if end >= 0 else None]


def code_blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, re.S)


def commands(block: str) -> list[str]:
    """The command lines of a bash block: continuations joined, comments and blank lines dropped."""
    lines = block.replace("\\\n", " ").splitlines()
    return [line.split("  #")[0].strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def in_sample_folder(tmp_path: Path) -> Path:
    """A fresh working folder holding the repository's examples/, as the README's paths expect."""
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    return tmp_path


def assert_filled(path: Path, photo: np.ndarray, hole: np.ndarray) -> None:
    """``path`` is the sample photo with its hole filled: same size, every known pixel unchanged,
    and the hole changed."""
    out = np.asarray(Image.open(path).convert("RGB"))
    assert out.shape == photo.shape, path
    assert np.array_equal(out[~hole], photo[~hole]), f"{path}: known pixels changed"
    assert not np.array_equal(out[hole], photo[hole]), f"{path}: the hole was not filled"


@pytest.fixture(scope="module")
def sample() -> tuple[np.ndarray, np.ndarray]:
    photo = np.asarray(Image.open(PHOTO).convert("RGB"))
    hole = np.asarray(Image.open(MASK).convert("L")) > 127
    assert photo.shape[:2] == hole.shape and 0 < hole.mean() < 0.1
    return photo, hole


def test_the_sample_is_documented_with_its_source_and_licence():
    about = (REPO / "examples" / "README.md").read_text()
    assert "astronaut" in about and "public domain" in about
    assert "(examples/README.md)" in README


def test_the_quick_start_uses_the_sample_and_skips_only_the_server():
    run = [c for c in commands("\n".join(code_blocks(section("Quick start"), "bash")))]
    assert sum(c.startswith("ganfill inpaint ") for c in run) >= 5
    assert all("examples/" in c for c in run if c.startswith(("ganfill inpaint", "curl")))
    assert all(c.startswith(("ganfill ", *NOT_RUN)) for c in run), run


def run_ganfill(command: str, capsys) -> tuple[int, str]:
    """A README command line ``ganfill ...`` run as written by the console script's entry point, in
    this process (the entry point itself is tested in a child process elsewhere): its exit code and
    what it printed to stderr."""
    from ganfill.cli import main

    argv = shlex.split(command)
    assert argv[0] == "ganfill", command
    try:
        code = main(argv[1:])
    except SystemExit as stop:
        code = stop.code
    return code, capsys.readouterr().err


@pytest.mark.slow
def test_the_quick_start_commands_run_as_written(tmp_path, sample, monkeypatch, capsys):
    folder = in_sample_folder(tmp_path)
    monkeypatch.chdir(folder)
    ran = []
    for command in commands("\n".join(code_blocks(section("Quick start"), "bash"))):
        if command.startswith(NOT_RUN):
            continue
        code, err = run_ganfill(command, capsys)
        assert code == 0, f"{command}\n{err[-2000:]}"
        ran.append(command)
    photo, hole = sample
    # what the commands promise: one output, the 4 candidates, and the folder's output
    outputs = [folder / "filled.png", *(folder / f"filled-{k}.png" for k in range(1, 5)), folder / "filled" / PHOTO.name]
    for path in outputs:
        assert_filled(path, photo, hole)
    assert len(ran) >= 6


@pytest.mark.slow
def test_the_python_snippet_runs_as_written(tmp_path, sample, monkeypatch):
    import runpy

    blocks = code_blocks(README, "python")
    assert blocks, "the README has no Python snippet"
    folder = in_sample_folder(tmp_path)
    (folder / "snippet.py").write_text("\n".join(blocks))
    monkeypatch.chdir(folder)
    runpy.run_path(str(folder / "snippet.py"), run_name="__main__")
    photo, hole = sample
    assert_filled(folder / "filled.png", photo, hole)
