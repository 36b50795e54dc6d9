"""Per-method summary of the selected images: each in-loop critic's score (circular evidence: the search
optimised them), CLIPScore by the held-out evaluator and the in-loop CLIPScore on the same scale, each
with N (captions x seeds) and a cluster-bootstrap interval over captions (harness.metrics.evidence).

The critic-hacking gap has one definition in this harness, z(in-loop text_image) - z(judge) on the
same images: it is in the judges section, for every held-out judge, CLIPScore included."""
from __future__ import annotations

from harness.metrics import clipscore
from harness.metrics.evidence import column_entry


def section(ctx) -> dict:
    """Adds the `clipscore` and `clipscore_search` columns to ctx.jobs (read by later sections)."""
    jobs, ev = ctx.jobs, ctx.evaluator
    if ctx.clipscore:
        jobs["clipscore"] = ctx.clipscores()
        jobs["clipscore_search"] = clipscore.clipscore_from_cosine(jobs["text_image"].to_numpy()).numpy()
    design = ctx.design
    by_method = {}
    for method, group in jobs.groupby("method", sort=False):
        entry = {"n_captions": int(group["caption_id"].nunique()), "n_seeds": int(group["seed"].nunique())}
        for name in ctx.critic_names:
            entry[name] = column_entry(group, name, ctx.cfg, ctx.directions.get(name, True), design, role="in-loop critic")
        by_method[str(method)] = entry
        if not ctx.clipscore:
            continue
        entry["clipscore"] = column_entry(group, "clipscore", ctx.cfg, True, design, evaluator=ev.id,
                                          role="self-judge (the search's own CLIP)" if ev.same else "held-out judge")
        entry["clipscore_search_model"] = column_entry(group, "clipscore_search", ctx.cfg, True, design,
                                                       evaluator=ev.search_id, role="in-loop critic")
    return by_method
