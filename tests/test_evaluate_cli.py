"""``ganfill evaluate`` end to end on real faces, and its handling of bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from ganfill.cli import main
from ganfill.data import FaceFolder, load_image, make_masks
from ganfill.evaluate import evaluate, masked_input

METRICS = {"psnr", "ssim", "hole_psnr", "hole_l1", "sec_per_image"}
CELL, PAD = 64, 2


def _evaluate_args(test_dir, tmp_path, *extra, methods="telea,mean", mask="center", seed=0, name="report"):
    return ["evaluate", "--data", str(test_dir), "--limit", "8", "--methods", methods, "--mask", mask,
            "--seed", str(seed), "--json", str(tmp_path / f"{name}.json"), "--grid", str(tmp_path / f"{name}.png"),
            "--no-progress", *extra]


def _scores(report):
    return {name: {k: v for k, v in m.items() if k != "sec_per_image"} for name, m in report["methods"].items()}


def test_evaluate_end_to_end(test_dir, tmp_path, capsys):
    assert main(_evaluate_args(test_dir, tmp_path)) == 0
    out = capsys.readouterr().out
    assert "telea" in out and "mean" in out

    report = json.loads((tmp_path / "report.json").read_text())
    assert report["mask"] == "center"
    assert report["n_images"] == 8
    assert list(report["methods"]) == ["telea", "mean"]
    for name, m in report["methods"].items():
        assert METRICS <= set(m), name
        assert all(isinstance(m[k], float) for k in METRICS)
        assert 0 < m["psnr"] < 100 and 0 < m["hole_psnr"] < 100
        assert -1 <= m["ssim"] <= 1 and 0 < m["hole_l1"] <= 255
        assert m["sec_per_image"] >= 0
        # The hole is a quarter of the image and the rest is exact: whole-image PSNR is higher.
        assert m["psnr"] > m["hole_psnr"]
    # Telea's diffusion beats a flat mean colour on faces.
    assert report["methods"]["telea"]["hole_l1"] < report["methods"]["mean"]["hole_l1"]

    grid = load_image(tmp_path / "report.png")
    rows, cols = 1 + 2 + 1, 8
    assert grid.shape == (rows * (CELL + PAD) + PAD, cols * (CELL + PAD) + PAD, 3)

    def cell(r, c):
        y, x = PAD + r * (CELL + PAD), PAD + c * (CELL + PAD)
        return grid[y:y + CELL, x:x + CELL]

    faces = FaceFolder(test_dir, limit=8).images
    masks = make_masks("center", 8)
    for c in range(cols):
        assert np.array_equal(cell(0, c), masked_input(faces[c:c + 1], masks[c:c + 1])[0])  # input, hole white
        assert np.array_equal(cell(rows - 1, c), faces[c])                                # ground truth
        for r in (1, 2):                                                                   # the methods
            assert np.array_equal(cell(r, c)[~masks[c]], faces[c][~masks[c]])


@pytest.mark.slow
def test_evaluate_matches_the_library(test_dir, tmp_path):
    assert main(_evaluate_args(test_dir, tmp_path, mask="box", seed=3)) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    lib, *_ = evaluate(test_dir, "box", ["telea", "mean"], limit=8, seed=3)
    assert _scores(report) == _scores(lib)


@pytest.mark.slow
def test_evaluate_is_deterministic(test_dir, tmp_path):
    assert main(_evaluate_args(test_dir, tmp_path, mask="box", seed=5, name="a")) == 0
    assert main(_evaluate_args(test_dir, tmp_path, mask="box", seed=5, name="b")) == 0
    assert main(_evaluate_args(test_dir, tmp_path, mask="box", seed=6, name="c")) == 0
    a, b, c = (json.loads((tmp_path / f"{n}.json").read_text()) for n in "abc")
    assert _scores(a) == _scores(b)
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
    assert _scores(a) != _scores(c)   # another seed, other boxes


def test_method_limit(test_dir, tmp_path):
    assert main(_evaluate_args(test_dir, tmp_path, "--method-limit", "telea=3")) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["methods"]["telea"]["n_images"] == 3
    assert report["methods"]["mean"]["n_images"] == 8
    grid = load_image(tmp_path / "report.png")
    assert grid.shape[1] == 3 * (CELL + PAD) + PAD   # the grid shows what every method ran on


@pytest.mark.slow
def test_evaluate_console_script(test_dir, tmp_path, subprocess_env):
    proc = subprocess.run([sys.executable, "-m", "ganfill.cli", *_evaluate_args(test_dir, tmp_path)],
                          capture_output=True, text=True, timeout=120, env=subprocess_env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["n_images"] == 8 and set(report["methods"]) == {"telea", "mean"}
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


def test_bad_input_in_a_subprocess(tmp_path, subprocess_env):
    out_json = tmp_path / "r.json"
    proc = subprocess.run([sys.executable, "-m", "ganfill.cli", "evaluate", "--data", str(tmp_path / "nope"),
                           "--json", str(out_json), "--no-progress"],
                          capture_output=True, text=True, timeout=120, env=subprocess_env)
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
