"""Per-method summary of the selected images: the four scores, CLIPScore by the evaluator, the
in-loop CLIPScore and the critic-hacking gap, each with N and a bootstrap interval."""
from __future__ import annotations

import numpy as np

from harness.critics import SCORE_NAMES
from harness.metrics import clipscore
from harness.metrics.stats import bootstrap_interval, finite, value_entry


def section(ctx) -> dict:
    """Adds the `clipscore` and `clipscore_search` columns to ctx.jobs (read by later sections)."""
    jobs, n_boot, conf = ctx.jobs, ctx.cfg.bootstrap, ctx.cfg.confidence
    ev = ctx.evaluator
    if ctx.clipscore:
        jobs["clipscore"] = ctx.clipscores()
        jobs["clipscore_search"] = clipscore.clipscore_from_cosine(jobs["text_image"].to_numpy()).numpy()
    by_method = {}
    for method, group in jobs.groupby("method", sort=False):
        entry = {"n_captions": int(group["caption_id"].nunique()), "n_seeds": int(group["seed"].nunique())}
        for name in SCORE_NAMES:
            vals = group[name].to_numpy()
            entry[name] = value_entry(vals.mean(), len(vals), bootstrap_interval(vals, np.mean, n_boot, conf),
                                      ctx.directions[name])
        by_method[str(method)] = entry
        if not ctx.clipscore:
            continue
        cs = finite(group["clipscore"])
        entry["clipscore"] = value_entry(cs.mean(), len(cs), bootstrap_interval(cs, np.mean, n_boot, conf), True,
                                         evaluator=ev.id)
        gap = finite(group["clipscore_search"] - group["clipscore"])
        entry["clipscore_search_model"] = value_entry(group["clipscore_search"].mean(), len(gap), bootstrap_interval(
            group["clipscore_search"].to_numpy(), np.mean, n_boot, conf), True, evaluator=ev.search_id)
        entry["critic_hacking_gap"] = value_entry(gap.mean(), len(gap), bootstrap_interval(gap, np.mean, n_boot, conf),
                                                  False, same_model=ev.same)
    return by_method
