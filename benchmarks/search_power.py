"""Search power on known-answer problems (harness.search.known_answer): which genome and operator
settings let a method find a hidden target, against best_of_n at the same budget, measured fairly.

    python benchmarks/search_power.py --profile tiny --tune-seeds 0,1,2,3,4 --seeds 100,101,102,103,104 \
        --two-target --out /tmp/search_power_tiny
    python benchmarks/search_power.py --profile tiny --genomes "" --spaces z,w,wplus --operators pymoo,moderate

Fair by construction of the table, not of the problem:
* beside the optimised measure (the normalised gap closed, mean over the objectives the methods
  optimise in the critics' roles) two held-out measures no method optimises: full-resolution pixel
  similarity to the target and a held-out CLIP's cosine (the profile's CLIPScore judge);
* best_of_n is picked under each compared method's own policy (its stored picks), never under one
  policy for all;
* the gap is normalised by a stable denominator: (picked - mean of the random initial population) /
  (1 - that mean), reported with its spread (sd over problems);
* operator settings are chosen on tuning seeds (--tune-seeds) by four_objective's held-out pixel
  measure, and the table is reported on fresh seeds (--seeds) the choice never saw.

Per (genome, operators, target, method, seed) one search. Writes results.csv and table.md under --out.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import harness.tiny  # noqa: F401,E402  (the tiny profile's builders)

OPERATORS = {  # name -> MethodConfig fields (pymoo 0.6 meanings; harness.search.operators)
    "pymoo": dict(crossover_prob=0.9, crossover_eta=15.0, mutation_prob_var=None, mutation_eta=20.0),
    "glass": dict(crossover_prob=1.0, crossover_eta=3.0, mutation_prob_var=0.5, mutation_eta=3.0),  # CLIP-GLaSS
    "moderate": dict(crossover_prob=0.9, crossover_eta=15.0, mutation_prob_var=0.1, mutation_eta=10.0),
}


def noise_step(name: str) -> dict:
    """`noise-S`: the diffusion noise genome's mutation (and zero-order neighbour) step s = S."""
    return dict(noise_mutation_sigma=float(name.removeprefix("noise-")))
MEASURES = ("optimised", "pixels", "judge")
CONTROLS = ("best_of_n", "no_selection")


def paired(a: np.ndarray, b: np.ndarray, n_boot: int = 2000) -> tuple[float, float, float]:
    """Mean paired difference over problems (independent targets and seeds) and its percentile interval."""
    from harness.metrics.stats import bootstrap_interval

    d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    lo, hi = bootstrap_interval(d, np.mean, n_boot, 0.95) or (np.nan, np.nan)
    return float(d.mean()), float(lo), float(hi)


def gaps(initial: dict, picked: dict, objectives) -> dict[str, float]:
    """The normalised gap closed on the optimised measure (mean over the objectives) and each held-out one."""
    from harness.search.known_answer import normalised_gap

    every = {o: float(normalised_gap(initial[o], picked[o])) for o in initial if o not in ("pixels", "judge")}
    out = {"optimised": float(np.mean([every[o] for o in objectives])), "objectives": ",".join(objectives),
           **{f"gap:{o}": v for o, v in every.items()}}
    for name in ("pixels", "judge"):
        if name in initial:
            out[name] = float(normalised_gap(initial[name], picked[name]))
    return out


def run(args, seeds: list[int], split: str) -> pd.DataFrame:
    from harness.config.run import build_run_config
    from harness.config.schema import SearchConfig
    from harness.models import load_judge
    from harness.search import load_method
    from harness.search.known_answer import (OBJECTIVES, KnownAnswerScorer, TwoTargetScorer, hypervolume_fraction,
                                             initial_scores, run_problem, target_image)
    from harness.search.system import build_system

    search = SearchConfig(population=args.population, offspring=args.population, generations=args.generations,
                          nfe=args.nfe)
    rows = []
    variants = {g: [f"generator.class_genome={g}", f"generator.active_classes={args.active_classes}"]
                for g in args.genomes if g}
    variants.update({f"stylegan2:{sp}": ["models.generator=stylegan2_ada", f"generator.space={sp}"]
                     for sp in args.spaces if sp})
    multistep = ["generator.steps=8", "generator.scheduler=ddim", "generator.eta=1.0", "generator.guidance=3.0"]
    variants.update({f"diffusion:{g}": ["models.generator=diffusion", *(multistep if g == "multistep" else [])]
                     for g in args.diffusion if g})
    for genome, variant in variants.items():
        cfg = build_run_config(sets=[*variant, *args.set], models__profile=args.profile)
        system = build_system(cfg)
        judge = load_judge(cfg.models, cfg.metrics)[0]
        gen = system.generator
        methods = [load_method(m) for m in args.methods]
        for target in args.targets:
            for seed in seeds:
                scorer = KnownAnswerScorer(system.models, target_image(gen, target, seed), judge=judge)
                initial = initial_scores(gen, scorer, search, seed)
                noise = genome.startswith("diffusion")
                for op_name in (args.noise_steps if noise else args.operators):
                    steps = {op_name: noise_step(op_name)} if noise else OPERATORS
                    for method in methods:
                        evolutionary = method.algorithm in ("nsga2", "ga") or (noise and method.algorithm.startswith("zero_order"))
                        if evolutionary:
                            method = dataclasses.replace(method, **steps[op_name])
                        elif op_name != (args.noise_steps if noise else args.operators)[0]:
                            continue  # controls do not vary: run once
                        t0 = time.perf_counter()
                        out = run_problem(method, search, gen, scorer, seed)
                        for policy, picked in out["by_policy"].items():
                            if policy != method.pick and method.name not in CONTROLS:
                                continue  # a method is measured under its own pick; a control under every policy
                            rows.append({"split": split, "profile": args.profile, "genome": genome,
                                         "operators": op_name if evolutionary else "—", "target": target,
                                         "method": method.name, "pick": policy, "seed": seed,
                                         **gaps(initial, picked, [o for o in OBJECTIVES if o in method.objectives]
                                                or list(OBJECTIVES)),
                                         "evaluations": out["evaluations"], "nfe": out["nfe"],
                                         "seconds": time.perf_counter() - t0})
                        print({k: v for k, v in rows[-1].items() if k != "profile"}, flush=True)
        if args.two_target:
            for seed in seeds:
                scorer = TwoTargetScorer((target_image(gen, "one_class", seed), target_image(gen, "mixture", seed)))
                ref = np.stack([v for v in initial_scores(gen, scorer, search, seed).values()], axis=1).min(axis=0)
                for op_name in args.operators:
                    for m in ("two_objective", "best_of_n"):
                        method = dataclasses.replace(load_method(m), objectives=list(scorer.names))
                        if method.algorithm in ("nsga2", "ga"):
                            method = dataclasses.replace(method, **OPERATORS[op_name])
                        elif op_name != args.operators[0]:
                            continue
                        out = run_problem(method, search, gen, scorer, seed)
                        rows.append({"split": split, "profile": args.profile, "genome": genome,
                                     "operators": op_name if m != "best_of_n" else "—", "target": "two_target",
                                     "method": m, "pick": method.pick, "seed": seed,
                                     "hv_fraction": hypervolume_fraction(out["final"], scorer.front(), ref),
                                     "evaluations": out["evaluations"]})
                        print(rows[-1], flush=True)
    return pd.DataFrame(rows)


def own_pick(df: pd.DataFrame) -> dict[str, str]:
    """Each searching method's own pick policy, as its rows record it."""
    return {m: g["pick"].iloc[0] for m, g in df[~df["method"].isin(CONTROLS)].groupby("method")}


def table(df: pd.DataFrame) -> str:
    """Per genome x operators x method, on one split: each measure's mean ± sd over problems, and the paired
    difference from best_of_n picked under the method's own policy, on every measure."""
    single = df[df["target"] != "two_target"]
    lines = ["| genome | operators | method (pick) | problems | optimised: gap closed | held-out: pixels | "
             "held-out: judge | − best_of_n, same pick: optimised | pixels | judge |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    picks = own_pick(single)
    for genome, g in single.groupby("genome", sort=False):
        for (ops, method, pick), h in g.groupby(["operators", "method", "pick"], sort=False):
            if method in CONTROLS and pick not in picks.values():
                continue
            v = h.set_index(["target", "seed"])
            cells = [f"{v[m].mean():.3f} ± {v[m].std(ddof=1):.3f}" if m in v and v[m].notna().any() else "—"
                     for m in MEASURES]
            diffs = []
            for m in MEASURES:
                base = g[(g["method"] == "best_of_n") & (g["pick"] == pick)].set_index(["target", "seed"])
                if method in CONTROLS or m not in v or base.empty:
                    diffs.append("—")
                    continue
                shared = v.index.intersection(base.index)
                theirs = base.loc[shared, m]
                if m == "optimised":  # best_of_n's gap on the objectives this method optimises
                    objectives = str(h["objectives"].iloc[0]).split(",") if "objectives" in h else []
                    columns = [f"gap:{o}" for o in objectives]
                    if not columns or not all(c in base for c in columns):
                        diffs.append("—")  # an older results.csv: the two gaps would average other objectives
                        continue
                    theirs = base.loc[shared, columns].mean(axis=1)
                mean, lo, hi = paired(v.loc[shared, m].to_numpy(), theirs.to_numpy())
                diffs.append(f"{mean:+.3f} [{lo:+.3f}, {hi:+.3f}]")
            lines.append(f"| {genome} | {ops} | {method} ({pick}) | {len(v)} | {' | '.join(cells)} | "
                         f"{' | '.join(diffs)} |")
    two = df[df["target"] == "two_target"]
    if len(two):
        lines += ["", "| genome | operators | method | seeds | HV fraction of the known front |", "|---|---|---|---|---|"]
        for (genome, ops, method), h in two.groupby(["genome", "operators", "method"], sort=False):
            lines.append(f"| {genome} | {ops} | {method} | {len(h)} | {h['hv_fraction'].mean():.3f} |")
    return "\n".join(lines)


def choose(tuning: pd.DataFrame, incumbent: tuple[str, str]) -> str:
    """Which (genome, operators) the tuning seeds support, as a sentence: the setting with the best
    four_objective held-out pixel gap replaces the incumbent default only when its paired difference from
    the incumbent over the tuning problems has an interval above 0 (otherwise the tuning seeds cannot tell
    them apart, and the default stays)."""
    rows = tuning[(tuning["method"] == "four_objective") & (tuning["target"] != "two_target")]
    means = rows.groupby(["genome", "operators"])["pixels"].mean()
    best = means.idxmax()
    if tuple(incumbent) not in means.index:
        return f"best on the tuning seeds: genome `{best[0]}`, operators `{best[1]}` ({means.max():.3f})"
    if best == tuple(incumbent):
        return (f"the default (genome `{best[0]}`, operators `{best[1]}`) is the best setting on the tuning seeds "
                f"({means.max():.3f}): kept")
    pick = lambda g, o: rows[(rows["genome"] == g) & (rows["operators"] == o)].set_index(["target", "seed"])["pixels"]  # noqa: E731
    a, b = pick(*best), pick(*incumbent)
    shared = a.index.intersection(b.index)
    mean, lo, hi = paired(a.loc[shared].to_numpy(), b.loc[shared].to_numpy())
    verdict = "replaces the default" if lo > 0 else "does not separate from the default, which is kept"
    return (f"best on the tuning seeds: genome `{best[0]}`, operators `{best[1]}` ({means.max():.3f}); against the "
            f"default `{incumbent[0]}` + `{incumbent[1]}` ({means[tuple(incumbent)]:.3f}) its paired difference on "
            f"the held-out pixel gap is {mean:+.3f} [{lo:+.3f}, {hi:+.3f}] over {len(shared)} problems: it {verdict}")


def versus(df: pd.DataFrame, other: pd.DataFrame, pairs: list[tuple[str, str]]) -> str:
    """Paired differences over shared problems (target, seed) between rows of two results.csv files (the same
    code at two commits, or two variants of a method): `pairs` is (method here, method there)."""
    lines = ["| this | − that | problems | optimised | pixels | judge |", "|---|---|---|---|---|---|"]
    for mine, theirs in pairs:
        a = df[(df["method"] == mine) & (df["target"] != "two_target")]
        b = other[(other["method"] == theirs) & (other["target"] != "two_target")]
        a = a[a["pick"] == a["pick"].iloc[0]].set_index(["target", "seed"])
        b = b[b["pick"] == a["pick"].iloc[0]].set_index(["target", "seed"])
        shared = a.index.intersection(b.index)
        gap = [f"gap:{o}" for o in str(a["objectives"].iloc[0]).split(",")]  # both on this method's objectives
        value = lambda v, m: (v.loc[shared, gap].mean(axis=1) if m == "optimised" else v.loc[shared, m]).to_numpy()  # noqa: E731
        cells = ["{:+.3f} [{:+.3f}, {:+.3f}]".format(*paired(value(a, m), value(b, m))) for m in MEASURES]
        lines.append(f"| {mine} | {theirs} | {len(shared)} | {' | '.join(cells)} |")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="tiny")
    parser.add_argument("--population", type=int, default=32)
    parser.add_argument("--generations", type=int, default=20)
    parser.add_argument("--tune-seeds", default="", help="seeds the operator choice is made on (empty: no tuning)")
    parser.add_argument("--seeds", default="100,101,102,103,104", help="fresh seeds the table reports")
    parser.add_argument("--genomes", default="softmax,sparse,embedding")
    parser.add_argument("--active-classes", type=int, default=1)
    parser.add_argument("--spaces", default="", help="StyleGAN2 spaces to run too (z,w,wplus), tiny/given network")
    parser.add_argument("--diffusion", default="", help="'noise' to run the diffusion generator's noise genome (one "
                                                        "step), 'multistep' its 8-step DDIM sampler (eta 1, guidance 3)")
    parser.add_argument("--nfe", type=int, default=None, help="every method's budget in function evaluations "
                                                               "(default: the generations' images x steps)")
    parser.add_argument("--operators", default="pymoo,glass,moderate")
    parser.add_argument("--noise-steps", default="noise-0.1,noise-0.3,noise-0.5",
                        help="the diffusion noise genome's mutation (and zero-order neighbour) steps s")
    parser.add_argument("--targets", default="one_class,mixture,photo")
    parser.add_argument("--methods", default="four_objective,clip_single,best_of_n")
    parser.add_argument("--two-target", action="store_true")
    parser.add_argument("--set", action="append", default=[], help="more RunConfig overrides, key=value")
    parser.add_argument("--incumbent", default="sparse,moderate", help="the current default genome,operators")
    parser.add_argument("--from-csv", type=Path, default=None, help="re-render table.md from an earlier results.csv")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/search_power"))
    parser.add_argument("--versus", nargs=2, metavar=("OTHER_CSV", "PAIRS"), default=None,
                        help="with --from-csv: paired differences against another results.csv, PAIRS as "
                             "'method_here:method_there,...' (e.g. zero_order:zero_order_greedy)")
    args = parser.parse_args(argv)
    for key in ("genomes", "spaces", "operators", "targets", "methods", "diffusion", "noise_steps"):
        setattr(args, key, [x for x in getattr(args, key).split(",") if x] if getattr(args, key) else [])
    fresh = [int(s) for s in args.seeds.split(",") if s]
    tune = [int(s) for s in args.tune_seeds.split(",") if s]
    t0 = time.perf_counter()
    if args.from_csv and args.versus:
        pairs = [tuple(p.split(":")) for p in args.versus[1].split(",")]
        print(versus(pd.read_csv(args.from_csv), pd.read_csv(args.versus[0]), pairs))
        return
    if args.from_csv:
        df = pd.read_csv(args.from_csv)
        tune = sorted(df.loc[df["split"] == "tuning", "seed"].unique().tolist())
        fresh = sorted(df.loc[df["split"] == "fresh", "seed"].unique().tolist())
    else:
        frames = [run(args, tune, "tuning")] if tune else []
        frames.append(run(args, fresh, "fresh"))
        df = pd.concat(frames, ignore_index=True)
    args.out.mkdir(parents=True, exist_ok=True)
    df.to_csv(args.out / "results.csv", index=False)
    command = "python benchmarks/search_power.py " + " ".join(sys.argv[1:] if argv is None else argv)
    parts = [f"`{command}` ({time.perf_counter() - t0:.0f} s)", ""]
    if tune:
        parts += [f"Operator choice on the tuning seeds {tune}: {choose(df[df['split'] == 'tuning'], tuple(args.incumbent.split(',')))}.",
                  "", "Tuning seeds:", "", table(df[df["split"] == "tuning"]), ""]
    parts += [f"Fresh seeds {fresh} (reported):", "", table(df[df["split"] == "fresh"])]
    (args.out / "table.md").write_text("\n".join(parts) + "\n")
    print("\n".join(parts))


if __name__ == "__main__":
    main()
