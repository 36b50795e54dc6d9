"""The report's compute section: each method's function evaluations against the run's budget (metrics.json "nfe")."""
from __future__ import annotations

from harness.report.format import md_table


def render_nfe(section, r) -> list[str]:
    if not section or "skipped" in section:
        return ["## Compute", "", f"_{(section or {}).get('skipped', 'not computed')}._", ""]
    methods = [m for m in r.methods if m in section["methods"]] or list(section["methods"])
    rows = []
    for m in methods:
        e = section["methods"][m]
        nfe = e["nfe"]
        spread = f"{nfe['value']:.0f}" if nfe["min"] == nfe["max"] else f"{nfe['value']:.0f} ({nfe['min']}..{nfe['max']})"
        rows.append([m, spread, f"{e['decoder_calls']['value']:.0f}", f"{e['critic_images']['value']:.0f}", str(e["jobs"]),
                     e.get("flag", "")])
    budget = section.get("budget_nfe")
    head = (f"Every method ran at one budget of **{budget} NFE** per job (function evaluations: denoiser steps per "
            "image, one per GAN image; no_selection makes one image)." if budget is not None else
            f"_{section.get('note', 'no single budget')}._")
    if section.get("flagged"):
        head += f" **Flagged** (not equal compute): {', '.join(section['flagged'])}."
    return ["## Compute", "", head, "",
            md_table(["method", "NFE per job", "decoder calls", "images scored", "jobs", "flag"], rows), ""]
