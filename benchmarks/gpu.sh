#!/usr/bin/env bash
# The GPU benchmark, for a CUDA machine (the device tool): one table per script, well under 5 minutes.
# From the repository root. Packages the machine lacks travel as wheels in .whl/ (see benchmarks/README.md).
set -euo pipefail
if [ -d .whl ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
  export PYTHONPATH="/tmp/site:$PWD"
else
  export PYTHONPATH="$PWD"
fi
export HF_HUB_OFFLINE=1 HARNESS_CACHE=/tmp/harness-cache PYTHONUNBUFFERED=1
OUTDIR="${OUT:-/tmp}"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 benchmarks/run.py --device cuda --profiles tiny,random --populations 16,100 --naive --json "$OUTDIR/gpu_fp32.json"
python3 benchmarks/run.py --device cuda --profiles random --populations 100 --set precision=bf16 --json "$OUTDIR/gpu_bf16.json"
python3 benchmarks/amp_check.py --profile random
python3 benchmarks/scaling.py --device cuda --sizes 128,256,512 --batch 16 --json "$OUTDIR/gpu_scaling.json"
# diffusion (the `diffusion` extra's diffusers must travel in .whl/ too): SD-Turbo's architecture with random weights,
# 512 px, 1 step, one generation of population 100; a 100 x 50 job is 5,100 evaluations / evals/s
python3 benchmarks/run.py --device cuda --profiles random --populations 16,100 --set models.generator=diffusion --json "$OUTDIR/gpu_diffusion_fp32.json"
python3 benchmarks/run.py --device cuda --profiles random --populations 100 --set models.generator=diffusion --set precision=fp16 --json "$OUTDIR/gpu_diffusion_fp16.json"
