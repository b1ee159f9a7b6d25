#!/usr/bin/env bash
# The 256-px in-the-wild benchmark (docs/results.md): methods x mask kinds on the 1,000
# celeba-wild/test faces, one JSON per mask kind, docs/results/wild-MASK-GROUP.json, merged by
# scripts/results_tables.py. GROUP names the methods and the number of faces (e.g. classical-1000).
#
#   scripts/bench_wild.sh GROUP METHODS [MASKS] [EXTRA ganfill evaluate OPTIONS...]
#   scripts/bench_wild.sh classical-1000 mean,telea,navier-stokes "center free box half"
#   scripts/bench_wild.sh default-200 lsgan+ae-wild "center free box half" --limit 200
case "${1:-}" in -h|--help) sed -n '2,/^[^#]/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0;; esac   # the comment above
set -euo pipefail
cd "$(dirname "$0")/.."
group=$1; methods=$2; masks=${3:-"center free box half"}; shift 3 || shift $#
for mask in $masks; do
  .venv/bin/ganfill evaluate --data ../shared/data/celeba-wild/test --mask "$mask" --methods "$methods" \
    --no-progress --json "docs/results/wild-$mask-$group.json" "$@"
done
