"""Paired method comparison: per (caption, seed) differences, bootstrap interval, Wilcoxon p-value."""
from __future__ import annotations

import numpy as np
import pandas as pd

from harness.metrics.stats import bootstrap_interval, value_entry, wilcoxon_floor, wilcoxon_p

CORRECTION = "Benjamini-Hochberg (scipy.stats.false_discovery_control) over every paired test of the run"


def paired_difference(a: pd.Series, b: pd.Series, n_resamples: int, confidence: float,
                      higher_is_better: bool = True) -> dict:
    """a, b: per-job values indexed by (caption_id, seed). Difference a - b on the shared index."""
    shared = a.index.intersection(b.index)
    d = (a.loc[shared] - b.loc[shared]).to_numpy(dtype=np.float64)
    p, note = wilcoxon_p(d)
    if len(d) and np.all(d == 0):
        interval = [0.0, 0.0]
    else:
        interval = bootstrap_interval(d, np.mean, n_resamples, confidence)
    seeds = sorted({s for _, s in shared}) if len(shared) else []
    entry = value_entry(d.mean() if len(d) else None, len(d), interval, higher_is_better, p_value=p,
                        p_floor=wilcoxon_floor(len(d)), seeds=len(seeds), captions=len({c for c, _ in shared}))
    if note:
        entry["note"] = note
    entry["unmatched"] = sorted(map(list, set(a.index) ^ set(b.index)))
    return entry


def compare_methods(per_job: pd.DataFrame, metrics: list[str], method_a: str, method_b: str,
                    n_resamples: int, confidence: float, directions: dict[str, bool]) -> dict:
    """per_job: one row per job with columns method, caption_id, seed and the metric columns."""
    out = {}
    ia = per_job[per_job["method"] == method_a].set_index(["caption_id", "seed"])
    ib = per_job[per_job["method"] == method_b].set_index(["caption_id", "seed"])
    for m in metrics:
        if m not in per_job or ia[m].isna().all() or ib[m].isna().all():
            continue
        out[m] = paired_difference(ia[m].dropna(), ib[m].dropna(), n_resamples, confidence, directions.get(m, True))
    return out


def control_under(ctx, a: str, b: str) -> tuple[pd.DataFrame, dict]:
    """The job table for comparing a with b: when one of them is a random-search control (best_of_n) and
    the other an evolutionary method that picks by another policy, the control's image is the one the
    other method's policy picks, so the comparison measures the search, not the pick policy."""
    methods = ctx.manifest.get("methods", {})
    if ctx.pick is None:
        for control, other in ((a, b), (b, a)):
            policy = methods.get(other, {}).get("pick")
            if (methods.get(control, {}).get("algorithm") == "random" and policy != methods[control].get("pick")
                    and methods.get(other, {}).get("algorithm") in ("nsga2", "ga")):
                rows = ctx.rows_under(policy)
                if rows is not None:
                    rows = rows[rows["method"] == control].copy()
                    if "clipscore" in ctx.jobs:
                        rows["clipscore"] = ctx.clipscores(rows)
                    for name in ctx.judges:
                        rows[name] = ctx.judge_scores(name, rows)
                    jobs = pd.concat([ctx.jobs[ctx.jobs["method"] != control], rows], ignore_index=True)
                    return jobs, {"control": control, "control_pick": policy}
    return ctx.jobs, {}


def section(ctx) -> list[dict]:
    """Every pair of methods, the later one in the suite's order first (a - b: positive = a is higher)."""
    from itertools import combinations

    from harness.critics import SCORE_NAMES

    methods = list(dict.fromkeys(ctx.jobs["method"]))
    names = [*SCORE_NAMES, "clipscore", *ctx.judges]
    out = []
    for b, a in combinations(methods, 2):
        jobs, note = control_under(ctx, a, b)
        out.append({"a": a, "b": b, **note, "metrics": compare_methods(jobs, names, a, b, ctx.cfg.bootstrap,
                                                                       ctx.cfg.confidence, ctx.directions)})
    adjust_for_multiple_tests([e for comp in out for e in comp["metrics"].values()])
    return out


def adjust_for_multiple_tests(entries: list[dict]) -> None:
    """Add `p_adjusted` (Benjamini-Hochberg over the entries with a p-value) and name the correction."""
    from scipy import stats

    tested = [e for e in entries if e.get("p_value") is not None and np.isfinite(e["p_value"])]
    if not tested:
        return
    adjusted = stats.false_discovery_control([e["p_value"] for e in tested], method="bh")
    for e, p in zip(tested, adjusted):
        e["p_adjusted"] = float(p)
        e["correction"] = f"{CORRECTION} ({len(tested)} tests)"
