"""The metrics of metrics.json, by section, in the order they are computed (later sections may read
columns earlier ones add to the job table). A new metric: one file with `section(ctx) -> dict`
(JSON-serialisable; every number as harness.metrics.stats.value_entry) and one line here."""
from __future__ import annotations

from harness.metrics import agreement, answer, convergence, correlations, fid, judges, paired, summary

METRICS = {
    "methods": summary.section,  # per-method scores, CLIPScore, critic-hacking gap (adds the clipscore column)
    "judges": judges.section,  # held-out judges: scores, hacking gaps, z-scores, leave-one-critic-out (adds columns)
    "fid_kid": fid.section,  # FID/KID against metrics.reference
    "correlations": correlations.section,  # Spearman/Kendall among the four scores in final populations
    "convergence": convergence.section,  # best text_image and hypervolume per generation
    "paired": paired.section,  # paired method comparisons (reads the clipscore column)
    "answer": answer.section,  # each evolutionary method against each control, per held-out judge, with power
    "agreement": agreement.section,  # do the critics and the evaluator rank the methods alike? (Kendall's W)
}
# the sections that depend on which individual is picked: recomputed under every stored pick policy (by_pick)
PICK_SECTIONS = ["methods", "judges", "fid_kid", "paired", "answer", "agreement"]
