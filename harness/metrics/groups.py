"""Results by group of captions: GenEval's tasks, Parti's categories and challenges, a suite's tags.

A caption belongs to the group of its `category` (the importers set it: GenEval's task, Parti's category)
and to one group per tag that is not its category (Parti's challenge, a suite's own tags). Per group kind,
group and method: every held-out judge and in-loop critic on the picked images, as the mean of caption means
with its interval over the group's captions (harness.metrics.evidence). The report renders one table per
column with a row per group, so it grows with the number of groups, not of captions."""
from __future__ import annotations

from harness.metrics.evidence import column_entry

KINDS = ("category", "tag")
MIN_CAPTIONS = 2  # a group of one caption has no interval over captions; it is still listed


def memberships(manifest: dict) -> dict[str, dict[str, list[str]]]:
    """kind -> group -> caption ids, from the captions the manifest records."""
    out = {kind: {} for kind in KINDS}
    for c in manifest.get("suite", {}).get("captions", []):
        category = c.get("category")
        if category:
            out["category"].setdefault(str(category), []).append(c["id"])
        for tag in c.get("tags", []):
            if tag != category:
                out["tag"].setdefault(str(tag), []).append(c["id"])
    return {kind: groups for kind, groups in out.items() if groups}


def section(ctx) -> dict:
    groups = memberships(ctx.manifest)
    if not groups:
        return {"skipped": "the suite's captions carry no category or tag"}
    jobs = ctx.jobs
    columns = [n for n in ctx.judge_columns() if n in jobs] + list(ctx.critic_names)
    methods = list(dict.fromkeys(jobs["method"]))
    out = {"columns": columns, "roles": {n: ("in-loop critic" if n in ctx.critic_names else "held-out judge")
                                          for n in columns}, "kinds": {}}
    for kind, members in groups.items():
        rows = {}
        for group, ids in sorted(members.items()):
            part = jobs[jobs["caption_id"].isin(set(ids))]
            entry = {"captions": int(part["caption_id"].nunique()), "methods": {}}
            for method in methods:
                m = part[part["method"] == method]
                if m.empty:
                    continue
                entry["methods"][method] = {n: column_entry(m, n, ctx.cfg, ctx.directions.get(n, True))
                                            for n in columns}
            rows[group] = entry
        out["kinds"][kind] = rows
    return out
