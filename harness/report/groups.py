"""The report's tables by group of captions (metrics.json `groups`): per group kind and column (held-out
judges first, then in-loop critics), a row per group with each method's mean of caption means [interval over
the group's captions]. Lines grow with groups x columns, never with captions."""
from __future__ import annotations

from harness.report.format import arrow, fmt

TITLES = {"category": "By category", "tag": "By tag"}


def render_groups(section, r) -> list[str]:
    if not section or "skipped" in section:
        return []
    lines = ["## Results by group", "",
             "Categories are GenEval's tasks and Parti's categories; tags are Parti's challenges and a suite's own "
             "tags. Each group's captions only: mean of caption means [95 % interval over the group's captions] of the "
             "picked images; one table per judge or critic. Held-out judges are the evidence; in-loop critics are "
             "what the search optimised.", ""]
    methods = [m for m in r.methods if any(m in g["methods"] for k in section["kinds"].values() for g in k.values())]
    for kind, groups in section["kinds"].items():
        lines += [f"### {TITLES.get(kind, kind)}", ""]
        for column in section["columns"]:
            role = section["roles"].get(column, "")
            higher = next((e[column].get("higher_is_better") for g in groups.values() for e in g["methods"].values()
                           if column in e), True)
            rows = [[group, str(g["captions"]), *[fmt(g["methods"].get(m, {}).get(column)) for m in methods]]
                    for group, g in groups.items()]
            lines += [f"**{column}{arrow(higher)}** ({role})", "",
                      r.table([kind, "captions", *methods], rows), ""]
    return lines
