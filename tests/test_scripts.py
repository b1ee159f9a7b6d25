"""Every maintainer script in scripts/ answers ``--help`` with its usage, without doing its work.

A script whose imports broke, or which starts a benchmark or a GPU run on ``--help``, fails here.
"""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from conftest import REPO

SCRIPTS = sorted(p for p in (REPO / "scripts").iterdir() if p.suffix in (".py", ".sh"))


def test_there_are_scripts_and_nothing_else_in_the_folder():
    assert SCRIPTS, "scripts/ is empty"
    others = [p.name for p in (REPO / "scripts").iterdir() if p.suffix not in (".py", ".sh") and p.name != "__pycache__"]
    assert not others, f"scripts/ holds files no test runs: {others}"


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.name for p in SCRIPTS])
def test_each_script_opens_with_the_command_that_runs_it(script):
    text = script.read_text()
    head = ast.get_docstring(ast.parse(text)) if script.suffix == ".py" else text.split("\nset ")[0]
    assert head and f"scripts/{script.name}" in head, f"{script.name}: no command line in its docstring / header"


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS, ids=[p.name for p in SCRIPTS])
def test_help(script, subprocess_env, tmp_path):
    command = [sys.executable, str(script), "--help"] if script.suffix == ".py" else ["bash", str(script), "--help"]
    # From an empty folder: --help must not need the working directory, nor write anything there.
    run = subprocess.run(command, cwd=tmp_path, env=subprocess_env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    text = run.stdout
    if script.suffix == ".py":
        assert text.startswith("usage: "), text[:500]
    assert script.name in text, text[:500]
    assert not any(tmp_path.iterdir()), "--help wrote files"
