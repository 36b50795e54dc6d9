"""Paired method comparison over captions: per (caption, seed) differences of two methods on the same
initial latents, their mean of caption means with a two-stage cluster-bootstrap interval, and a
Wilcoxon signed-rank p over the per-caption mean differences (harness.metrics.evidence)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from harness.metrics import evidence

CORRECTION = "Benjamini-Hochberg (scipy.stats.false_discovery_control) over every paired test of the run"


def paired_difference(a: pd.DataFrame, b: pd.DataFrame, column: str, n_resamples: int, confidence: float,
                      higher_is_better: bool = True) -> dict:
    """a, b: job tables (caption_id, seed, `column`) of the two sides. Difference a - b on the (caption, seed)
    cells both have, over captions; `unmatched` lists the cells only one side has."""
    design = evidence.Design(list(a["caption_id"]) + list(b["caption_id"]), list(a["seed"]) + list(b["seed"]))
    ma, mb = design.matrix(a, column), design.matrix(b, column)
    entry = evidence.paired_entry(ma, mb, design, n_resamples, confidence, higher_is_better)
    only = np.isfinite(ma) ^ np.isfinite(mb)
    entry["unmatched"] = [[design.captions[c], design.seeds[s]] for c, s in zip(*np.nonzero(only))]
    return entry


def compare_methods(per_job: pd.DataFrame, metrics: list[str], method_a: str, method_b: str,
                    n_resamples: int, confidence: float, directions: dict[str, bool]) -> dict:
    """per_job: one row per job with columns method, caption_id, seed and the metric columns."""
    out = {}
    ia, ib = per_job[per_job["method"] == method_a], per_job[per_job["method"] == method_b]
    for m in metrics:
        if m not in per_job or ia[m].isna().all() or ib[m].isna().all():
            continue
        out[m] = paired_difference(ia, ib, m, n_resamples, confidence, directions.get(m, True))
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

    methods = list(dict.fromkeys(ctx.jobs["method"]))
    names = [*ctx.critic_names, *ctx.judge_columns()]
    out = []
    for b, a in combinations(methods, 2):
        jobs, note = control_under(ctx, a, b)
        out.append({"a": a, "b": b, **note, "metrics": compare_methods(jobs, names, a, b, ctx.cfg.bootstrap,
                                                                       ctx.cfg.confidence, ctx.directions)})
    adjust_for_multiple_tests([e for comp in out for e in comp["metrics"].values()])
    return out


def adjust_for_multiple_tests(entries: list[dict], correction: str = CORRECTION) -> None:
    """Add `p_adjusted` (Benjamini-Hochberg over the entries with a p-value) and name the correction."""
    from scipy import stats

    tested = [e for e in entries if e.get("p_value") is not None and np.isfinite(e["p_value"])]
    if not tested:
        return
    adjusted = stats.false_discovery_control([e["p_value"] for e in tested], method="bh")
    for e, p in zip(tested, adjusted):
        e["p_adjusted"] = float(p)
        e["correction"] = f"{correction} ({len(tested)} tests)"
