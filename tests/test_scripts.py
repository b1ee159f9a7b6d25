"""Every maintainer script in scripts/ answers ``--help`` with its usage, without doing its work.

A script whose imports broke, or which starts a benchmark or a GPU run on ``--help``, fails here.
The Python scripts run one after another in one child interpreter (each as ``__main__``, with its
imports done for real), so the suite pays for importing torch once, not once per script.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys

import pytest

from conftest import REPO

SCRIPTS = sorted(p for p in (REPO / "scripts").iterdir() if p.suffix in (".py", ".sh"))

# Runs each script given on the command line as `script --help` and prints one JSON line per
# script: its exit code and what it printed.
_HELP_RUNNER = r"""
import contextlib, io, json, runpy, sys
for path in sys.argv[1:]:
    out, err, code = io.StringIO(), io.StringIO(), 0
    sys.argv = [path, "--help"]
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            runpy.run_path(path, run_name="__main__")
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    except BaseException as error:
        code, err = 1, io.StringIO(f"{type(error).__name__}: {error}")
    print(json.dumps({"script": path, "code": code, "stdout": out.getvalue(), "stderr": err.getvalue()[-2000:]}),
          flush=True)
"""


def test_there_are_scripts_and_nothing_else_in_the_folder():
    assert SCRIPTS, "scripts/ is empty"
    others = [p.name for p in (REPO / "scripts").iterdir() if p.suffix not in (".py", ".sh") and p.name != "__pycache__"]
    assert not others, f"scripts/ holds files no test runs: {others}"


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.name for p in SCRIPTS])
def test_each_script_opens_with_the_command_that_runs_it(script):
    text = script.read_text()
    head = ast.get_docstring(ast.parse(text)) if script.suffix == ".py" else text.split("\nset ")[0]
    assert head and f"scripts/{script.name}" in head, f"{script.name}: no command line in its docstring / header"


@pytest.fixture(scope="module")
def help_runs(tmp_path_factory) -> dict[str, dict]:
    """Each script's ``--help``: {name: {"code", "stdout", "stderr"}}, and whether any wrote a file
    (under "wrote"), all run from an empty folder: --help must not need the working directory, nor
    write anything there."""
    import os

    from conftest import subprocess_env_for

    cwd = tmp_path_factory.mktemp("scripts-help")
    env = subprocess_env_for(os.environ)
    runs = {}
    python = [str(p) for p in SCRIPTS if p.suffix == ".py"]
    child = subprocess.run([sys.executable, "-c", _HELP_RUNNER, *python], cwd=cwd, env=env, capture_output=True,
                           text=True, timeout=600)
    for line in child.stdout.splitlines():
        if line.startswith("{"):
            run = json.loads(line)
            runs[os.path.basename(run.pop("script"))] = run
    for script in (p for p in SCRIPTS if p.suffix == ".sh"):
        sh = subprocess.run(["bash", str(script), "--help"], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)
        runs[script.name] = {"code": sh.returncode, "stdout": sh.stdout, "stderr": sh.stderr[-2000:]}
    runs["wrote"] = sorted(p.name for p in cwd.iterdir())
    runs["child stderr"] = child.stderr[-2000:]
    return runs


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.name for p in SCRIPTS])
def test_help(script, help_runs):
    run = help_runs.get(script.name)
    assert run is not None, f"{script.name}: the help run stopped before it: {help_runs['child stderr']}"
    assert run["code"] == 0, run["stderr"]
    if script.suffix == ".py":
        assert run["stdout"].startswith("usage: "), run["stdout"][:500]
    assert script.name in run["stdout"], run["stdout"][:500]
    assert not help_runs["wrote"], f"--help wrote files: {help_runs['wrote']}"
