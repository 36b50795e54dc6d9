"""Rich tables for the terminal: scores with direction arrows and spreads."""
from __future__ import annotations

import pandas as pd
from rich.table import Table

from harness.critics import CRITICS, SCORE_NAMES
from harness.report.format import fmt


def arrow(higher_is_better: bool) -> str:
    return "↑" if higher_is_better else "↓"


def summary_table(archive: pd.DataFrame, title: str) -> Table:
    """Per method: mean ± sd of each score of the selected images, and N."""
    table = Table(title=title)
    table.add_column("method", overflow="fold", min_width=8)
    for name in SCORE_NAMES:
        table.add_column(f"{name} {arrow(CRITICS[name].higher_is_better)}", justify="right")
    table.add_column("N", justify="right")
    if archive.empty:
        return table
    sel = archive[archive["selected"]]
    for method, group in sel.groupby("method", sort=False):
        cells = [f"{group[n].mean():.4f} ± {group[n].std(ddof=1) if len(group) > 1 else 0:.4f}" for n in SCORE_NAMES]
        table.add_row(str(method), *cells, str(len(group)))
    return table


def metrics_table(result: dict) -> Table:
    """Per method: CLIPScore (evaluator), in-loop CLIPScore, gap, FID/KID with N: value [95 % interval]."""
    ev = result["evaluator"]
    note = " (evaluator = search model)" if ev["same_model"] else ""
    table = Table(title=f"metrics: CLIPScore by {ev['clip']}{note}")
    table.add_column("method", overflow="fold", min_width=8)
    table.add_column("CLIPScore ↑", justify="right")
    table.add_column("in-loop CLIPScore ↑", justify="right")
    table.add_column("hacking gap ↓", justify="right")
    table.add_column("FID ↓ (N)", justify="right")
    table.add_column("KID ↓ ± sd", justify="right")
    fk = result.get("fid_kid", {})
    for method, entry in result["methods"].items():
        sel = fk.get("methods", {}).get(method, {}).get("selected", {})
        fid = f"{fmt(sel.get('fid'), 2)} ({sel['fid']['n']})" if sel.get("fid", {}).get("value") is not None else "—"
        table.add_row(method, fmt(entry.get("clipscore"), 3), fmt(entry.get("clipscore_search_model"), 3),
                      fmt(entry.get("critic_hacking_gap"), 3), fid, fmt(sel.get("kid"), 4))
    if "skipped" in fk:
        table.caption = f"FID/KID skipped: {fk['skipped']}"
    return table
