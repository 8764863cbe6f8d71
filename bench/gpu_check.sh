#!/usr/bin/env bash
# The GPU check of the EFT-accuracy study: the device tests (tests/test_device.py, marked `device`) and a short
# training + limits run of ParT with the SM interaction bias in bf16 autocast on CUDA against the same on the CPU,
# with events per second. Run on a machine with a CUDA device:  bash bench/gpu_check.sh [OUT]
set -euo pipefail
OUT=${1:-gpu_check}
mkdir -p "$OUT"
python -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'; print('device:', torch.cuda.get_device_name(0))"
python -m pytest -q -m device tests/test_device.py -p no:cacheprovider 2>&1 | tail -5
lfi simulate wbf --level parton --events 60000 --seed 1 --workers 4 --out "$OUT/train.h5" > /dev/null
lfi simulate wbf --level parton --events 20000 --seed 2 --workers 4 --out "$OUT/test.h5" > /dev/null
for device in cuda cpu; do
  amp=bf16; [ "$device" = cpu ] && amp=off
  lfi train --data "$OUT/train.h5" --estimator part --method alices --out "$OUT/part_sm_$device" --epochs 3 \
    --device "$device" --amp "$amp" --option pair=mass,delta_r --option interaction=sm_running --quiet 2>&1 \
    | grep -E "epoch|saved"
done
lfi limits --data "$OUT/test.h5" --model "$OUT/part_sm_cuda" "$OUT/part_sm_cpu" --truth --lumi 117600 \
  --grid -16.5:16.5:41,-16.5:16.5:41 --out "$OUT/limits" --device cuda
