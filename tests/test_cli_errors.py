"""The CLI's error policy (one line for a user's mistake, a traceback for a bug, --debug to see the
traceback behind a line) and the one export command with its export-KIND aliases."""

from __future__ import annotations

import numpy as np
import pytest

from ganfill import weights
from ganfill.cli import main
from ganfill.cli_train import EXPORT_KINDS


def test_a_user_error_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("GANFILL_DEBUG", raising=False)
    assert main(["export", "gan", str(tmp_path / "missing.safetensors"), "-o", str(tmp_path / "o.safetensors")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("ganfill: error: ") and "missing.safetensors" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize("how", ["--debug first", "--debug last", "GANFILL_DEBUG=1"])
def test_debug_shows_the_traceback_behind_the_line(tmp_path, capsys, monkeypatch, how):
    monkeypatch.delenv("GANFILL_DEBUG", raising=False)
    args = ["sample", "-n", "0", "-o", str(tmp_path / "s.png")]
    if how == "--debug first":
        args = ["--debug", *args]
    elif how == "--debug last":
        args = [*args, "--debug"]
    else:
        monkeypatch.setenv("GANFILL_DEBUG", "1")
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "cmd_sample" in err
    assert err.strip().splitlines()[-1] == "ganfill: error: -n must be at least 1"


def test_a_value_error_from_inside_a_library_is_a_bug_with_its_traceback(tmp_path, monkeypatch):
    def broken(kind, checkpoint, output, dtype=None):
        np.zeros(3).reshape(2)      # numpy raises ValueError: a bug, not the user's input

    monkeypatch.setattr(weights, "export", broken)
    with pytest.raises(ValueError, match="reshape"):
        main(["export", "gan", str(tmp_path / "c.safetensors"), "-o", str(tmp_path / "o.safetensors")])


def test_export_kind_and_its_aliases_run_the_same_export(tmp_path, monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(weights, "export", lambda kind, checkpoint, output: calls.append((kind, checkpoint, output)))
    for kind in ("gan", "encoder", "refiner", "context-encoder"):
        assert main(["export", kind, "ckpt.safetensors", "-o", "out.safetensors"]) == 0
        assert main([f"export-{kind}", "ckpt.safetensors", "-o", "out.safetensors"]) == 0
        assert calls[-1] == calls[-2] and calls[-1][0] == kind
    with pytest.raises(SystemExit):
        main(["export", "photoshop", "ckpt.safetensors", "-o", "out.safetensors"])
    assert set(EXPORT_KINDS) == set(weights.EXPORTERS)   # the parser's list (kept light: no torch) agrees


def test_export_of_an_unknown_kind_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown kind of weights 'photoshop'"):
        weights.export("photoshop", "c", "o")


def test_a_slow_step_says_what_it_is_doing(capsys):
    """A step longer than a few seconds (loading a method, a slow fill) prints a progress line, then
    the time so far; a quick one prints nothing."""
    import time

    from ganfill.console import progress_note

    with progress_note("filling a.png with lsgan-yeh", after_s=0.1, every_s=0.15):
        time.sleep(0.45)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "ganfill: filling a.png with lsgan-yeh ..."
    assert len(lines) >= 2 and lines[1].startswith("ganfill: filling a.png with lsgan-yeh: ") and "s so far" in lines[1]
    with progress_note("quick", after_s=0.5):
        pass
    assert capsys.readouterr().err == ""


def test_help_lists_the_everyday_commands_apart_and_methods_needs_no_torch(subprocess_env):
    """`ganfill --help` puts inpaint, serve, methods and evaluate first, the training commands
    under their own heading; `ganfill methods` answers without importing torch (its time is in
    docs/results/cli-startup.json)."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "ganfill", "--help"], capture_output=True, text=True,
                         env=subprocess_env).stdout
    everyday, training = out.split("training and export")
    assert all(f"\n  {c} " in everyday for c in ("inpaint", "serve", "methods", "evaluate"))
    assert "train-gan" in training and "train-gan" not in everyday
    code = ("import sys; from ganfill.cli import main; main(['methods']); "
            "assert 'torch' not in sys.modules, 'ganfill methods imported torch'")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=subprocess_env)
    assert r.returncode == 0, r.stderr
    assert "lsgan+ae-wild" in r.stdout or "*" in r.stdout
