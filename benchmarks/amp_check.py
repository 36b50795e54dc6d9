"""fp32 vs bf16/fp16 autocast on CUDA: the same latents decoded and scored both ways; prints the
largest score change per critic and the speed of each. python benchmarks/amp_check.py --profile random"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main(argv=None) -> int:
    import numpy as np
    import torch

    import bench
    from harness.search.loop import quantize

    ap = argparse.ArgumentParser()
    ap.add_argument("--profile", default="random")
    ap.add_argument("--n", type=int, default=64)
    args = ap.parse_args(argv)
    system = bench.build(args.profile, "cuda")
    X = system.generator.initial_latents(args.n, 1)
    results = {}
    for precision in ("fp32", "bf16", "fp16"):
        system.models.clip.precision = system.models.classifier.precision = precision
        system.generator.precision = precision
        system.scorer.score(quantize(system.generator.decode(X[:2])), bench.CAPTION)
        torch.cuda.synchronize()
        t = time.perf_counter()
        images = quantize(system.generator.decode(X))
        scores = system.scorer.score(images, bench.CAPTION)
        torch.cuda.synchronize()
        results[precision] = (time.perf_counter() - t, images.float().cpu(), scores)
    base_t, base_img, base = results["fp32"]
    print(f"| precision | seconds for {args.n} | speedup | max |Δpixel| | " + " | ".join(
        f"max |Δ{n}|" for n in base) + " |")
    print("|---" * (4 + len(base)) + "|")
    for precision, (t, img, scores) in results.items():
        diffs = [f"{np.abs(scores[n] - base[n]).max():.2e}" for n in base]
        print(f"| {precision} | {t:.3f} | {base_t / t:.2f}x | {(img - base_img).abs().max():.3f} | "
              + " | ".join(diffs) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
