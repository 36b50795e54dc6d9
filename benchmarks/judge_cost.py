"""Per-image cost of each model the metrics phase runs (CLIPScore judge, PickScore, HPSv2, the CLIP FID
features), for a profile's panel: the number to multiply by the images a first, uncached
`harness metrics` has to score.

    python benchmarks/judge_cost.py --profile random --images 16 --size 256
"""
from __future__ import annotations

import argparse
import json
import time

import torch
import harness.tiny  # noqa: F401,E402  (the tiny profile's builders)


def main(argv=None) -> None:
    from harness.config.schema import MetricsConfig, ModelsConfig
    from harness.metrics.clipscore import evaluate_clipscore
    from harness.models import load_judge
    from harness.judges.panel import load_panel_judge

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="random")
    parser.add_argument("--images", type=int, default=16)
    parser.add_argument("--size", type=int, default=256)
    args = parser.parse_args(argv)
    torch.set_num_threads(torch.get_num_threads())
    images = torch.rand(args.images, 3, args.size, args.size, generator=torch.Generator().manual_seed(0))
    captions = ["a red double decker bus on the street"] * args.images
    models = ModelsConfig(profile=args.profile)
    rows = []
    t0 = time.perf_counter()
    clip = load_judge(models, MetricsConfig(), "cpu")[0]
    load = time.perf_counter() - t0
    evaluate_clipscore(clip, images[:2], captions[:2])  # warm-up
    t0 = time.perf_counter()
    evaluate_clipscore(clip, images, captions)
    rows.append({"model": f"clipscore {clip.name}", "load_s": round(load, 1),
                 "s_per_image": round((time.perf_counter() - t0) / args.images, 4)})
    for name in ("pickscore", "hpsv2"):
        judge = load_panel_judge(name, args.profile)
        t0 = time.perf_counter()
        judge.backbone
        load = time.perf_counter() - t0
        judge.score(images[:2], captions[:2])
        t0 = time.perf_counter()
        judge.score(images, captions)
        rows.append({"model": f"{name} {judge.id}", "load_s": round(load, 1),
                     "s_per_image": round((time.perf_counter() - t0) / args.images, 4)})
        del judge
    for row in rows:
        print(json.dumps(row))


if __name__ == "__main__":
    main()
