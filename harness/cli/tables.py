"""Rich tables for the terminal: the same statistics report.md shows (means of caption means with their
intervals over captions, N as captions x seeds), in-loop critics apart from held-out judges."""
from __future__ import annotations

import pandas as pd
from rich.table import Table

from harness.report.format import fmt, n_of
from harness.rundir.archive import score_columns


def summary_table(archive: pd.DataFrame, title: str, metrics: dict | None = None, manifest: dict | None = None
                  ) -> Table:
    """In-loop critics per method: metrics.json's entries (mean [95 % CI over captions]) where there are
    metrics, else the mean over the selected images; a critic no method optimises is marked scored only."""
    from harness.report.markdown import scored_only

    table = Table(title=title + " (in-loop critics: the scores the search optimised)")
    table.add_column("method", overflow="fold", min_width=8)
    if archive.empty:
        return table
    critics = score_columns(archive, manifest)
    only = scored_only(manifest, critics) if manifest else []
    for name in critics:
        table.add_column(f"{name} ↑" + (" (scored only)" if name in only else ""), justify="right", overflow="fold")
    table.add_column("N (captions × seeds)", justify="right")
    sel = archive[archive["selected"]]
    for method, group in sel.groupby("method", sort=False):
        entry = (metrics or {}).get("methods", {}).get(str(method))
        if entry:
            table.add_row(str(method), *[fmt(entry.get(n)) for n in critics], n_of(entry.get(critics[0])))
        else:
            table.add_row(str(method), *[f"{group[n].mean():.3f}" for n in critics],
                          f"{group['caption_id'].nunique()} × {group['seed'].nunique()}")
    return table


def metrics_table(result: dict) -> Table:
    """Held-out judges per method, as report.md shows them: value [95 % CI over captions], FID/KID with N."""
    ev = result["evaluator"]
    note = " (self-judge: the search's own CLIP)" if ev["same_model"] else ""
    judges = result.get("judges", {})
    panel = [n for n in judges.get("judges", {}) if n != "clipscore"] if "skipped" not in judges else []
    table = Table(title=f"held-out judges: CLIPScore by {ev['clip']}{note}")
    table.add_column("method", overflow="fold", min_width=8)
    table.add_column("CLIPScore ↑", justify="right", overflow="fold")
    for n in panel:
        table.add_column(f"{n} ↑", justify="right", overflow="fold")
    table.add_column("FID ↓ (N)", justify="right")
    table.add_column("KID ↓ ± sd", justify="right")
    table.add_column("N (captions × seeds)", justify="right")
    fk = result.get("fid_kid", {})
    for method, entry in result["methods"].items():
        sel = fk.get("methods", {}).get(method, {}).get("selected", {})
        fid = f"{fmt(sel.get('fid'), 2)} ({sel['fid']['n']})" if sel.get("fid", {}).get("value") is not None else "—"
        if sel.get("fid", {}).get("reliable") is False:
            fid += " †"
        panel_cells = [fmt(judges.get("methods", {}).get(method, {}).get(n), 3) for n in panel]
        table.add_row(method, fmt(entry.get("clipscore"), 3), *panel_cells, fid, fmt(sel.get("kid"), 4),
                      n_of(entry.get("clipscore")))
    captions = []
    if "skipped" in fk:
        captions.append(f"FID/KID skipped: {fk['skipped']}")
    if any(fk.get("methods", {}).get(m, {}).get("selected", {}).get("fid", {}).get("reliable") is False
           for m in result["methods"]):
        captions.append("† FID with N ≤ feature dimension: dominated by sample size; read KID")
    if captions:
        table.caption = "; ".join(captions)
    return table


def answer_lines(result: dict) -> list[str]:
    """The answer section's sentences (one per method x control), as report.md opens with them."""
    answer = result.get("answer") or {}
    if "skipped" in answer:
        return [f"answer: {answer['skipped']}"]
    return [f"answer: {c['sentence']}" for c in answer.get("comparisons", [])]
