"""Rich tables for the terminal: scores with direction arrows and spreads."""
from __future__ import annotations

import pandas as pd
from rich.table import Table

from harness.critics import CRITICS, SCORE_NAMES


def arrow(higher_is_better: bool) -> str:
    return "↑" if higher_is_better else "↓"


def summary_table(archive: pd.DataFrame, title: str) -> Table:
    """Per method: mean ± sd of each score of the selected images, and N."""
    table = Table(title=title)
    table.add_column("method")
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
