#!/usr/bin/env bash
# The 128-px GAN prior on one GPU in one call: two LSGANs side by side for GAN_MINUTES (D with R1 and
# D with spectral norm; one small G leaves most of a datacenter GPU idle), the one whose EMA G has
# the lower sample FD-dlib kept, then the latent encoder against that EMA G for ENC_MINUTES.
#
#   OUT=/some/folder DEVICE=cuda bash scripts/device_gan128.sh                         # the real run
#   OUT=/tmp/smoke DEVICE=cpu CONFIGS="tiny-128-r1 tiny-128-sn" ENCODER=tiny-128 BATCH=8 \
#       GAN_MINUTES=0.3 ENC_MINUTES=0.2 FD_SAMPLES=16 FD_REALS=8 SHARES=/tmp/smoke.zip bash scripts/device_gan128.sh
#
# Data: zips of celeba-wild/train JPEGs (SHARES, default .devdata/wild-*.zip; scripts/pack_wild_shares.py
# with --validation 500, since the sample FD-dlib compares with all 500 validation faces), unpacked
# into $DATA. A warm machine keeps $DATA between calls: UNPACK_ONLY=1 unpacks the shares a call
# carries and stops, so the faces can arrive over several calls before the training one.
# Continue: when STATE (default training-state/lsgan-128) holds state files (scripts/run_state.py),
# the run of their config resumes from them, on any machine; only that config then trains.
# Back in $OUT as each stage ends (files of at most 15 MB): lsgan-128.safetensors (EMA G and D,
# fp16), the kept run's state-NNN.safetensors (EMA G, G, D in fp32; the optimiser states too when
# OPTIMIZERS=1), encoder-128.safetensors, fd.json (each run's final sample FD-dlib) and logs.tar.gz.
case "${1:-}" in -h|--help) sed -n '2,/^[^#]/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0;; esac   # the comment above
set -u
OUT=${OUT:?set OUT to the folder for the results}
DEVICE=${DEVICE:-cuda}
CONFIGS=${CONFIGS:-"half-128-r1 half-128-sn"}
ENCODER=${ENCODER:-default-128}
GAN_MINUTES=${GAN_MINUTES:-7}
ENC_MINUTES=${ENC_MINUTES:-1.5}
BATCH=${BATCH:-128}
FD_SAMPLES=${FD_SAMPLES:-2000}
FD_REALS=${FD_REALS:-500}
OPTIMIZERS=${OPTIMIZERS:-0}
DATA=${DATA:-/tmp/ganfill-data}
RUN=${RUN:-runs/device-gan128}
STATE=${STATE:-training-state/lsgan-128}
SHARES=${SHARES:-.devdata/wild-*.zip}
PY=${PY:-python3}
export PYTHONPATH=$PWD/src${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
export GANFILL_DATA=$DATA GANFILL_CACHE=$DATA/cache
T0=$(date +%s)
mkdir -p "$OUT" "$RUN"
# shellcheck disable=SC2086  # SHARES is a glob
$PY scripts/pack_wild_shares.py --unpack $SHARES --into "$DATA/celeba-wild/train" || exit 1
[ "${UNPACK_ONLY:-0}" = 1 ] && exit 0
ganfill() { $PY -m ganfill "$@"; }
save_state() { $PY scripts/run_state.py split "$@" $([ "$OPTIMIZERS" = 1 ] || echo --no-optimizers); }

# A committed state decides the config and is where its run starts.
if ls "$STATE"/state-*.safetensors > /dev/null 2>&1; then
    CONFIGS=$($PY -c "
import sys; sys.path.insert(0, 'src')
from ganfill.train.checkpoint import read_checkpoint_meta; from ganfill.models.gan import GAN_PRESETS
from ganfill.models.io import config_to_dict
c = read_checkpoint_meta(sorted(__import__('pathlib').Path('$STATE').glob('state-*.safetensors'))[0])['config']
print(next(n for n, p in GAN_PRESETS.items() if config_to_dict(p) == c))")
    $PY scripts/run_state.py join "$STATE" -o "$RUN/$CONFIGS/checkpoint.safetensors" || exit 1
fi
# Decode the faces once into the shared cache, as train-gan lists them (so the cache is the one
# it reads), so the runs side by side don't each decode them.
$PY -c "from ganfill.data import WILD_VALIDATION as V, FaceFolder, default_data_root as r
print(FaceFolder(r() / 'celeba-wild' / 'train', size=128, limit=V.start).images.shape)"
echo "== gan: $CONFIGS, $GAN_MINUTES min, t=$(( $(date +%s) - T0 )) s"
for c in $CONFIGS; do
    ganfill train-gan --config "$c" --out "$RUN/$c" --resume --epochs 100000 --max-minutes "$GAN_MINUTES" \
        --batch-size "$BATCH" --device "$DEVICE" --checkpoint-minutes 2 --no-progress > "$RUN/$c.log" 2>&1 &
done
wait

pack() {   # logs, FD curves and the last sample grids, in one file
    (cd "$RUN" && { ls ./*.log ./*.json 2>/dev/null; for d in */; do
        ls "$d"log.jsonl "$d"fd.jsonl "$d"losses.png 2>/dev/null; ls "$d"samples/*.png "$d"glimpses/*.png 2>/dev/null | tail -n 2
    done; } > .list; tar -czf - -T .list) > "$OUT/logs.tar.gz"
}
# Each run's EMA G exported, and its sample FD-dlib on the full protocol (2,000 samples against the
# 500 validation faces) on the CPU, the runs side by side; the lowest is kept.
for c in $CONFIGS; do
    tail -n 3 "$RUN/$c.log"
    rm -f "$RUN/$c.fd"
    ganfill export-gan "$RUN/$c/checkpoint.safetensors" -o "$RUN/$c.safetensors" > /dev/null \
        && $PY scripts/sample_fd.py "$RUN/$c.safetensors" --samples "$FD_SAMPLES" --reals "$FD_REALS" > "$RUN/$c.fd" 2>&1 &
done
wait
best=$($PY - "$RUN" $CONFIGS <<'PYEND'
import json, sys
run, configs = sys.argv[1], sys.argv[2:]
found = {}
for c in configs:
    try:
        found[c] = json.loads(open(f"{run}/{c}.fd").read().strip().splitlines()[-1])
    except (OSError, ValueError, IndexError):
        pass
kept = min(found, key=lambda c: found[c]["fd_dlib"]) if found else ""
open(f"{run}/fd.json", "w").write(json.dumps({**found, "kept": kept}, indent=1) + "\n")
print(kept)
PYEND
)
cat "$RUN/fd.json"; cp "$RUN/fd.json" "$OUT/fd.json"
[ -n "$best" ] || { echo "!! no GAN run finished"; pack; exit 1; }
cp "$RUN/$best.safetensors" "$OUT/lsgan-128.safetensors"
save_state "$RUN/$best/checkpoint.safetensors" -o "$OUT"
pack
echo "== encoder: $ENC_MINUTES min against $best, t=$(( $(date +%s) - T0 )) s"
if ganfill train-encoder --config "$ENCODER" --gan "$OUT/lsgan-128.safetensors" --out "$RUN/encoder" --resume \
        --epochs 100000 --max-minutes "$ENC_MINUTES" --batch-size "$BATCH" --device "$DEVICE" --checkpoint-minutes 1 \
        --no-progress > "$RUN/encoder.log" 2>&1 \
   && ganfill export-encoder "$RUN/encoder/checkpoint.safetensors" -o "$OUT/encoder-128.safetensors" >> "$RUN/encoder.log"; then
    tail -n 2 "$RUN/encoder.log"
else
    echo "!! encoder failed:"; tail -n 15 "$RUN/encoder.log"
fi
pack
echo "== done, t=$(( $(date +%s) - T0 )) s"; ls -la "$OUT"
