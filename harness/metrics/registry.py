"""Metric sections of metrics.json, by name, in the order they are computed (later sections may read
columns earlier ones add to the job table). A section is one registration, `MetricSection`: its compute
function `compute(ctx) -> dict` (JSON-serialisable; every number as harness.metrics.stats.value_entry or
harness.metrics.evidence), its report renderer, whether it depends on the pick policy (then recomputed under
every stored policy, `by_pick`) and the definitions it adds to metrics.json. Outside the package a section is
an entry point of `harness.metrics` (or `module:ATTR`) naming a MetricSection, named by a run in
`metrics.plugins`; its renderer is called as `render(section, report) -> list of markdown lines` with
`report` a harness.report.markdown.ReportContext (tables, numbers, figures)."""
from __future__ import annotations

from dataclasses import dataclass, field

from harness.errors import HarnessError
from harness.metrics import (agreement, answer, convergence, correlations, fid, geneval, groups, judges, paired, spent,
                             summary)

GROUP = "harness.metrics"


@dataclass(frozen=True)
class MetricSection:
    name: str  # the key in metrics.json
    compute: object  # (MetricContext) -> dict
    render: object = None  # (section dict, ReportContext) -> list[str], "module:function" (built-ins: the report
    # layer's), or None: rendered inside another section (the summary shows methods, judges and fid_kid)
    per_pick: bool = False  # depends on which individual each method picked: recomputed per stored pick policy
    definitions: dict = field(default_factory=dict)  # added to metrics.json "definitions"
    source: dict = field(default_factory=dict, compare=False)  # a plugin's provenance (harness.plugins.load)


R = "harness.report.markdown"
BUILTIN = (
    MetricSection("methods", summary.section, f"{R}:render_summary", True,
                  {"clipscore": "Hessel et al. 2021: mean over selected images of 2.5 * max(cos(image, caption), 0), "
                                "clamped per image (torchmetrics clamps the mean and scales by 100; not used)"}),
    MetricSection("judges", judges.section, f"{R}:render_judges", True, {"hacking_gap": judges.GAP}),
    MetricSection("geneval", geneval.section, f"{R}:render_geneval", True,
                  {"geneval": "GenEval-style object correctness (detector + colour CLIP + GenEval's rules); overall "
                              "= mean over tasks of the per-task accuracy; correct prompts = any seed correct"}),
    MetricSection("fid_kid", fid.section, None, True,
                  {"fid": "torchmetrics FrechetInceptionDistance on the chosen features; clamped at 0",
                   "kid": "torchmetrics KernelInceptionDistance; value = mean over subsets, std over subsets"}),
    MetricSection("correlations", correlations.section, f"{R}:render_correlations"),
    MetricSection("convergence", convergence.section, f"{R}:render_convergence", False,
                  {"hypervolume": "pymoo HV of the first front, scores normalized by each critic's range to losses "
                                  "in [0, 1], reference point 1.1 in every objective"}),
    MetricSection("nfe", spent.section, "harness.report.spent:render_nfe", False,
                  {"nfe": "function evaluations: denoiser steps per image (with guidance one doubled batch), one per "
                          "GAN image; each method's mean, min and max over its jobs against the run's budget"}),
    MetricSection("paired", paired.section, f"{R}:render_paired", True),
    MetricSection("answer", answer.section, f"{R}:render_answer", True),
    MetricSection("agreement", agreement.section, f"{R}:render_agreement", True),
    MetricSection("groups", groups.section, f"{R}:render_groups", True,
                  {"groups": "captions grouped by category (GenEval's task, Parti's category) and by each other tag "
                             "(Parti's challenge, a suite's tags); intervals over the group's captions"}),
)
METRICS = {s.name: s for s in BUILTIN}


def plugin_section(reference: str, option: str = "metrics.plugins") -> MetricSection:
    """A metric section of a plugin, named by an entry point of harness.metrics or module:ATTR."""
    from harness import plugins

    obj, source = plugins.load(reference, GROUP, "metric section", option)
    from harness.contracts import check

    check(obj, "metric section", reference, option)
    if isinstance(obj, type):
        try:
            obj = obj()
        except Exception as exc:
            raise HarnessError(f"{option}: the metric section plugin {reference!r} is a class that cannot be made "
                               f"with no arguments ({type(exc).__name__}: {exc}); give an instance or such a class"
                               ) from None
    name, compute = obj.name, obj.compute
    return MetricSection(name, compute, getattr(obj, "render", None), bool(getattr(obj, "per_pick", False)),
                         dict(getattr(obj, "definitions", {}) or {}), source)


def sections(plugins: list[str] | tuple = ()) -> list[MetricSection]:
    """The built-in sections, then each plugin's, in order; a name twice is one line."""
    out = list(BUILTIN)
    for reference in plugins:
        section = plugin_section(reference)
        if any(s.name == section.name for s in out) or section.name in ("per_job", "by_pick", "definitions"):
            raise HarnessError(f"metrics.plugins: two metric sections are named {section.name!r} ({reference!r} and "
                               "another, or a key metrics.json holds already): rename one")
        out.append(section)
    return out
