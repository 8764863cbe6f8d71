#!/usr/bin/env bash
# The GPU check of the EFT-accuracy study, on a machine with a CUDA device:   bash bench/gpu_check.sh [OUT]
#  1. the device tests (tests/test_device.py, marker `device`: CUDA forward = CPU forward; bf16 and torch.compile
#     training give the CPU's q maps);
#  2. ParT with the SM interaction bias (ALICES, parton-level WBF): events/s in bf16 on CUDA and in fp32 on all CPU
#     cores at batch BATCH (default 2048: at 256 an H200 was no faster than 16 CPU cores, results/gpu_check), and the
#     limits of both trainings against the truth;
#  3. bench/calibration.py on parton-level WBF at a larger budget than the 2-core CPU affords, for at most
#     CALIBRATION_SECONDS (default 300) — finished rows are kept (the bench is resumable), the rest is cut off.
# Works where the package is installed and where it is only on PYTHONPATH (then `lfi` is `python3 -m lfi.cli`).
set -uo pipefail
OUT=${1:-gpu_check}
mkdir -p "$OUT"
command -v lfi > /dev/null || lfi() { python3 -m lfi.cli "$@"; }
WORKERS=$(nproc)
python3 -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'
print('device:', torch.cuda.get_device_name(0), '| torch', torch.__version__, '|', torch.get_num_threads(), 'CPU threads')" \
  || exit 1

echo "== 1. device tests"
python3 -m pytest -q -o addopts="" -p no:cacheprovider -m device tests/test_device.py 2>&1 | tail -8

echo "== 2. ParT int. SM, ALICES: CUDA bf16 against the CPU"
lfi simulate wbf --level parton --events 60000 --seed 1 --workers "$WORKERS" --out "$OUT/train.h5" > /dev/null
lfi simulate wbf --level parton --events 30000 --seed 2 --workers "$WORKERS" --out "$OUT/test.h5" > /dev/null
for device in cuda cpu; do
  amp=bf16; [ "$device" = cpu ] && amp=off
  echo "-- $device (amp $amp)"
  lfi train --data "$OUT/train.h5" --estimator part --method alices --out "$OUT/part_sm_$device" --epochs 2 \
    --batch-size "${BATCH:-2048}" \
    --device "$device" --amp "$amp" --option pair=mass,delta_r --option interaction=sm_running --quiet 2>&1 \
    | grep -E "epoch|saved|rror"
done
lfi limits --data "$OUT/test.h5" --model "$OUT/part_sm_cuda" "$OUT/part_sm_cpu" --truth --lumi 117600 \
  --grid -16.5:16.5:41,-16.5:16.5:41 --out "$OUT/limits" --device cuda 2>&1 | tail -8

echo "== 3. calibration at a larger budget (at most ${CALIBRATION_SECONDS:-300} s)"
timeout "${CALIBRATION_SECONDS:-300}" python3 bench/calibration.py --simulator wbf --workers "$WORKERS" \
  --train-events "${TRAIN_EVENTS:-400000}" --test-events 60000 --estimators "${ESTIMATORS:-part_sm,part,mlp,mixer,iaformer}" \
  --methods "${METHODS:-alices,sally}" --events-per-epoch "${EVENTS_PER_EPOCH:-150000}" --epochs "${EPOCHS:-12}" \
  --patience 4 --batch-size "${BATCH:-2048}" --out "$OUT/calibration" 2>&1 | grep -v "^epoch" | tail -30
cat "$OUT/calibration/table.md" 2>/dev/null
