#!/usr/bin/env bash
# Every model of ganfill's 64-px protocol trained on one GPU, stage by stage, each on a wall-time
# budget, then scored there.
#
#   OUT=/some/folder DEVICE=cuda bash scripts/device_train.sh      # the real run (docs/training.md)
#   OUT=/tmp/smoke DEVICE=cpu SCALE=0.02 bash scripts/device_train.sh   # a smoke test of the script
#
# Each stage's weights are copied to $OUT as soon as they exist, so a run cut short still returns
# whatever finished.  A stage that fails is reported and the next one goes on, with the shipped
# weights standing in for the missing ones.  Data: .devdata/celeba.tar.gz, packed beforehand with
#   tar -C ../shared/data -czf .devdata/celeba.tar.gz celeba/train celeba/test
case "${1:-}" in -h|--help) sed -n '2,/^[^#]/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0;; esac   # the comment above
set -u
OUT=${OUT:?set OUT to the folder for the results}
DEVICE=${DEVICE:-cuda}
SCALE=${SCALE:-1}           # multiplies every stage's minutes
RUN=${RUN:-runs/device}
export PYTHONPATH=$PWD/src${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
PY=${PY:-python3}
mkdir -p "$OUT" "$RUN/weights" "$RUN/data"
W=$RUN/weights
SHIPPED=src/ganfill/weights
T0=$(date +%s)

if [ ! -d "$RUN/data/celeba/train" ]; then
    tar -xzf .devdata/celeba.tar.gz -C "$RUN/data" || { echo "no data"; exit 1; }
fi
export GANFILL_DATA=$PWD/$RUN/data GANFILL_CACHE=$PWD/$RUN/cache

minutes() { $PY -c "print(round($1 * $SCALE, 4))"; }
ganfill() { $PY -m ganfill "$@"; }

# stage NAME MINUTES EXPORT-COMMAND WEIGHTS-FILE -- TRAIN-ARGS...
stage() {
    local name=$1 budget; budget=$(minutes "$2"); local export_cmd=$3 file=$4; shift 5
    echo "== $name: ${budget} min, t=$(( $(date +%s) - T0 )) s"
    if ganfill "$@" --out "$RUN/$name" --epochs 100000 --max-minutes "$budget" --device "$DEVICE" \
            --checkpoint-minutes 1 --no-progress > "$RUN/$name.log" 2>&1 \
       && ganfill "$export_cmd" "$RUN/$name/checkpoint.safetensors" -o "$W/$file" >> "$RUN/$name.log" 2>&1; then
        cp "$W/$file" "$OUT/$file"
        tail -n 2 "$RUN/$name.log"
        tail -n 1 "$RUN/$name/log.jsonl" 2>/dev/null
    else
        echo "!! $name failed:"; tail -n 15 "$RUN/$name.log"
    fi
}
fallback() { [ -f "$W/$1" ] || cp "$SHIPPED/$1" "$W/$1"; }

stage gan 2.0 export-gan lsgan.safetensors -- train-gan --config half --batch-size 64
fallback lsgan.safetensors
stage encoder 0.9 export-encoder encoder.safetensors -- train-encoder --gan "$W/lsgan.safetensors" --batch-size 64
fallback encoder.safetensors
stage refiner 1.7 export-refiner refiner.safetensors -- train-refiner --arch unet --input lsgan \
    --gan "$W/lsgan.safetensors" --encoder "$W/encoder.safetensors" --batch-size 128
stage refiner-paper 0.8 export-refiner refiner-paper.safetensors -- train-refiner --arch paper --input lsgan \
    --gan "$W/lsgan.safetensors" --encoder "$W/encoder.safetensors" --batch-size 128
stage refiner-ae-only 0.6 export-refiner refiner-ae-only.safetensors -- train-refiner --arch unet --input empty \
    --batch-size 128
stage context-encoder 0.6 export-context-encoder context-encoder.safetensors -- train-context-encoder \
    --batch-size 64

pack() {   # logs, curves and the last pictures of each run, in one file
    (cd "$RUN" && ls ./*.log ./*.json > .list 2>/dev/null;
     for d in gan encoder refiner refiner-paper refiner-ae-only context-encoder; do
         [ -d "$d" ] || continue
         ls "$d"/log.jsonl "$d"/losses.png 2>/dev/null
         ls "$d"/samples/*.png "$d"/glimpses/*.png 2>/dev/null | tail -n 3
     done >> .list; tar -czf - -T .list) > "$OUT/logs.tar.gz"
}
pack

# Scores on the GPU: the slow Yeh protocol on the first 100 test faces for every mask kind (the
# CPU here would take hours), and every trained method on all 1,000 with the centre mask.
echo "== evaluate, t=$(( $(date +%s) - T0 )) s"
export GANFILL_WEIGHTS_DIR=$PWD/$W
LIMIT=${EVAL_LIMIT:-1000}
YEH=${YEH_LIMIT:-100}
ganfill evaluate --mask center --limit "$LIMIT" --device "$DEVICE" --no-progress --json "$RUN/eval-center.json" \
    --methods lsgan-yeh,lsgan,lsgan+ae,lsgan+ae-paper,ae-only,context-encoder --method-limit lsgan-yeh="$YEH" \
    > "$RUN/eval.log" 2>&1; cat "$RUN/eval.log"; pack
for kind in free box half; do
    ganfill evaluate --mask $kind --limit "$YEH" --device "$DEVICE" --no-progress --json "$RUN/eval-$kind-yeh.json" \
        --methods lsgan-yeh >> "$RUN/eval.log" 2>&1; tail -n 3 "$RUN/eval.log"; pack
done
echo "== done, t=$(( $(date +%s) - T0 )) s"
