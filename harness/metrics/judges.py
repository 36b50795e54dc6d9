"""Held-out judges (metrics.evaluators): per method each judge's score, the hacking gap against the
in-loop critic, z-scores of every judge for the methods x judges figure, and a leave-one-critic-out
table. Every interval is over captions (harness.metrics.evidence).

* scores: mean of each panel judge (pickscore, hpsv2, ...) over the picked images (mean of caption
  means), N as captions x seeds; adds one column per judge to the job table, read by the paired,
  agreement and answer sections. CLIPScore's own entry is in the `methods` section.
* hacking gap (per judge, per method), the one definition of the harness: z(in-loop text_image) -
  z(judge score) on the same images, each z-scored over all picked images of the run so judges on
  different scales compare; a method that wins on its own critic but not on a judge has a positive gap.
* z_scores (per method, per judge and critic): the mean z-score, with its interval.
* leave_one_critic_out (per critic, per judge): Spearman correlation of the critic's in-loop score
  with the judge's score within each job's final population (computed per job), mean of caption
  means over jobs with an interval resampling captions: how much each critic agrees with each judge.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from harness.metrics.evidence import column_entry
from harness.metrics.stats import value_entry

GAP = "z(in-loop text_image) - z(judge), z over the run's picked images"


def zscore(values: np.ndarray) -> np.ndarray:
    """z over the finite values (NaN stays NaN: an image the run did not keep)."""
    values = np.asarray(values, dtype=np.float64)
    sd = np.nanstd(values) if np.isfinite(values).any() else 0.0
    return (values - np.nanmean(values)) / sd if sd > 0 else np.where(np.isfinite(values), 0.0, np.nan)


def leave_one_critic_out(ctx, names: list[str]) -> dict:
    from harness.rundir.archive import final_populations

    critics = ctx.critic_names
    rows_out = []
    for (_, cid, seed), pop in final_populations(ctx.archive).items():
        if len(pop) < 3:
            continue
        rows = pop[ctx.picked_columns].reset_index(drop=True)
        if not all(p.is_file() for p in ctx.image_paths(rows)):
            continue  # the population's images were not kept
        judged = {n: ctx.clipscores(rows) if n == "clipscore" else ctx.judge_scores(n, rows) for n in names}
        row = {"caption_id": cid, "seed": int(seed)}
        for critic in critics:
            x = rows[critic].to_numpy()
            for n in names:
                y = judged[n]
                ok = np.isfinite(y)
                row[f"{critic}|{n}"] = (float(stats.spearmanr(x[ok], y[ok]).statistic)
                                        if ok.sum() >= 3 and np.ptp(x[ok]) > 0 and np.ptp(y[ok]) > 0 else np.nan)
        rows_out.append(row)
    table = pd.DataFrame(rows_out)
    out = {}
    for critic in critics:
        out[critic] = {}
        for n in names:
            column = f"{critic}|{n}"
            if table.empty or not np.isfinite(table[column]).any():
                out[critic][n] = value_entry(None, 0, None, None, note="no job with both scores varying")
            else:
                out[critic][n] = column_entry(table, column, ctx.cfg, None,
                                              note="Spearman within each final population, mean over jobs")
    return out


def section(ctx) -> dict:
    """Adds a column per panel judge to ctx.jobs (read by the paired, agreement and answer sections)."""
    for name in ctx.judges:
        ctx.jobs[name] = ctx.judge_scores(name)
    names = ctx.judge_columns()
    if not names:
        return {"skipped": "no held-out judge configured (metrics.evaluators)"}
    jobs, design = ctx.jobs, ctx.design
    out = {"judges": {n: ctx.judge_info(n) for n in names}, "methods": {}, "hacking_gap": {}, "z_scores": {},
           "definitions": {"hacking_gap": GAP}}
    z = pd.DataFrame({n: zscore(jobs[n].to_numpy()) for n in [*ctx.critic_names, *names]}, index=jobs.index)
    z[["caption_id", "seed"]] = jobs[["caption_id", "seed"]]
    for n in names:
        z[f"gap|{n}"] = z["text_image"] - z[n]
    for method, group in jobs.groupby("method", sort=False):
        zg = z.loc[group.index]
        m = str(method)
        out["methods"][m] = {n: column_entry(group, n, ctx.cfg, True, design, role="held-out judge")
                             for n in ctx.judges}
        out["hacking_gap"][m] = {n: column_entry(zg, f"gap|{n}", ctx.cfg, False, design, note=GAP) for n in names}
        out["z_scores"][m] = {n: column_entry(zg, n, ctx.cfg, ctx.directions.get(n, True), design)
                              for n in [*ctx.critic_names, *names]}
    if ctx.pick is None:  # on final populations: the same under every pick policy, so computed once
        ranked = [n for n in names if not hasattr(ctx.judges.get(n), "details")]  # pass/fail judges are not ranked
        out["leave_one_critic_out"] = leave_one_critic_out(ctx, ranked)
    return out
