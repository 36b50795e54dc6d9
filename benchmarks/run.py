"""Print the benchmark table: python benchmarks/run.py [--profiles tiny,random] [--populations 16,100]
[--device cpu|cuda] [--naive] [--json FILE]."""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main(argv=None) -> int:
    from rich.console import Console
    from rich.table import Table

    import bench

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--profiles", default="tiny,random")
    ap.add_argument("--populations", default="16,100")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--naive", action="store_true", help="also time the per-individual reference loop")
    ap.add_argument("--naive-max", type=int, default=100, help="largest population the naive loop runs at")
    ap.add_argument("--set", action="append", default=[], help="config override key=value")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    import torch

    card = torch.cuda.get_device_name() if args.device.startswith("cuda") else platform.processor() or "cpu"
    rows = []
    for profile in args.profiles.split(","):
        system = bench.build(profile, args.device, args.set)
        for pop in map(int, args.populations.split(",")):
            row = {"profile": profile, **bench.batched_generation(system, pop)}
            if args.naive and pop <= args.naive_max:
                row["naive"] = bench.per_individual(system, pop)
            rows.append(row)
            print(json.dumps(row), flush=True)
    phases = sorted({k for r in rows for k in r["split_s"]}, key=lambda k: (k == "harness overhead", k))
    table = Table(title=f"one generation of four_objective on {args.device} ({card}), torch {torch.__version__}")
    for col in ["profile", "pop", "evals/s", "naive evals/s", "speedup", "peak MiB", *phases]:
        table.add_column(col, justify="right")
    for r in rows:
        naive = r.get("naive")
        mem = r["peak_cuda_mib"] if r["peak_cuda_mib"] is not None else r["peak_rss_mib"]
        cells = [f"{r['split_s'].get(k, 0) / r['wall_s']:.1%}" for k in phases]
        table.add_row(r["profile"], str(r["population"]), f"{r['evals_per_s']:.2f}",
                      f"{naive['evals_per_s']:.2f}" if naive else "—",
                      f"{naive['wall_s'] / r['wall_s']:.2f}x" if naive else "—", f"{mem:.0f}", *cells)
    Console(width=220).print(table)
    if args.json:
        args.json.write_text(json.dumps({"device": args.device, "card": card, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
