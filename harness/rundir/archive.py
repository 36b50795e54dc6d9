"""The one archive schema: one row per individual per generation, keyed by (caption_id, method, seed).

Used for the run's `archive.parquet`, each job's own `archive.parquet` and `harness search` output.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from harness.critics import SCORE_NAMES

ARCHIVE_SCHEMA = 1
ARCHIVE_COLUMNS = ["suite", "caption_id", "caption", "method", "seed", "generation", "individual",
                   *SCORE_NAMES, "pareto_rank", "selected", "evaluations"]


def generation_rows(suite: str, key, caption: str, record) -> pd.DataFrame:
    """The archive rows of one generation; `record` is a harness.search.GenerationRecord."""
    n = len(record.X)
    selected = np.zeros(n, dtype=bool)
    if record.selected is not None:
        selected[record.selected] = True
    frame = pd.DataFrame({
        "suite": suite, "caption_id": key.caption_id, "caption": caption, "method": key.method,
        "seed": np.int64(key.seed), "generation": np.int64(record.generation),
        "individual": np.arange(n, dtype=np.int64),
        **{name: record.scores[name].astype(np.float64) for name in SCORE_NAMES},
        "pareto_rank": record.ranks.astype(np.int64), "selected": selected,
        "evaluations": np.int64(record.evaluations)})
    return frame[ARCHIVE_COLUMNS]


def selected_rows(archive: pd.DataFrame) -> pd.DataFrame:
    """One row per finished job: the selected individual's scores."""
    sel = archive[archive["selected"]]
    return sel[["method", "caption_id", "caption", "seed", *SCORE_NAMES]].reset_index(drop=True)


def final_populations(archive: pd.DataFrame) -> dict[tuple, pd.DataFrame]:
    """(method, caption_id, seed) -> the rows of that job's last generation."""
    out = {}
    for key, job in archive.groupby(["method", "caption_id", "seed"], sort=False):
        out[key] = job[job["generation"] == job["generation"].max()]
    return out
