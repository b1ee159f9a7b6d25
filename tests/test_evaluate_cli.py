"""``ganfill evaluate`` end to end on real faces, and its handling of bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import run_ganfill

from ganfill.cli import main
from ganfill.data import FaceFolder, load_image, make_masks
from ganfill.evaluate import evaluate, masked_input

METRICS = {"psnr", "ssim", "hole_psnr", "hole_l1", "sec_per_image"}
FACE_METRICS = {"fd_dlib", "identity", "u_ids", "p_ids"}
CELL, PAD = 64, 2
# Four faces are enough for every column (U-IDS and P-IDS need two) and for a grid of several
# columns; the face descriptors (dlib, about 0.15 s an image) are most of a run's time.
LIMIT = 4


def _evaluate_args(test_dir, tmp_path, *extra, methods="telea,mean", mask="center", seed=0, name="report",
                   limit=LIMIT):
    return ["evaluate", "--data", str(test_dir), "--limit", str(limit), "--methods", methods, "--mask", mask,
            "--seed", str(seed), "--json", str(tmp_path / f"{name}.json"), "--grid", str(tmp_path / f"{name}.png"),
            "--no-progress", *extra]


def _scores(report, without=()):
    return {name: {k: v for k, v in m.items() if k != "sec_per_image" and k not in without}
            for name, m in report["methods"].items()}


def _face_metrics() -> bool:
    from ganfill.face_descriptors import descriptor_unavailable

    return descriptor_unavailable() is None


def test_evaluate_end_to_end(test_dir, tmp_path, capsys):
    assert main(_evaluate_args(test_dir, tmp_path)) == 0
    out = capsys.readouterr().out
    assert "telea" in out and "mean" in out

    report = json.loads((tmp_path / "report.json").read_text())
    assert report["mask"] == "center"
    assert report["n_images"] == LIMIT
    assert list(report["methods"]) == ["telea", "mean"]
    for name, m in report["methods"].items():
        assert METRICS <= set(m), name
        assert (FACE_METRICS <= set(m)) == _face_metrics(), name      # on by default when dlib is there
        assert all(isinstance(m[k], float) for k in METRICS)
        assert 0 < m["psnr"] < 100 and 0 < m["hole_psnr"] < 100
        assert -1 <= m["ssim"] <= 1 and 0 < m["hole_l1"] <= 255
        assert m["sec_per_image"] >= 0
        # The hole is a quarter of the image and the rest is exact: whole-image PSNR is higher.
        assert m["psnr"] > m["hole_psnr"]
    # Telea's diffusion beats a flat mean colour on faces.
    assert report["methods"]["telea"]["hole_l1"] < report["methods"]["mean"]["hole_l1"]

    grid = load_image(tmp_path / "report.png")
    rows, cols = 1 + 2 + 1, LIMIT
    assert grid.shape == (rows * (CELL + PAD) + PAD, cols * (CELL + PAD) + PAD, 3)

    def cell(r, c):
        y, x = PAD + r * (CELL + PAD), PAD + c * (CELL + PAD)
        return grid[y:y + CELL, x:x + CELL]

    faces = FaceFolder(test_dir, limit=LIMIT).images
    masks = make_masks("center", LIMIT)
    for c in range(cols):
        assert np.array_equal(cell(0, c), masked_input(faces[c:c + 1], masks[c:c + 1])[0])  # input, hole white
        assert np.array_equal(cell(rows - 1, c), faces[c])                                # ground truth
        for r in (1, 2):                                                                   # the methods
            assert np.array_equal(cell(r, c)[~masks[c]], faces[c][~masks[c]])


def test_evaluate_matches_the_library(test_dir, tmp_path):
    # The face columns' flag reaches the library (they are on by default: test_evaluate_end_to_end).
    assert main(_evaluate_args(test_dir, tmp_path, "--no-face-metrics", mask="box", seed=3)) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert not FACE_METRICS & {k for m in report["methods"].values() for k in m}
    lib, *_ = evaluate(test_dir, "box", ["telea", "mean"], limit=LIMIT, seed=3, face_metrics=False)
    assert _scores(report) == _scores(lib)


@pytest.mark.slow
def test_evaluate_is_deterministic(test_dir, tmp_path):
    # two faces: the fewest that give every column (U-IDS and P-IDS need two pairs)
    assert main(_evaluate_args(test_dir, tmp_path, mask="box", seed=5, name="a", limit=2)) == 0
    assert main(_evaluate_args(test_dir, tmp_path, mask="box", seed=5, name="b", limit=2)) == 0
    assert main(_evaluate_args(test_dir, tmp_path, "--no-face-metrics", mask="box", seed=6, name="c", limit=2)) == 0
    a, b, c = (json.loads((tmp_path / f"{n}.json").read_text()) for n in "abc")
    assert _scores(a) == _scores(b)           # the face columns too, when dlib is there
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
    assert _scores(a, FACE_METRICS) != _scores(c)   # another seed, other boxes


def test_method_limit(test_dir, tmp_path):
    # with the face columns, whose originals' descriptors are cut to the method's images
    assert main(_evaluate_args(test_dir, tmp_path, "--method-limit", "telea=3")) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["methods"]["telea"]["n_images"] == 3
    assert report["methods"]["mean"]["n_images"] == LIMIT
    grid = load_image(tmp_path / "report.png")
    assert grid.shape[1] == 3 * (CELL + PAD) + PAD   # the grid shows what every method ran on


@pytest.mark.slow
def test_evaluate_console_script(test_dir, tmp_path, subprocess_env):
    """The one run in a child process: a fresh interpreter, as a user starts it."""
    proc = subprocess.run([sys.executable, "-m", "ganfill.cli", *_evaluate_args(test_dir, tmp_path, limit=2)],
                          capture_output=True, text=True, timeout=120, env=subprocess_env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    # nothing on stderr but ganfill's own lines (the note when dlib is missing): no warnings, no traceback
    assert all(line.startswith("ganfill: ") for line in proc.stderr.splitlines()), proc.stderr
    assert "mean" in proc.stdout and "telea" in proc.stdout
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["n_images"] == 2 and set(report["methods"]) == {"telea", "mean"}
    assert (tmp_path / "report.png").is_file()


def _bad(tmp_path, test_dir):
    empty = tmp_path / "empty"
    empty.mkdir()
    return {
        "unknown method": ["--data", str(test_dir), "--methods", "telea,photoshop"],
        "unknown mask": ["--data", str(test_dir), "--mask", "triangle"],
        "missing data": ["--data", str(tmp_path / "no-such-folder")],
        "empty data": ["--data", str(empty)],
        "empty methods": ["--data", str(test_dir), "--methods", ","],
        "bad method limit": ["--data", str(test_dir), "--method-limit", "telea"],
    }


@pytest.mark.parametrize("case", ["unknown method", "unknown mask", "missing data", "empty data", "empty methods",
                                  "bad method limit"])
def test_bad_input_is_one_line(case, test_dir, tmp_path, capsys):
    args = _bad(tmp_path, test_dir)[case]
    out_json, out_grid = tmp_path / "r.json", tmp_path / "r.png"
    rc = main(["evaluate", "--limit", "8", "--no-progress", "--json", str(out_json), "--grid", str(out_grid), *args])
    err = capsys.readouterr().err
    assert rc != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("ganfill: error:")
    assert "Traceback" not in err
    assert not out_json.exists() and not out_grid.exists()


def test_bad_input_in_the_console_script(tmp_path):
    """The entry point's exit status and stderr as a child process gets them (run here: the
    child's start is test_evaluate_console_script's)."""
    out_json = tmp_path / "r.json"
    proc = run_ganfill("evaluate", "--data", tmp_path / "nope", "--json", out_json, "--no-progress")
    assert proc.returncode != 0
    assert proc.stderr.startswith("ganfill: error:")
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr
    assert not out_json.exists()


def test_unknown_subcommand_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        main(["frobnicate"])
    assert info.value.code == 2


def test_methods_lists_each_method_with_its_size_speed_candidates_and_description(capsys):
    from ganfill.cli import main
    from ganfill.methods import method_class, method_names

    assert main(["methods"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert list(lines) == method_names()
    for name, line in lines.items():
        cls = method_class(name)
        assert (f"{cls.fixed_size} px" if cls.fixed_size else "any size") in line
        assert cls.speed in line and cls.description and line.rstrip().endswith(cls.description)
        assert ("candidates" in line) == cls.gives_candidates
    assert "slow" in lines["lsgan-yeh"] and "candidates" in lines["lsgan+ae"] and "one answer" in lines["telea"]
