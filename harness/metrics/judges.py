"""Held-out judges (metrics.evaluators): per method each judge's score, the hacking gap against the
in-loop critic, z-scores of every judge for the methods x judges figure, and a leave-one-critic-out
table.

* scores: mean of each panel judge (pickscore, hpsv2) over the picked images, N and a bootstrap
  interval (CLIPScore is in the `methods` section); adds one column per judge to the job table,
  read by the paired and agreement sections.
* hacking gap (per judge, per method): z(in-loop text_image) - z(judge score) on the same images,
  each z-scored over all picked images of the run so judges on different scales compare; a method
  that wins on its own critic but not on a judge has a positive gap.
* z_scores (per method, per judge and critic): the mean z-score, with a bootstrap interval.
* leave_one_critic_out (per critic, per judge): Spearman correlation of the critic's in-loop score
  with the judge's score within each job's final population, mean over jobs with a bootstrap
  interval over jobs: how much each critic agrees with each held-out judge.
"""
from __future__ import annotations

import numpy as np
from scipy import stats

from harness.critics import SCORE_NAMES
from harness.metrics.stats import bootstrap_interval, finite, value_entry


def zscore(values: np.ndarray) -> np.ndarray:
    """z over the finite values (NaN stays NaN: an image the run did not keep)."""
    values = np.asarray(values, dtype=np.float64)
    sd = np.nanstd(values) if np.isfinite(values).any() else 0.0
    return (values - np.nanmean(values)) / sd if sd > 0 else np.where(np.isfinite(values), 0.0, np.nan)


def judge_names(ctx) -> list[str]:
    return (["clipscore"] if "clipscore" in ctx.jobs else []) + list(ctx.judges)


def _mean_entry(values: np.ndarray, ctx, higher_is_better=True, **extra) -> dict:
    values = finite(values)
    if len(values) == 0:
        return value_entry(None, 0, None, higher_is_better, note="no stored image to score", **extra)
    return value_entry(values.mean(), len(values), bootstrap_interval(values, np.mean, ctx.cfg.bootstrap,
                                                                      ctx.cfg.confidence), higher_is_better, **extra)


def leave_one_critic_out(ctx, names: list[str]) -> dict:
    from harness.rundir.archive import PICKED_COLUMNS, final_populations

    per_pair: dict[tuple[str, str], list[float]] = {}
    for _, pop in final_populations(ctx.archive).items():
        if len(pop) < 3:
            continue
        rows = pop[PICKED_COLUMNS].reset_index(drop=True)
        if not all(p.is_file() for p in ctx.image_paths(rows)):
            continue  # the population's images were not kept
        judged = {n: ctx.clipscores(rows) if n == "clipscore" else ctx.judge_scores(n, rows) for n in names}
        for critic in SCORE_NAMES:
            x = rows[critic].to_numpy()
            for n in names:
                y = judged[n]
                if np.ptp(x) > 0 and np.ptp(y) > 0:
                    per_pair.setdefault((critic, n), []).append(float(stats.spearmanr(x, y).statistic))
    out = {}
    for critic in SCORE_NAMES:
        out[critic] = {}
        for n in names:
            vals = np.asarray(per_pair.get((critic, n), []))
            out[critic][n] = (_mean_entry(vals, ctx, None, note="Spearman within each final population, mean over jobs")
                              if len(vals) else value_entry(None, 0, None, None, note="no job with both scores varying"))
    return out


def section(ctx) -> dict:
    """Adds a column per panel judge to ctx.jobs (read by the paired and agreement sections)."""
    for name in ctx.judges:
        ctx.jobs[name] = ctx.judge_scores(name)
    names = judge_names(ctx)
    if not names:
        return {"skipped": "no held-out judge configured (metrics.evaluators)"}
    jobs = ctx.jobs
    out = {"judges": {n: ctx.judge_info(n) for n in names}, "methods": {}, "hacking_gap": {}, "z_scores": {}}
    z = {n: zscore(jobs[n].to_numpy()) for n in [*SCORE_NAMES, *names]}
    for method, group in jobs.groupby("method", sort=False):
        idx = group.index.to_numpy()
        m = str(method)
        out["methods"][m] = {n: _mean_entry(group[n].to_numpy(), ctx) for n in ctx.judges}
        out["hacking_gap"][m] = {n: _mean_entry(z["text_image"][idx] - z[n][idx], ctx, False,
                                                note="z(in-loop text_image) - z(judge), z over the run's picked images")
                                 for n in names}
        out["z_scores"][m] = {n: _mean_entry(z[n][idx], ctx, ctx.directions.get(n, True)) for n in [*SCORE_NAMES, *names]}
    if ctx.pick is None:  # on final populations: the same under every pick policy, so computed once
        out["leave_one_critic_out"] = leave_one_critic_out(ctx, names)
    return out
