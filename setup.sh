#!/usr/bin/env bash
# Sets up ganfill on a fresh machine: a virtual environment in .venv with the `ganfill` command,
# the test tools, the evaluator's face-descriptor extra (dlib) and Ray for `inpaint --ray` (about
# 500 MB and 30 s more).
# TORCH_SPEC picks the PyTorch build (default: the CPU wheel this project is tested with).
# A GPU user sets TORCH_INDEX_URL to PyTorch's CUDA wheel index, e.g. TORCH_SPEC=torch TORCH_INDEX_URL=<cuda index>.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
if [ -n "${TORCH_INDEX_URL:-}" ]; then
  .venv/bin/python -m pip install -q "$TORCH_SPEC" --index-url "$TORCH_INDEX_URL"
else
  .venv/bin/python -m pip install -q "$TORCH_SPEC"
fi
.venv/bin/python -m pip install -q -e ".[dev,metrics,ray]"
# The browser test drives Debian's Chromium; without it (no root, no apt) that one test is skipped.
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    (apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null 2>&1 ||
     { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null 2>&1; }) ||
      echo "setup.sh: could not install chromium; the browser test will be skipped"
  else
    echo "setup.sh: chromium and chromium-driver are not installed (needs root: apt-get install chromium chromium-driver); the browser test will be skipped"
  fi
fi
.venv/bin/ganfill --version
