"""Per-caption detail, apart from report.md: captions.md (every caption's table, the figures of the first
few) and captions.csv (one row per caption, method and seed: every critic and judge on the picked image).
report.md keeps the worst and best few captions per method on its headline judge."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from harness.rundir.files import atomic_write_bytes

EXTREMES = 3  # captions per end per method in report.md


def job_table(archive: pd.DataFrame, metrics: dict | None, critics: list[str]) -> pd.DataFrame:
    """One row per finished job: caption, method, seed, the picked image's critics and (with metrics) judges."""
    if metrics and metrics.get("per_job"):
        table = pd.DataFrame(metrics["per_job"])
        texts = archive.drop_duplicates("caption_id").set_index("caption_id")["caption"]
        table.insert(1, "caption", table["caption_id"].map(texts))
    else:
        table = archive.loc[archive["selected"], ["caption_id", "caption", "method", "seed", *critics]]
    drop = [c for c in ("generation", "individual", "rank", "selected") if c in table]
    return table.drop(columns=drop).reset_index(drop=True)


def headline(metrics: dict | None, table: pd.DataFrame, critics: list[str]) -> str | None:
    """The column the extremes are ranked on: the answer's first held-out judge, else the first critic."""
    for name in ((metrics or {}).get("answer") or {}).get("judges", []):
        if name in table and np.isfinite(pd.to_numeric(table[name], errors="coerce")).any():
            return name
    return critics[0] if critics else None


def write_csv(root: Path, table: pd.DataFrame) -> Path:
    path = root / "captions.csv"
    atomic_write_bytes(path, table.to_csv(index=False, float_format="%.6g").encode())
    return path


def extremes(table: pd.DataFrame, column: str, methods: list[str], higher: bool = True,
             k: int = EXTREMES) -> list[str]:
    """report.md lines: per method the k worst and k best captions (mean over seeds of `column`)."""
    from harness.report.format import md_table

    values = table.assign(v=pd.to_numeric(table[column], errors="coerce"))
    rows = []
    for m in methods:
        means = values[values["method"] == m].groupby("caption_id", sort=False).agg(v=("v", "mean"),
                                                                                   caption=("caption", "first"))
        means = means[np.isfinite(means["v"])].sort_values("v", ascending=higher, kind="stable")
        if means.empty:
            continue
        worst, best = means.head(k), means.tail(k).iloc[::-1]
        rows += [[m, "worst", cid, _short(r.caption), f"{r.v:.4f}"] for cid, r in worst.iterrows()]
        rows += [[m, "best", cid, _short(r.caption), f"{r.v:.4f}"] for cid, r in best.iterrows()
                 if len(means) > k or cid not in worst.index]
    return [md_table(["method", "end", "caption id", "caption", f"{column} (mean over seeds)"], rows), ""]


def _short(text: str, limit: int = 80) -> str:
    text = str(text).replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= limit else text[:limit - 1] + "…"
