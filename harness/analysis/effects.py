"""An ablation's answer: what each change (a removed or added critic, a swept value) does, as one family of tests.

Each comparison pairs two sides' jobs on the same (caption, seed) cells (shared initial latents): per measure (the
held-out judges and the in-loop critics, scored on each job's picked image), the caption-level difference [interval],
the Wilcoxon p over captions adjusted by Benjamini-Hochberg over every test of the ablation, and the smallest
difference this many captions detect (harness.metrics.answer.paired_with_power), or why none is.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from harness.metrics import evidence, power
from harness.metrics.answer import paired_with_power, verdict
from harness.metrics.paired import adjust_for_multiple_tests

CORRECTION = "Benjamini-Hochberg over the ablation's tests (every change x measure)"


def family(comparisons: list[tuple[str, pd.DataFrame, pd.DataFrame]], measures: list[str], directions: dict,
           cfg) -> list[dict]:
    """comparisons: (label, a's jobs, b's jobs), a - b; jobs: caption_id, seed and the measure columns.
    -> [{'label', 'measures': {name: entry with p_adjusted, verdict}}], adjusted over the whole family."""
    frames = [f for _, a, b in comparisons for f in (a, b)]
    if not frames:
        return []
    design = evidence.Design.of(pd.concat(frames, ignore_index=True))
    out = []
    for label, a, b in comparisons:
        entries = {}
        for m in measures:
            if m not in a or m not in b:
                continue
            ma, mb = design.matrix(a, m), design.matrix(b, m)
            if not (np.isfinite(ma) & np.isfinite(mb)).any():
                continue
            entries[m] = paired_with_power(ma, mb, design, cfg, directions.get(m, True), m)
            del entries[m]["differences"]
        out.append({"label": label, "measures": entries})
    adjust_for_multiple_tests([e for c in out for e in c["measures"].values()], CORRECTION)
    for c in out:
        for e in c["measures"].values():
            e["verdict"] = verdict(e)
    return out


def number(name: str, e: dict) -> str:
    """'name +0.012 [-0.003, +0.027], adjusted p 0.25, smallest detectable 0.02' (or why none is)."""
    if e.get("value") is None:
        return f"{name}: no paired value"
    lo, hi = e.get("interval") or (None, None)
    ci = f" [{lo:+.3g}, {hi:+.3g}]" if lo is not None else ""
    p = e.get("p_adjusted")
    text = f"{name} {e['value']:+.3g}{ci}, adjusted p {p:.2g}" if p is not None else f"{name} {e['value']:+.3g}{ci}"
    if e.get("mde") is not None:
        return text + f", smallest detectable {e['mde']:.3g}"
    if e.get("no_variation"):
        return text + ", the same on every caption"
    if e.get("mde_note"):
        return text + f", not detectable with {e['captions']} captions"
    return text


def sentence(change: str, entries: dict, judges: list[str]) -> str:
    """One line: what `change` does on each held-out judge, then on each in-loop critic."""
    moved = {v: [m for m, e in entries.items() if e.get("verdict") == v] for v in ("better", "worse")}
    verdict_text = "; ".join(f"{'raises' if v == 'better' else 'lowers'} {', '.join(ms)}"
                             for v, ms in moved.items() if ms) or "no detectable change"
    judged = [number(m, e) for m, e in entries.items() if m in judges]
    critics = [number(m, e) for m, e in entries.items() if m not in judges]
    parts = [f"**{change}**: {verdict_text}"]
    if judged:
        parts.append("held-out judges: " + "; ".join(judged))
    if critics:
        parts.append("in-loop critics: " + "; ".join(critics))
    return ". ".join(parts) + "."


def floor_note(captions: int) -> str | None:
    """What `captions` captions can and cannot show (None when the test can reach alpha)."""
    if captions >= power.wilcoxon_min_captions():
        return None
    from harness.metrics.stats import wilcoxon_floor

    return (f"With {captions} caption(s) the smallest p the Wilcoxon test over captions can reach is "
            f"{wilcoxon_floor(captions):.3g}: no difference can reach p < {power.ALPHA}; it needs at least "
            f"{power.wilcoxon_min_captions()} captions")
