"""How the cost grows: population, generations (tiny profile, whole loop), image size (BigGAN-deep
128/256/512 decode) and crop count (CLIP crops per image, ViT-B-32). Prints one table of measured points.

python benchmarks/scaling.py [--device cuda] [--sizes 128,256,512] [--json FILE]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def timed(fn, device: str, repeat: int = 2) -> float:
    import torch

    fn()  # warm-up
    best = float("inf")
    for _ in range(repeat):
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        t = time.perf_counter()
        fn()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t)
    return best


def main(argv=None) -> int:
    import torch
    from pytorch_pretrained_biggan import BigGAN
    from rich.console import Console
    from rich.table import Table

    import bench
    from harness.critics.base import Features
    from harness.generators import BigGANGenerator
    from harness.models import biggan
    from harness.models.clip import load_clip

    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--sizes", default="128,256")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    rows = []
    tiny = bench.build("tiny", args.device)
    for pop in (8, 16, 32, 64):
        r = bench.batched_generation(tiny, pop)
        rows.append({"what": "population (tiny, one generation)", "x": pop, "seconds": r["wall_s"],
                     "per_eval_ms": 1000 * r["wall_s"] / pop})
    from harness.config.methods import load_method
    from harness.config.run import build_run_config
    from harness.search import run_search

    for gens in (2, 4, 8, 16):
        cfg = build_run_config(sets=["search.population=16", "search.offspring=16", f"search.generations={gens}"],
                               models__profile="tiny", device=args.device)
        t = time.perf_counter()
        run_search(bench.CAPTION, load_method("four_objective"), tiny.scorer, tiny.generator, cfg.search, 0)
        wall = time.perf_counter() - t
        rows.append({"what": "generations (tiny, pop 16, whole search)", "x": gens, "seconds": wall,
                     "per_eval_ms": 1000 * wall / cfg.search.budget})
    for size in map(int, args.sizes.split(",")):
        torch.manual_seed(0)
        net = biggan.init_random(BigGAN(biggan.deep_config(size))).eval().to(args.device)
        gen = BigGANGenerator(net, batch_size=args.batch, device=args.device)
        X = gen.initial_latents(args.batch, 0)
        s = timed(lambda: gen.decode(X), args.device)
        rows.append({"what": "image size (BigGAN-deep decode)", "x": size, "seconds": s,
                     "per_eval_ms": 1000 * s / args.batch})
    clip = load_clip("ViT-B-32", None, args.device)
    images = torch.rand(args.batch, 3, 256, 256, device=args.device)
    for grid in (1, 2, 3, 4):
        s = timed(lambda: Features(images, clip=clip, grid=grid, center=True).clip_crops, args.device)
        rows.append({"what": "crops (CLIP ViT-B-32, grid² + 1)", "x": grid * grid + 1, "seconds": s,
                     "per_eval_ms": 1000 * s / args.batch})
    table = Table(title=f"cost growth on {args.device}" + (f" ({torch.cuda.get_device_name()})"
                                                           if args.device.startswith("cuda") else ""))
    for col in ("what", "x", "seconds", "ms per image"):
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(r["what"], str(r["x"]), f"{r['seconds']:.3f}", f"{r['per_eval_ms']:.2f}")
    Console(width=160).print(table)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
