"""Convergence curves from the archive: first-front hypervolume per generation on the run's critic scores and
the best text_image per generation (every method), per job and averaged per method."""
from __future__ import annotations

import numpy as np
import pandas as pd

from harness.metrics.hypervolume import REFERENCE, hypervolume

BAND = "interquartile range over jobs (25th to 75th percentile)"


def critic_ranges(manifest: dict, names: list[str]) -> dict[str, tuple[float, float]]:
    """Each critic's score range: as the manifest records it, else (a run written before critics were recorded)
    the built-in critic's own."""
    from harness.critics import BUILTIN

    recorded = {c["name"]: tuple(c["score_range"]) for c in manifest.get("critics", []) if "score_range" in c}
    builtin = {spec.name: spec for spec in BUILTIN}
    out = {}
    for name in names:
        if name in recorded:
            out[name] = recorded[name]
        elif name in builtin:
            out[name] = tuple(builtin[name].load().score_range)
        else:
            out[name] = (-1.0, 1.0)
    return out


def hypervolume_curve(job: pd.DataFrame, names: list[str], ranges: list) -> list[float]:
    """HV of each generation's population on the run's critic scores (= HV of its first front in those scores,
    whatever objectives the method optimized), so methods are comparable."""
    return [hypervolume(gen[names].to_numpy(), ranges) for _, gen in job.groupby("generation", sort=True)]


def best_curve(job: pd.DataFrame, score: str = "text_image") -> list[float]:
    return job.groupby("generation", sort=True)[score].max().tolist()


def convergence(jobs, ranges: dict[str, tuple[float, float]]) -> dict:
    """{method: {'best_text_image': {'mean': [...], 'n': N}, 'hypervolume': {...}}} (HV where populations > 1)
    from `jobs`, ((method, caption_id, seed), rows of every generation) one job at a time (or an archive frame);
    ranges: each critic's score range (normalises the hypervolume). Jobs of a method in (caption, seed) order."""
    if isinstance(jobs, pd.DataFrame):
        jobs = ((key, job) for key, job in jobs.groupby(["method", "caption_id", "seed"], sort=False))
    names, bounds = list(ranges), list(ranges.values())
    best, hv, populated = {}, {}, {}
    for (method, cid, seed), job in jobs:
        method = str(method)
        best.setdefault(method, {})[(cid, seed)] = best_curve(job)
        populated[method] = populated.get(method, False) or bool(job.groupby("generation").size().max() > 1)
        hv.setdefault(method, {})[(cid, seed)] = hypervolume_curve(job, names, bounds)
    out = {}
    for method, curves in best.items():
        entry = {"best_text_image": _mean_curve([curves[k] for k in sorted(curves)])}
        if populated[method]:
            entry["hypervolume"] = _mean_curve([hv[method][k] for k in sorted(hv[method])])
            entry["hypervolume"]["reference_point"] = REFERENCE
            entry["hypervolume"]["normalization"] = {n: list(r) for n, r in ranges.items()}
        out[method] = entry
    return out


def _mean_curve(curves: list[list[float]]) -> dict:
    length = min(len(c) for c in curves)
    arr = np.array([c[:length] for c in curves])
    lo, hi = np.percentile(arr, [25, 75], axis=0)
    return {"mean": arr.mean(0).tolist(), "lo": lo.tolist(), "hi": hi.tolist(), "n": len(curves),
            "band": BAND, "higher_is_better": True}


def section(ctx) -> dict:
    return convergence(ctx.rundir.archive_jobs(), critic_ranges(ctx.manifest, ctx.critic_names))
