"""GenEval-style results of the `geneval` judge (harness.judges.geneval), per method, over the captions that
carry requirements: accuracy per task, the overall GenEval score (the mean over tasks of the per-task
accuracies, as GenEval's summary computes it), correct prompts (a caption with any seed's image correct), the
share of images whose required objects are all present (count, colour and position aside: the failed-captions
question, is the bus there?), and the failing requirements seen most often. Intervals resample captions, then
seeds (harness.metrics.evidence); captions without requirements are not applicable and counted as such."""
from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pandas as pd

from harness.config.requirements import TASKS
from harness.metrics import evidence
from harness.metrics.stats import value_entry


def details_table(ctx) -> pd.DataFrame:
    """One row per job with an applicable geneval verdict: method, caption_id, seed, task, correct, present,
    reasons."""
    rows = []
    for r, d in zip(ctx.jobs.itertuples(), ctx.judge_details("geneval")):
        detail = json.loads(d) if d else {}
        if detail.get("applicable"):
            rows.append({"method": r.method, "caption_id": r.caption_id, "seed": int(r.seed), "task": detail["task"],
                         "correct": float(detail["correct"]), "present": float(detail["present"]),
                         "reasons": detail.get("reasons", [])})
    return pd.DataFrame(rows, columns=["method", "caption_id", "seed", "task", "correct", "present", "reasons"])


def overall(group: pd.DataFrame, design: evidence.Design, cfg) -> dict:
    """The mean over tasks of the per-task accuracy, its interval from the same caption resamples."""
    tasks = [t for t in TASKS if (group["task"] == t).any()]
    mats = np.stack([design.matrix(group[group["task"] == t], "correct") for t in tasks])
    value = float(np.nanmean(evidence.point(mats)))
    interval = None
    if len(design.captions) > 1:
        per_task = evidence.resampled(mats, design.resamples(cfg.bootstrap))  # [tasks, B]
        with np.errstate(invalid="ignore"):
            interval = evidence.percentile_interval(np.nanmean(per_task, axis=0), cfg.confidence)
    n = evidence.counts(design.matrix(group, "correct"))
    return value_entry(value, n["n"], interval, True, unit=evidence.UNIT, captions=n["captions"], seeds=n["seeds"],
                       tasks=len(tasks), note="mean over tasks of the per-task accuracy")


def overall_images(group: pd.DataFrame) -> dict:
    """GenEval's own weighting: the mean over tasks of each task's share of correct images (every image weighs the
    same, as GenEval's summary computes it); equal to `overall` when every caption has every seed."""
    tasks = [t for t in TASKS if (group["task"] == t).any()]
    value = float(np.mean([group.loc[group["task"] == t, "correct"].mean() for t in tasks]))
    return value_entry(value, int(len(group)), None, True, unit="image", tasks=len(tasks),
                       note="GenEval's weighting: mean over tasks of the share of correct images (no interval: "
                            "images of one caption are not independent)")


def section(ctx) -> dict:
    if "geneval" not in ctx.judges:
        return {"skipped": "the geneval judge is not among metrics.evaluators"}
    table = details_table(ctx)
    applicable = set(table["caption_id"])
    captions = set(ctx.jobs["caption_id"])
    out = {"judge": ctx.judges["geneval"].id, "captions_with_requirements": len(applicable),
           "not_applicable": len(captions - applicable), "methods": {}}
    if table.empty:
        out["skipped"] = f"no caption of the run has requirements ({len(captions)} not applicable)"
        return out
    design = evidence.Design.of(table)
    for method, group in table.groupby("method", sort=False):
        tasks = {t: evidence.column_entry(g, "correct", ctx.cfg, True, design) for t, g in group.groupby("task")}
        prompts = group.groupby("caption_id", as_index=False)["correct"].max().assign(seed=0)
        reasons = Counter(r.split(",")[0] for rs in group["reasons"] for r in rs)
        out["methods"][str(method)] = {
            "tasks": {t: tasks[t] for t in TASKS if t in tasks},
            "overall": overall(group, design, ctx.cfg),
            "overall_images": overall_images(group),
            "correct_images": evidence.column_entry(group, "correct", ctx.cfg, True, design),
            "correct_prompts": evidence.column_entry(prompts, "correct", ctx.cfg, True),
            "objects_present": evidence.column_entry(group, "present", ctx.cfg, True, design),
            "failing": [[reason, count] for reason, count in reasons.most_common(5)]}
    return out
