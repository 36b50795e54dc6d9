"""Search power on known-answer problems (harness.search.known_answer): which genome and operator
settings let a method find a hidden target, against best_of_n at the same budget.

    python benchmarks/search_power.py --profile tiny --seeds 0,1,2,3,4 --two-target --out /tmp/search_power_tiny
    python benchmarks/search_power.py --profile tiny --genomes "" --spaces z,w,wplus --operators pymoo,moderate
    python benchmarks/search_power.py --profile random --population 8 --generations 4 --seeds 0,1 \
        --genomes softmax,sparse,embedding --operators glass --targets one_class --methods four_objective,best_of_n

Per (genome, operators, target, method, seed) one search; per setting the mean fraction of the gap
closed over the four objectives (see known_answer), and its paired difference from best_of_n on the
same seeds and targets (mean, 95 % percentile-bootstrap interval). The two-target problem reports
the hypervolume fraction of its known front (two_objective vs best_of_n). Writes results.csv and
table.md under --out.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

OPERATORS = {  # name -> MethodConfig fields (pymoo 0.6 meanings; harness.search.operators)
    "pymoo": dict(crossover_prob=0.9, crossover_eta=15.0, mutation_prob_var=None, mutation_eta=20.0),
    "glass": dict(crossover_prob=1.0, crossover_eta=3.0, mutation_prob_var=0.5, mutation_eta=3.0),  # CLIP-GLaSS
    "moderate": dict(crossover_prob=0.9, crossover_eta=15.0, mutation_prob_var=0.1, mutation_eta=10.0),
}


def paired(a: np.ndarray, b: np.ndarray, n_boot: int = 2000) -> tuple[float, float, float]:
    from harness.metrics.stats import bootstrap_interval

    d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    lo, hi = bootstrap_interval(d, np.mean, n_boot, 0.95) or (np.nan, np.nan)  # None below 2 pairs
    return float(d.mean()), float(lo), float(hi)


def run(args) -> pd.DataFrame:
    from harness.config.run import build_run_config
    from harness.config.schema import SearchConfig
    from harness.search import load_method
    from harness.search.known_answer import (KnownAnswerScorer, TwoTargetScorer, gap_closed, hypervolume_fraction,
                                             initial_scores, run_problem, target_image)
    from harness.search.system import build_system

    search = SearchConfig(population=args.population, offspring=args.population, generations=args.generations)
    rows = []
    variants = {g: [f"generator.class_genome={g}", f"generator.active_classes={args.active_classes}"]
                for g in args.genomes if g}
    variants.update({f"stylegan2:{sp}": ["models.generator=stylegan2_ada", f"generator.space={sp}"]
                     for sp in args.spaces if sp})
    for genome, variant in variants.items():
        system = build_system(build_run_config(sets=[*variant, *args.set], models__profile=args.profile))
        gen = system.generator
        for target in args.targets:
            for seed in args.seeds:
                scorer = KnownAnswerScorer(system.models, target_image(gen, target, seed))
                initial = initial_scores(gen, scorer, search, seed)
                for op_name in args.operators:
                    for m in args.methods:
                        method = load_method(m)
                        if method.algorithm in ("nsga2", "ga"):
                            method = dataclasses.replace(method, **OPERATORS[op_name])
                        elif op_name != args.operators[0]:
                            continue  # best_of_n / no_selection have no operators: run once
                        t0 = time.perf_counter()
                        out = run_problem(method, search, gen, scorer, seed)
                        closed = gap_closed(initial, out["picked"])
                        rows.append({"profile": args.profile, "genome": genome, "operators": op_name, "target": target,
                                     "method": m, "seed": seed, "gap_closed": float(closed.mean()),
                                     **{f"closed_{i}": float(c) for i, c in enumerate(closed)},
                                     "evaluations": out["evaluations"], "seconds": time.perf_counter() - t0})
                        print(rows[-1], flush=True)
        if args.two_target:
            for seed in args.seeds:
                scorer = TwoTargetScorer((target_image(gen, "one_class", seed), target_image(gen, "mixture", seed)))
                ref = initial_scores(gen, scorer, search, seed)[:, :2].min(axis=0)
                for op_name in args.operators:
                    for m in ("two_objective", "best_of_n"):
                        method = load_method(m)
                        if method.algorithm in ("nsga2", "ga"):
                            method = dataclasses.replace(method, **OPERATORS[op_name])
                        elif op_name != args.operators[0]:
                            continue
                        out = run_problem(method, search, gen, scorer, seed)
                        rows.append({"profile": args.profile, "genome": genome, "operators": op_name,
                                     "target": "two_target", "method": m, "seed": seed,
                                     "hv_fraction": hypervolume_fraction(out["final"][:, :2], scorer.front(), ref),
                                     "evaluations": out["evaluations"]})
                        print(rows[-1], flush=True)
    return pd.DataFrame(rows)


def table(df: pd.DataFrame) -> str:
    """Per genome x operators x method: mean gap closed, and the paired difference from best_of_n."""
    lines = ["| profile | genome | operators | method | targets x seeds | gap closed | − best_of_n [95 % CI] |",
             "|---|---|---|---|---|---|---|"]
    single = df[df["target"] != "two_target"]
    for (profile, genome), g in single.groupby(["profile", "genome"], sort=False):
        base = g[g["method"] == "best_of_n"].set_index(["target", "seed"])["gap_closed"]
        for (ops, method), h in g.groupby(["operators", "method"], sort=False):
            v = h.set_index(["target", "seed"])["gap_closed"]
            if method == "best_of_n":
                diff = "—"
            else:
                shared = v.index.intersection(base.index)
                mean, lo, hi = paired(v.loc[shared].to_numpy(), base.loc[shared].to_numpy())
                diff = f"{mean:+.3f} [{lo:+.3f}, {hi:+.3f}]"
            ops_label = ops if method not in ("best_of_n", "no_selection") else "—"
            lines.append(f"| {profile} | {genome} | {ops_label} | {method} | {len(v)} | {v.mean():.3f} | {diff} |")
    two = df[df["target"] == "two_target"]
    if len(two):
        lines += ["", "| profile | genome | operators | method | seeds | HV fraction of the known front |",
                  "|---|---|---|---|---|---|"]
        for (profile, genome, ops, method), h in two.groupby(["profile", "genome", "operators", "method"], sort=False):
            lines.append(f"| {profile} | {genome} | {ops if method != 'best_of_n' else '—'} | {method} | {len(h)} | "
                         f"{h['hv_fraction'].mean():.3f} |")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="tiny")
    parser.add_argument("--population", type=int, default=32)
    parser.add_argument("--generations", type=int, default=20)
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--genomes", default="softmax,sparse,embedding")
    parser.add_argument("--active-classes", type=int, default=1)
    parser.add_argument("--spaces", default="", help="StyleGAN2 spaces to run too (z,w,wplus), tiny/given network")
    parser.add_argument("--operators", default="pymoo,glass,moderate")
    parser.add_argument("--targets", default="one_class,mixture,photo")
    parser.add_argument("--methods", default="four_objective,clip_single,best_of_n")
    parser.add_argument("--two-target", action="store_true")
    parser.add_argument("--set", action="append", default=[], help="more RunConfig overrides, key=value")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/search_power"))
    args = parser.parse_args(argv)
    for key in ("genomes", "spaces", "operators", "targets", "methods"):
        setattr(args, key, getattr(args, key).split(","))
    args.seeds = [int(s) for s in args.seeds.split(",")]
    t0 = time.perf_counter()
    df = run(args)
    args.out.mkdir(parents=True, exist_ok=True)
    df.to_csv(args.out / "results.csv", index=False)
    text = table(df)
    command = "python benchmarks/search_power.py " + " ".join(sys.argv[1:] if argv is None else argv)
    (args.out / "table.md").write_text(f"`{command}` ({time.perf_counter() - t0:.0f} s)\n\n{text}\n")
    print(text)


if __name__ == "__main__":
    main()
