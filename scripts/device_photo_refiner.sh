#!/usr/bin/env bash
# The photo refiner's loss-weight sweep on one GPU: several fine-tunes of the shipped refiner-wild
# side by side (one small U-Net leaves most of a datacenter GPU idle), each on a wall-time budget.
#
#   OUT=/some/folder DEVICE=cuda MINUTES=7 bash scripts/device_photo_refiner.sh    # the sweep
#   OUT=/tmp/smoke DEVICE=cpu MINUTES=0.2 RUNS="a:2:0.05:3e-4:0" BATCH=4 \
#       SHARES=/tmp/smoke.zip bash scripts/device_photo_refiner.sh                    # a smoke test
#
# RUNS: NAME:SSIM-WEIGHT:ADV-WEIGHT:LR:SEARCH-ITERATIONS, one `ganfill train-photo-refiner` each; run again
# with the same RUN folder, every run resumes from its checkpoint.
# Data: zip files of celeba-wild/train JPEGs (SHARES, default .devdata/wild-*.zip, stored, not
# compressed; scripts/pack_wild_shares.py makes them), unpacked into $DATA: the GPU machine needs
# only the repository and these files. Validation faces in them are only looked at.
# Every EVERY seconds (45) each run's latest checkpoint is exported to $OUT as fp16 weights, with
# the logs and each run's last glimpse, so a run cut short still brings back what it learned.
case "${1:-}" in -h|--help) sed -n '2,/^[^#]/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0;; esac   # the comment above
set -u
T0=$(date +%s)
PY=${PY:-python3}
OUT=${OUT:?set OUT to the folder for the results}
DEVICE=${DEVICE:-cuda}
MINUTES=${MINUTES:-6}
BATCH=${BATCH:-64}
DATA=${DATA:-/tmp/ganfill-data}
RUN=${RUN:-runs/device-refiner}
SHARES=${SHARES:-.devdata/wild-*.zip}
RUNS=${RUNS:-"s2a05:2:0.05:3e-4:0 s4a05:4:0.05:3e-4:0 s2a10:2:0.1:3e-4:0 s2a05lr1:2:0.05:1e-4:0 s2a05it10:2:0.05:3e-4:10"}
export PYTHONPATH=$PWD/src${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
export GANFILL_DATA=$DATA GANFILL_CACHE=$DATA/cache
mkdir -p "$OUT" "$RUN"
# shellcheck disable=SC2086  # SHARES is a glob
$PY scripts/pack_wild_shares.py --unpack $SHARES --into "$DATA/celeba-wild/train" || exit 1
[ "${UNPACK_ONLY:-0}" = 1 ] && exit 0

# Decode the faces once into the shared cache, so the runs don't each decode them.
$PY -c "from ganfill.data import FaceFolder, default_data_root as r; print(FaceFolder(r() / 'celeba-wild' / 'train', size=128).images.shape)"
echo "decoded, t=$(( $(date +%s) - T0 )) s"

export_all() {   # each run's latest checkpoint, as shippable fp16 weights, into $OUT
    for spec in $RUNS; do
        name=${spec%%:*}
        [ -f "$RUN/$name/checkpoint.safetensors" ] || continue
        $PY -m ganfill export photo-refiner "$RUN/$name/checkpoint.safetensors" -o "$OUT/$name.safetensors" >/dev/null 2>&1
    done
    # the logs and each run's last glimpse only: small enough to copy back at every interval
    (cd "$RUN" && { ls ./*.log ./*/log.jsonl 2>/dev/null
                    for d in ./*/glimpses; do ls "$d"/epoch-*.png 2>/dev/null | tail -n 1; done; } | tar -czf - -T -) \
        > "$OUT/.logs.tmp" && mv "$OUT/.logs.tmp" "$OUT/logs.tar.gz"
}

for spec in $RUNS; do
    IFS=: read -r name ssim adv lr iters <<< "$spec"
    GANFILL_THREADS=2 $PY -m ganfill train-photo-refiner --out "$RUN/$name" --epochs 100000 --batch-size "$BATCH" \
        --ssim-weight "$ssim" --adv-weight "$adv" --lr "$lr" --search-iterations "$iters" --no-progress \
        --init src/ganfill/weights/refiner-wild.safetensors --max-minutes "$MINUTES" --device "$DEVICE" \
        --checkpoint-minutes 1 --resume > "$RUN/$name.log" 2>&1 &
done
while [ -n "$(jobs -rp)" ]; do
    sleep "${EVERY:-45}"
    export_all
    echo "t=$(( $(date +%s) - T0 )) s: $(for s in $RUNS; do n=${s%%:*}; tail -n 1 "$RUN/$n/log.jsonl" 2>/dev/null \
        | $PY -c "import json,sys; r=json.loads(sys.stdin.read() or '{}'); print('$n', r.get('images_seen'), r.get('img_per_s'), end=' ')"; done)"
done
wait
export_all
for spec in $RUNS; do
    name=${spec%%:*}
    echo "== $name"; tail -n 3 "$RUN/$name.log"; tail -n 1 "$RUN/$name/log.jsonl" 2>/dev/null
done
echo "== done, t=$(( $(date +%s) - T0 )) s"
