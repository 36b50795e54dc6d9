"""An ablation's answer: what each change (a removed or added critic, a swept value) does, as one family of tests.

Each comparison pairs two sides' jobs on the same (caption, seed) cells (shared initial latents): per measure (the
held-out judges and the in-loop critics, scored on each job's picked image), the caption-level difference [interval],
the Wilcoxon p over captions adjusted by Benjamini-Hochberg over every test of the ablation, and the smallest
difference this many captions detect (harness.metrics.answer.paired_with_power), or why none is.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from harness.metrics import evidence
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
            entries[m] = paired_with_power(ma, mb, design, cfg, directions.get(m, True), m, differences=False)
        out.append({"label": label, "measures": entries})
    adjust_for_multiple_tests([e for c in out for e in c["measures"].values()], CORRECTION)
    for c in out:
        for e in c["measures"].values():
            e["verdict"] = verdict(e)
    return out
