#!/usr/bin/env bash
# The GPU check of the EFT-accuracy study, on a machine with a CUDA device:   bash bench/gpu_check.sh [OUT]
#  1. the device tests (tests/test_device.py, marker `device`: CUDA forward = CPU forward; bf16 and torch.compile
#     training give the CPU's q maps; SKIP_TESTS=1 leaves them out);
#  2. ParT with the SM interaction bias (ALICES, parton-level WBF): events/s in bf16 on CUDA and in fp32 on all CPU
#     cores at batch BATCH (default 2048: at 256 an H200 was no faster than 16 CPU cores, results/gpu_check), and the
#     limits of both trainings against the truth (SKIP_COMPARE=1 leaves this stage out);
#  3. bench/calibration.py on parton-level WBF, one process per ROWS entry (estimator:method) running side by side on
#     the one GPU, the CPU threads shared out (a single training leaves the GPU idle: the step is bound by per-batch
#     CPU work), each row an ensemble of ENSEMBLE members for the seed spread, for at most CALIBRATION_SECONDS —
#     finished rows are kept (the bench is resumable), the rest is cut off. Its table, rows and figure land in
#     OUT/calibration; the event files and models stay in SCRATCH.
# Works where the package is installed and where it is only on PYTHONPATH (then `lfi` is `python3 -m lfi.cli`).
set -uo pipefail
OUT=${1:-gpu_check}
SCRATCH=${SCRATCH:-/tmp/lfi_gpu_check}
mkdir -p "$OUT" "$SCRATCH"
command -v lfi > /dev/null || lfi() { python3 -m lfi.cli "$@"; }
WORKERS=$(nproc)
python3 -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'
print('device:', torch.cuda.get_device_name(0), '| torch', torch.__version__, '|', torch.get_num_threads(), 'CPU threads')" \
  || exit 1

if [ "${SKIP_TESTS:-0}" != 1 ]; then
  echo "== 1. device tests"
  timeout "${TEST_SECONDS:-240}" python3 -m pytest -q -o addopts="" -p no:cacheprovider -m device tests/test_device.py \
    2>&1 | tail -8
fi

if [ "${SKIP_COMPARE:-0}" != 1 ]; then
  echo "== 2. ParT int. SM, ALICES: CUDA bf16 against the CPU"
  lfi simulate wbf --level parton --events 60000 --seed 1 --workers "$WORKERS" --out "$SCRATCH/train.h5" > /dev/null
  lfi simulate wbf --level parton --events 30000 --seed 2 --workers "$WORKERS" --out "$SCRATCH/test.h5" > /dev/null
  for device in cuda cpu; do
    amp=bf16; [ "$device" = cpu ] && amp=off
    echo "-- $device (amp $amp)"
    lfi train --data "$SCRATCH/train.h5" --estimator part --method alices --out "$SCRATCH/part_sm_$device" --epochs 2 \
      --batch-size "${BATCH:-2048}" \
      --device "$device" --amp "$amp" --option pair=mass,delta_r --option interaction=sm_running --quiet 2>&1 \
      | grep -E "epoch|saved|rror"
  done
  lfi limits --data "$SCRATCH/test.h5" --model "$SCRATCH/part_sm_cuda" "$SCRATCH/part_sm_cpu" --truth --lumi 117600 \
    --grid -16.5:16.5:41,-16.5:16.5:41 --out "$OUT/limits" --device cuda 2>&1 | tail -8
fi

echo "== 3. calibration rows side by side (at most ${CALIBRATION_SECONDS:-300} s)"
ROWS=${ROWS:-part_sm:sally part:sally mlp:sally mixer:sally}
CAL="$SCRATCH/calibration"
mkdir -p "$CAL" "$OUT/calibration/rows"
# the samples calibration.py would simulate (seeds 1 and 2), made once before the rows start side by side
[ -e "$CAL/train.h5" ] || lfi simulate wbf --level parton --events "${TRAIN_EVENTS:-250000}" --seed 1 \
  --workers "$WORKERS" --out "$CAL/train.h5" | tail -1
[ -e "$CAL/test.h5" ] || lfi simulate wbf --level parton --events "${TEST_EVENTS:-60000}" --seed 2 \
  --workers "$WORKERS" --out "$CAL/test.h5" | tail -1
set -- $ROWS
THREADS=$(( WORKERS / $# > 0 ? WORKERS / $# : 1 ))
for row in "$@"; do
  OMP_NUM_THREADS=$THREADS timeout "${CALIBRATION_SECONDS:-300}" python3 bench/calibration.py --simulator wbf \
    --estimators "${row%%:*}" --methods "${row##*:}" --ensemble "${ENSEMBLE:-3}" \
    --events-per-epoch "${EVENTS_PER_EPOCH:-100000}" --epochs "${EPOCHS:-5}" --patience 4 --batch-size "${BATCH:-2048}" \
    --out "$CAL" > "$OUT/calibration/${row/:/_}.log" 2>&1 &
done
wait
cp "$CAL"/rows/*.json "$OUT/calibration/rows/" 2>/dev/null
cp "$CAL"/calibration.json "$CAL"/table.md "$CAL"/area_ratios.png "$OUT/calibration/" 2>/dev/null
grep -hE "events/s" "$OUT"/calibration/*.log | tail -4
cat "$OUT/calibration/table.md" 2>/dev/null
