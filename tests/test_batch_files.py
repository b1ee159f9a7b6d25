"""Folder mode's output names and interruptions: two inputs that would
write the same file get distinct names, decided before any work; a file no decoder can read is
one line and the batch goes on; SIGTERM leaves no temp file behind."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from ganfill.cli import main
from test_bad_input import dds_with_unknown_pixel_format


@pytest.fixture
def faces(test_dir) -> list[np.ndarray]:
    return [np.asarray(Image.open(test_dir / f"{16001 + i}.jpg").convert("RGB")) for i in range(3)]


def test_same_stem_gets_distinct_names_and_the_summary_counts_files(faces, hole, tmp_path, capsys):
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(faces[0]).save(photos / "a.png")
    Image.fromarray(faces[1]).save(photos / "a.jpg", quality=95)
    Image.fromarray(faces[2]).save(photos / "b.png")
    (photos / "c.png").write_bytes(dds_with_unknown_pixel_format())   # a DDS named .png
    out = tmp_path / "out"
    code = main(["inpaint", str(photos), "--mask", str(hole[0]), "-o", str(out), "--method", "telea",
                 "--no-progress"])
    stdout, stderr = capsys.readouterr()
    assert code == 1                                  # one file failed
    assert sorted(p.name for p in out.iterdir()) == ["a.jpg.png", "a.png", "b.png"]
    assert "a.jpg and a.png would both write a.png; writing a.jpg.png" in stderr
    assert "inpainted 3 of 4 images" in stdout
    assert "c.png: not a readable image (NotImplementedError" in stderr and "Traceback" not in stderr
    outside = ~hole[1]
    # a.png keeps its name and holds a.png's photo; a.jpg's result is a.jpg.png.
    assert np.array_equal(np.asarray(Image.open(out / "a.png"))[outside], faces[0][outside])
    jpeg = np.asarray(Image.open(photos / "a.jpg").convert("RGB"))
    assert np.array_equal(np.asarray(Image.open(out / "a.jpg.png"))[outside], jpeg[outside])


def test_a_clash_that_renaming_cannot_solve_is_an_error_before_any_work(faces, hole, tmp_path, capsys):
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("a.jpg", "a.jpeg", "a.jpg.png"):     # a.jpg would become a.jpg.png, which is taken
        Image.fromarray(faces[0]).save(photos / name, format="PNG" if name.endswith(".png") else "JPEG")
    out = tmp_path / "out"
    code = main(["inpaint", str(photos), "--mask", str(hole[0]), "-o", str(out), "--method", "telea",
                 "--no-progress"])
    stderr = capsys.readouterr().err
    assert code == 1 and "would both write" in stderr and "rename one of them" in stderr
    assert not out.exists()                            # nothing was written


SLOW_SAVE = """
import sys, time
import PIL.Image
real_save = PIL.Image.Image.save
def slow_save(self, fp, *args, **kwargs):
    real_save(self, fp, *args, **kwargs)
    fp.flush()
    time.sleep(30)             # SIGTERM lands here: the temp file is written, not yet renamed
PIL.Image.Image.save = slow_save
from ganfill.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.slow
def test_sigterm_leaves_no_temp_file(faces, hole, tmp_path, subprocess_env):
    photos = tmp_path / "photos"
    photos.mkdir()
    for i, face in enumerate(faces):
        Image.fromarray(face).save(photos / f"{i}.png")
    out = tmp_path / "out"
    out.mkdir()
    (out / "0.png").write_bytes(b"an earlier result that must survive")
    proc = subprocess.Popen([sys.executable, "-c", SLOW_SAVE, "inpaint", str(photos), "--mask", str(hole[0]),
                             "-o", str(out), "--method", "telea", "--no-progress"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=subprocess_env)
    try:
        deadline = time.monotonic() + 120
        while not list(out.glob(".*.tmp")):
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM
    assert b"interrupted" in stderr and b"Traceback" not in stderr
    assert [p.name for p in out.iterdir()] == ["0.png"]          # no .tmp debris
    assert (out / "0.png").read_bytes() == b"an earlier result that must survive"
