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
# multi-step diffusion (issue 32): SD 2.1's architecture (the random profile: SD-Turbo's = SD 2.1's, random weights,
# so wall time only) at 50 DDIM steps, eta 1, guidance 7.5, each method at EvoSearch's budget of 5,000 NFE per job
# (100 images of 50 steps) on 20 GenEval prompts: wall time per job (manifest seconds), then score against NFE
python3 -m harness run suites/geneval --models random --device cuda --limit 20 --methods best_of_n,four_objective,zero_order,evo_trajectory --set models.generator=diffusion --set generator.steps=50 --set generator.scheduler=ddim --set generator.eta=1.0 --set generator.guidance=7.5 --set search.population=100 --set search.offspring=100 --set search.nfe=5000 --set precision=fp16 --out "$OUTDIR/gpu_evosearch"
python3 -m harness ablate suites/geneval --models random --device cuda --limit 20 --methods best_of_n,four_objective,zero_order,evo_trajectory --budgets 1000,2500,5000 --set models.generator=diffusion --set generator.steps=50 --set generator.scheduler=ddim --set generator.eta=1.0 --set generator.guidance=7.5 --set search.population=20 --set search.offspring=20 --set precision=fp16 --out "$OUTDIR/gpu_evosearch_budgets"
