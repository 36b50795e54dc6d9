"""Do the judges agree? Each judge (the in-loop critics and the held-out evaluators) ranks the
methods by their mean score on the selected images; Kendall's coefficient of concordance W says how
much those rankings agree (1: identical, 0: no agreement), with an interval over captions.

W = 12 S / (m^2 (n^3 - n) - m sum_j T_j) for m judges ranking n methods with average ranks for ties,
where S is the sum over methods of the squared deviation of their rank sums from the mean rank sum
and T_j = sum over judge j's groups of tied methods of (t^3 - t): the tie correction of Kendall and
Babington Smith (R's irr::kendall(correct=TRUE)). Without ties it is the textbook W.

The interval is a BCa interval on the two-stage caption bootstrap (harness.metrics.evidence): W is
bounded by 1 and a percentile interval of a statistic near its bound sits on its point estimate;
where BCa is undefined (every resample on one side of the estimate) the percentile interval is
given with a note that says so. Judge scores missing for an image (a run that kept no population
images) are left out of that judge's means, never counted as 0.
"""
from __future__ import annotations

import numpy as np
from scipy import stats

from harness.metrics import evidence
from harness.metrics.stats import value_entry


def kendalls_w(scores: np.ndarray) -> np.ndarray | float:
    """scores [..., m judges, n methods], higher = better for every judge -> Kendall's W in [0, 1] with the
    tie correction (NaN when fewer than 2 judges or methods, or every judge ties every method)."""
    scores = np.asarray(scores, dtype=np.float64)
    m, n = scores.shape[-2:]
    if n < 2 or m < 2:
        return float("nan") if scores.ndim == 2 else np.full(scores.shape[:-2], np.nan)
    ranks = stats.rankdata(-scores, axis=-1)  # rank 1 = the judge's best method; ties get average ranks
    sums = ranks.sum(axis=-2)
    s = ((sums - sums.mean(axis=-1, keepdims=True)) ** 2).sum(axis=-1)
    # sum over a judge's tie groups of (t^3 - t) = sum over its methods of (methods sharing the rank)^2 - 1
    shared = (ranks[..., :, None] == ranks[..., None, :]).sum(axis=-1)
    ties = (shared ** 2 - 1).sum(axis=(-1, -2))
    denominator = m ** 2 * (n ** 3 - n) - m * ties
    with np.errstate(invalid="ignore", divide="ignore"):
        w = np.where(denominator > 0, 12.0 * s / np.where(denominator > 0, denominator, 1.0), np.nan)
    return float(w) if np.ndim(w) == 0 else w


def judge_matrices(jobs, judges: list[str], methods: list[str], directions: dict, design: evidence.Design):
    """[judges, methods, C, S] values signed so that higher is better for every judge (NaN where missing)."""
    out = np.full((len(judges), len(methods), *design.present.shape), np.nan)
    for j, judge in enumerate(judges):
        sign = 1.0 if directions.get(judge, True) else -1.0
        for k, method in enumerate(methods):
            out[j, k] = sign * design.matrix(jobs[jobs["method"] == method], judge)
    return out


def w_interval(values: np.ndarray, design: evidence.Design, estimate: float, n_resamples: int,
               confidence: float) -> tuple[list[float] | None, str]:
    """BCa interval of W over captions (percentile, with the reason, where BCa is undefined)."""
    if len(design.captions) < 2:
        return None, "one caption: no interval"
    dist = kendalls_w(np.moveaxis(evidence.resampled(values, design.resamples(n_resamples)), -1, 0))
    keep = np.ones(len(design.captions), dtype=bool)
    jack = []
    for c in range(len(design.captions)):
        keep[c] = False
        jack.append(kendalls_w(evidence.point(values[:, :, keep])))
        keep[c] = True
    interval = evidence.bca_interval(dist, estimate, np.asarray(jack), confidence)
    if interval is not None:
        return interval, "BCa"
    return evidence.percentile_interval(dist, confidence), (
        "percentile (BCa undefined: every resample's W lies on one side of the estimate)")


def section(ctx) -> dict:
    jobs = ctx.jobs
    judges = [*ctx.critic_names, *[j for j in ctx.judge_columns() if j in jobs]]
    return agreement(jobs, judges, ctx.directions, ctx.cfg)


def agreement(jobs, judges: list[str], directions: dict, cfg) -> dict:
    """The agreement section for a job table (method, caption_id, seed and a column per judge)."""
    methods = list(dict.fromkeys(jobs["method"]))
    if len(methods) < 2:
        return {"skipped": "agreement needs at least two methods"}
    design = evidence.Design.of(jobs)
    values = judge_matrices(jobs, judges, methods, directions, design)
    table = evidence.point(values)  # [judges, methods] mean of caption means
    ranks = {j: [methods[i] for i in np.argsort(-table[k], kind="stable")] for k, j in enumerate(judges)}
    w = kendalls_w(table)
    interval, method = w_interval(values, design, w, cfg.bootstrap, cfg.confidence)
    n = evidence.counts(values[0, 0])
    return {"judges": judges, "methods": methods, "ranking": ranks,
            "kendalls_w": {**value_entry(w, len(design.captions), interval, True),
                           "unit": evidence.UNIT, "captions": len(design.captions), "seeds": n["seeds"],
                           "judges": len(judges), "interval_method": method, "tie_correction": True,
                           "note": "two-stage bootstrap over captions, then seeds; 1 = every judge ranks the "
                                   "methods alike (tie-corrected)"}}
