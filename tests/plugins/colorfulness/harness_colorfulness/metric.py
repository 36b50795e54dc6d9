"""A metric section in one file: how often each method's picked image lies on the first front of its job's
final population (Pareto rank 0 in the method's objectives), with an interval over captions."""
from __future__ import annotations

from harness.metrics.evidence import column_entry
from harness.metrics.registry import MetricSection


def compute(ctx) -> dict:
    picked = ctx.archive[ctx.archive["selected"]].assign(on_front=lambda f: (f["pareto_rank"] == 0).astype(float))
    return {str(method): column_entry(group, "on_front", ctx.cfg, True) for method, group in
            picked.groupby("method", sort=False)}


def render(section: dict, report) -> list[str]:
    rows = [[method, report.number(entry), report.n(entry)] for method, entry in section.items()]
    return ["## Picks on the first front", "", report.table(["method", "share on the front ↑", "N"], rows), ""]


FRONT_SHARE = MetricSection("front_share", compute, render, per_pick=False,
                            definitions={"front_share": "share of jobs whose picked image has Pareto rank 0"})
