"""Spearman and Kendall correlations between every pair of the run's critic scores in a final population.

Per job: scipy's spearmanr / kendalltau with a percentile-bootstrap interval over individuals (unit:
individual). Aggregated per method: the mean matrix over jobs (mean of caption means) with an interval
that resamples captions, then seeds (harness.metrics.evidence). A pair in which one score is constant
in the population has no correlation (null, noted).
"""
from __future__ import annotations

from itertools import combinations

import numpy as np
from scipy import stats

import pandas as pd

from harness.metrics.evidence import column_entry
from harness.metrics.stats import bootstrap_interval, value_entry


def pairs(names) -> list[str]:
    """'a~b' for every pair of critic names, in order."""
    return [f"{a}~{b}" for a, b in combinations(names, 2)]


def spearman(x, y, axis=-1):
    """Spearman's rho along `axis` (any leading shape): Pearson's r of average ranks, as scipy.stats.spearmanr."""
    rx = stats.rankdata(x, axis=axis)
    ry = stats.rankdata(y, axis=axis)
    rx = rx - rx.mean(axis=axis, keepdims=True)
    ry = ry - ry.mean(axis=axis, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (rx * ry).sum(axis) / np.sqrt((rx * rx).sum(axis) * (ry * ry).sum(axis))


def kendall(x, y, axis=-1):
    """Kendall's tau-b along `axis` (any leading shape), as scipy.stats.kendalltau: pairwise signs."""
    x, y = np.moveaxis(np.asarray(x, dtype=np.float64), axis, -1), np.moveaxis(np.asarray(y, dtype=np.float64), axis, -1)
    n = x.shape[-1]
    dx = np.sign(x[..., :, None] - x[..., None, :])
    dy = np.sign(y[..., :, None] - y[..., None, :])
    pairs = n * (n - 1) / 2
    concordance = (dx * dy).sum((-1, -2)) / 2
    tied_x = ((dx == 0).sum((-1, -2)) - n) / 2
    tied_y = ((dy == 0).sum((-1, -2)) - n) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        return concordance / np.sqrt((pairs - tied_x) * (pairs - tied_y))


spearman.vectorized = kendall.vectorized = True
METHODS = {"spearman": spearman, "kendall": kendall}


def _counts(index, n_obs: int) -> np.ndarray:
    """[B, n] index rows -> [B, n_obs] how often each observation is in each resample."""
    index = np.asarray(index, dtype=np.int64).reshape(-1, index.shape[-1])
    rows = np.arange(len(index))[:, None] * n_obs
    return np.bincount((rows + index).ravel(), minlength=len(index) * n_obs).reshape(len(index), n_obs).astype(float)


def spearman_of_resamples(x, y):
    """Spearman's rho of resamples given as index rows [B, n] into (x, y), from each resample's counts C:
    an observation's average rank is C . [x_q < x_p] + (C . [x_q = x_p] + 1) / 2, and rho the Pearson
    correlation of the ranks weighted by C (the same value as ranking each resample)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    below_x, equal_x = (x[None, :] < x[:, None]).astype(float), (x[None, :] == x[:, None]).astype(float)
    below_y, equal_y = (y[None, :] < y[:, None]).astype(float), (y[None, :] == y[:, None]).astype(float)

    def statistic(index, axis=-1):
        counts = _counts(index, len(x))
        n = counts.sum(axis=1, keepdims=True)
        rx = counts @ below_x.T + (counts @ equal_x.T + 1) / 2
        ry = counts @ below_y.T + (counts @ equal_y.T + 1) / 2
        dx = rx - (counts * rx).sum(1, keepdims=True) / n
        dy = ry - (counts * ry).sum(1, keepdims=True) / n
        with np.errstate(invalid="ignore", divide="ignore"):
            return (counts * dx * dy).sum(1) / np.sqrt((counts * dx * dx).sum(1) * (counts * dy * dy).sum(1))
    statistic.vectorized = True
    return statistic


def kendall_of_resamples(x, y):
    """Kendall's tau-b of resamples given as index rows [B, n] into (x, y): with C the resample's count of
    each observation, the concordance is C^T (Sx * Sy) C / 2 and the tied pairs (C^T T C - n) / 2, for
    the pairwise sign (S) and tie (T) matrices of the original sample: O(n^2) once, then a matrix
    product per resample, the same value as re-sorting each resample."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    sx, sy = np.sign(x[:, None] - x[None, :]), np.sign(y[:, None] - y[None, :])
    concord, ties_x, ties_y = sx * sy, (sx == 0).astype(np.float64), (sy == 0).astype(np.float64)

    def statistic(index, axis=-1):
        n = index.shape[-1]
        counts = _counts(index, len(x))
        pairs = n * (n - 1) / 2
        quad = lambda m: ((counts @ m) * counts).sum(axis=1)  # noqa: E731
        with np.errstate(invalid="ignore", divide="ignore"):
            return (quad(concord) / 2) / np.sqrt((pairs - (quad(ties_x) - n) / 2) * (pairs - (quad(ties_y) - n) / 2))
    statistic.vectorized = True
    return statistic


def correlation_interval(kind: str, x, y, n_resamples: int, confidence: float, seed: int = 0):
    """The bootstrap interval of a correlation over individuals: resampling (x, y) in pairs is resampling
    the indices 0..n-1 (scipy draws the same resamples either way), evaluated from resample counts."""
    of_resamples = kendall_of_resamples if kind == "kendall" else spearman_of_resamples
    return bootstrap_interval((np.arange(len(x)),), of_resamples(x, y), n_resamples, confidence, seed)


def job_correlations(population, n_resamples: int, confidence: float, seed: int = 0, names=None) -> dict:
    """population: DataFrame of one job's final population -> {kind: {pair: entry}} over the critics `names`
    (default: every score column of the four built-in critics present)."""
    from harness.critics import SCORE_NAMES

    names = [n for n in (names or SCORE_NAMES) if n in population]
    out = {}
    for kind, fn in METHODS.items():
        entries = {}
        for a, b in combinations(names, 2):
            x, y = population[a].to_numpy(), population[b].to_numpy()
            n = len(x)
            if n < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
                entries[f"{a}~{b}"] = value_entry(None, n, None, None, note="constant score or fewer than 3")
                continue
            interval = correlation_interval(kind, x, y, n_resamples, confidence, seed)
            entries[f"{a}~{b}"] = value_entry(fn(x, y), n, interval, None, unit="individual", captions=1, seeds=1)
        out[kind] = entries
    return out


def aggregate(per_job: list[dict], cfg) -> dict:
    """Mean over jobs (mean of caption means) of each pair's correlation, with an interval over captions."""
    out = {}
    for kind in METHODS:
        out[kind] = {}
        names = list(per_job[0][kind]) if per_job else []
        for pair in names:
            table = pd.DataFrame([{"caption_id": j["caption_id"], "seed": j["seed"],
                                   "r": np.nan if j[kind][pair]["value"] is None else j[kind][pair]["value"]}
                                  for j in per_job])
            if not np.isfinite(table["r"]).any():
                out[kind][pair] = value_entry(None, 0, None, None, note="no job had a defined correlation")
                continue
            out[kind][pair] = column_entry(table, "r", cfg, None)
    return out


def section(ctx) -> dict:
    """Per method: each job's final-population correlations and their mean over jobs."""
    from harness.rundir.archive import final_populations

    n_boot, conf = ctx.cfg.bootstrap, ctx.cfg.confidence
    out, per_method = {}, {}
    for (method, cid, seed), pop in final_populations(ctx.archive).items():
        if len(pop) < 3:
            continue
        per_method.setdefault(str(method), []).append(
            {"caption_id": cid, "seed": int(seed),
             **job_correlations(pop, max(100, n_boot // 5), conf, names=ctx.critic_names)})
    for method, per_job in per_method.items():
        out[method] = {"mean": aggregate(per_job, ctx.cfg), "per_job": per_job}
    return out
