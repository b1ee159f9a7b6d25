#!/usr/bin/env bash
# The 256-px in-the-wild benchmark (docs/results.md): methods x mask kinds on the 1,000
# celeba-wild/test faces, one JSON per (mask, group of methods), merged by scripts/results_tables.py.
#   scripts/bench_wild.sh GROUP METHODS [MASKS] [EXTRA ganfill evaluate OPTIONS...]
# e.g. scripts/bench_wild.sh classical mean,telea,navier-stokes,biharmonic "center free box half"
set -euo pipefail
cd "$(dirname "$0")/.."
group=$1; methods=$2; masks=${3:-"center free box half"}; shift 3 || shift $#
for mask in $masks; do
  .venv/bin/ganfill evaluate --data ../shared/data/celeba-wild/test --mask "$mask" --methods "$methods" \
    --no-progress --json "docs/results/wild-$mask-$group.json" "$@"
done
