"""What each method spent (harness.search.budget): function evaluations (NFE: denoiser steps per image, one per GAN
image), decoder calls and images scored by the critics, from the manifest's job records; and whether the methods
spent one budget. A searching method that spent more than the budget, or less than the budget less one generation's
worth (the granularity of whole individuals), is flagged; no_selection makes one image by design."""
from __future__ import annotations

import numpy as np

from harness.metrics.stats import value_entry
from harness.search.budget import is_diffusion

KEYS = ("nfe", "decoder_calls", "critic_images")


def section(ctx) -> dict:
    spec = ctx.manifest.get("methods", {})
    done = [r for r in ctx.manifest.get("jobs", []) if r.get("status") == "done"]
    if not any("nfe" in r for r in done):
        return {"skipped": "the job records carry no NFE (a run made before compute was recorded)"}
    budgets = sorted({int(r["budget_nfe"]) for r in done if r.get("budget_nfe") is not None})
    budget = budgets[0] if len(budgets) == 1 else None
    methods, flagged = {}, []
    for method in dict.fromkeys(r["method"] for r in done):
        records = [r for r in done if r["method"] == method and "nfe" in r]
        if not records:
            continue
        nfe = np.array([r["nfe"] for r in records], dtype=np.float64)
        entry = {"jobs": len(records),
                 "nfe": value_entry(nfe.mean(), len(records), None, None, min=int(nfe.min()), max=int(nfe.max())),
                 **{k: value_entry(np.mean([r.get(k, 0) for r in records]), len(records), None, None)
                    for k in KEYS[1:]}}
        algorithm = spec.get(method, {}).get("algorithm")
        if budget is not None and algorithm != "single":
            config = ctx.manifest.get("config", {})
            diffusion = is_diffusion(config.get("models", {}).get("generator"))
            steps = int(config.get("generator", {}).get("steps", 1)) if diffusion else 1
            search = config.get("search", {})
            slack = max(steps * max(int(search.get("offspring", 1)), int(search.get("population", 1))), 0.05 * budget)
            if nfe.max() > budget or nfe.min() < budget - slack:
                entry["flag"] = (f"spent {int(nfe.min())}..{int(nfe.max())} NFE against the budget of {budget}: "
                                 "not an equal-compute comparison")
                flagged.append(method)
        methods[method] = entry
    out = {"budget_nfe": budget, "methods": methods, "flagged": flagged, "equal": budget is not None and not flagged}
    if budget is None:
        out["note"] = f"the jobs were run under different budgets ({budgets}): compare within one budget"
    return out
