"""Convergence curves from the archive: first-front hypervolume per generation (four_objective) and the
best text_image per generation (every method), per job and averaged per method."""
from __future__ import annotations

import numpy as np
import pandas as pd

from harness.critics import CRITICS, SCORE_NAMES
from harness.metrics.hypervolume import REFERENCE, hypervolume

RANGES = [CRITICS[n].score_range for n in SCORE_NAMES]
BAND = "interquartile range over jobs (25th to 75th percentile)"


def hypervolume_curve(job: pd.DataFrame) -> list[float]:
    """HV of each generation's population on the four scores (= HV of its first front in those scores,
    whatever objectives the method optimized), so methods are comparable."""
    return [hypervolume(gen[list(SCORE_NAMES)].to_numpy(), RANGES) for _, gen in job.groupby("generation", sort=True)]


def best_curve(job: pd.DataFrame, score: str = "text_image") -> list[float]:
    return job.groupby("generation", sort=True)[score].max().tolist()


def convergence(archive: pd.DataFrame) -> dict:
    """{method: {'best_text_image': {'mean': [...], 'n': N}, 'hypervolume': {...}}} (HV where populations > 1)."""
    out = {}
    for method, frame in archive.groupby("method", sort=False):
        jobs = [g for _, g in frame.groupby(["caption_id", "seed"], sort=True)]
        entry = {}
        curves = [best_curve(j) for j in jobs]
        entry["best_text_image"] = _mean_curve(curves)
        if frame.groupby(["caption_id", "seed", "generation"]).size().max() > 1:
            entry["hypervolume"] = _mean_curve([hypervolume_curve(j) for j in jobs])
            entry["hypervolume"]["reference_point"] = REFERENCE
            entry["hypervolume"]["normalization"] = {n: list(r) for n, r in zip(SCORE_NAMES, RANGES)}
        out[str(method)] = entry
    return out


def _mean_curve(curves: list[list[float]]) -> dict:
    length = min(len(c) for c in curves)
    arr = np.array([c[:length] for c in curves])
    lo, hi = np.percentile(arr, [25, 75], axis=0)
    return {"mean": arr.mean(0).tolist(), "lo": lo.tolist(), "hi": hi.tolist(), "n": len(curves),
            "band": BAND, "higher_is_better": True}


def section(ctx) -> dict:
    return convergence(ctx.archive)
