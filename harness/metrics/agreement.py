"""Do the judges agree? Each judge (the four in-loop critics and the held-out evaluators) ranks the
methods by their mean score on the selected images; Kendall's coefficient of concordance W says how
much those rankings agree (1: identical, 0: no agreement), with a bootstrap interval over captions.

W = 12 S / (m^2 (n^3 - n)) for m judges ranking n methods (average ranks for ties), where S is the
sum over methods of the squared deviation of their rank sums from the mean rank sum.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from harness.critics import SCORE_NAMES
from harness.metrics.stats import value_entry


def kendalls_w(scores: np.ndarray) -> float:
    """scores [m judges, n methods], higher = better for every judge -> Kendall's W in [0, 1]."""
    m, n = scores.shape
    if n < 2 or m < 2:
        return float("nan")
    ranks = np.vstack([stats.rankdata(-row) for row in scores])  # rank 1 = the judge's best method
    sums = ranks.sum(axis=0)
    s = float(((sums - sums.mean()) ** 2).sum())
    return 12.0 * s / (m ** 2 * (n ** 3 - n))


def judge_table(jobs: pd.DataFrame, judges: list[str], directions: dict) -> pd.DataFrame:
    """[judge x method] mean score over selected images, signed so that higher is better for every judge."""
    means = jobs.groupby("method", sort=False)[judges].mean().T
    sign = np.array([1.0 if directions.get(j, True) else -1.0 for j in judges])[:, None]
    return means * sign


def section(ctx) -> dict:
    jobs = ctx.jobs
    judges = [*SCORE_NAMES, *[j for j in ("clipscore", *ctx.judges) if j in jobs]]
    methods = list(dict.fromkeys(jobs["method"]))
    if len(methods) < 2:
        return {"skipped": "agreement needs at least two methods"}
    table = judge_table(jobs, judges, ctx.directions)
    ranks = {j: [methods[i] for i in np.argsort(-table.loc[j, methods].to_numpy(), kind="stable")] for j in judges}
    w = kendalls_w(table.loc[judges, methods].to_numpy())
    captions = jobs["caption_id"].unique()
    # per caption: each judge's signed score sums and job counts per method, so a resample is array sums
    sign = np.array([1.0 if ctx.directions.get(j, True) else -1.0 for j in judges])[None, :, None]
    grouped = jobs.groupby(["caption_id", "method"])
    sums = grouped[judges].sum().unstack("method").reindex(captions)
    sums = np.nan_to_num(np.stack([sums[j].reindex(columns=methods).to_numpy() for j in judges], axis=1)) * sign
    counts = grouped.size().unstack("method").reindex(index=captions, columns=methods).fillna(0).to_numpy()
    rng = np.random.default_rng(0)
    boot = []
    for _ in range(ctx.cfg.bootstrap if len(captions) > 1 else 0):
        pick = rng.choice(len(captions), size=len(captions), replace=True)
        n = counts[pick].sum(axis=0)
        if (n > 0).all():
            boot.append(kendalls_w(sums[pick].sum(axis=0) / n))
    boot = np.asarray([b for b in boot if np.isfinite(b)])
    alpha = (1 - ctx.cfg.confidence) / 2
    interval = [float(x) for x in np.quantile(boot, [alpha, 1 - alpha])] if len(boot) >= 10 else None
    return {"judges": judges, "methods": methods, "ranking": ranks,
            "kendalls_w": value_entry(w, len(captions), interval, True, judges=len(judges),
                                      note="bootstrap over captions; 1 = every judge ranks the methods alike")}
