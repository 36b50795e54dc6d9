"""The one archive schema: one row per individual per generation, keyed by (caption_id, method, seed).

Used for the run's `archive.parquet`, each job's own `archive.parquet` and `harness search` output.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from harness.critics import SCORE_NAMES

ARCHIVE_SCHEMA = 3  # 2: the class columns (top_class, top_class_weight, effective_classes); 3: the score columns are
# the run's critics (the manifest's `critics`), not always the built-in four
EXTENDABLE_SCHEMAS = (2, 3)  # a schema-2 run (the built-in four) grows as schema 3: its columns are the same
CLASS_COLUMNS = ["top_class", "top_class_weight", "effective_classes"]  # -1 / NaN where the genome has no class


def archive_columns(critics=SCORE_NAMES) -> list[str]:
    """The archive's columns for a run whose critics are `critics` (in order)."""
    return ["suite", "caption_id", "caption", "method", "seed", "generation", "individual", *critics,
            "pareto_rank", "selected", "evaluations", *CLASS_COLUMNS]


ARCHIVE_COLUMNS = archive_columns()  # a run of the built-in critics


def generation_rows(suite: str, key, caption: str, record) -> pd.DataFrame:
    """The archive rows of one generation; `record` is a harness.search.GenerationRecord."""
    n = len(record.X)
    selected = np.zeros(n, dtype=bool)
    if record.selected is not None:
        selected[record.selected] = True
    classes = record.classes or {"top_class": np.full(n, -1), "top_class_weight": np.full(n, np.nan),
                                 "effective_classes": np.full(n, np.nan)}
    frame = pd.DataFrame({
        "suite": suite, "caption_id": key.caption_id, "caption": caption, "method": key.method,
        "seed": np.int64(key.seed), "generation": np.int64(record.generation),
        "individual": np.arange(n, dtype=np.int64),
        **{name: np.asarray(values, dtype=np.float64) for name, values in record.scores.items()},
        "pareto_rank": record.ranks.astype(np.int64), "selected": selected,
        "evaluations": np.int64(record.evaluations), "top_class": np.asarray(classes["top_class"], dtype=np.int64),
        "top_class_weight": np.asarray(classes["top_class_weight"], dtype=np.float64),
        "effective_classes": np.asarray(classes["effective_classes"], dtype=np.float64)})
    return frame[archive_columns(list(record.scores))]


KEY_COLUMNS = ["method", "caption_id", "caption", "seed", "individual"]
OTHER_COLUMNS = {"suite", "caption_id", "caption", "method", "seed", "generation", "individual", "pareto_rank",
                 "selected", "evaluations", *CLASS_COLUMNS}


def score_columns(archive: pd.DataFrame, manifest: dict | None = None) -> list[str]:
    """The run's critic names, in order: the manifest's `critics` (runs that record their critic set), else
    every score column of the archive (a run written before critics were recorded: the four built-in ones)."""
    recorded = [c["name"] if isinstance(c, dict) else c for c in (manifest or {}).get("critics", [])]
    if recorded:
        return [c for c in recorded if c in archive.columns]
    return [c for c in archive.columns if c not in OTHER_COLUMNS]


def picked_columns(archive: pd.DataFrame) -> list[str]:
    return [*KEY_COLUMNS, *score_columns(archive)]


def selected_rows(archive: pd.DataFrame) -> pd.DataFrame:
    """One row per finished job: the selected individual's scores (and its index in the final population)."""
    sel = archive[archive["selected"]]
    return sel[picked_columns(archive)].reset_index(drop=True)


def picked_rows(archive: pd.DataFrame, picks: pd.DataFrame) -> pd.DataFrame:
    """One row per job of `picks` (columns method, caption_id, seed, individual): that individual of the
    job's final population, in the order of the archive's selected rows."""
    last = archive.groupby(["method", "caption_id", "seed"], sort=False)["generation"].transform("max")
    final = archive[archive["generation"] == last]
    keys = ["method", "caption_id", "seed", "individual"]
    columns = picked_columns(archive)
    order = archive.loc[archive["selected"], ["method", "caption_id", "seed"]]
    rows = order.merge(picks[keys], on=["method", "caption_id", "seed"]).merge(final[columns], on=keys)
    return rows[columns].reset_index(drop=True)


def repick(archive: pd.DataFrame, picks: pd.DataFrame) -> pd.DataFrame:
    """The archive with `selected` moved to the individuals of `picks` in each job's final generation."""
    out = archive.copy()
    last = out.groupby(["method", "caption_id", "seed"], sort=False)["generation"].transform("max")
    chosen = picks.set_index(["method", "caption_id", "seed"])["individual"]
    index = pd.MultiIndex.from_frame(out[["method", "caption_id", "seed"]])
    want = chosen.reindex(index).to_numpy()
    out["selected"] = (out["generation"] == last).to_numpy() & (out["individual"].to_numpy() == want)
    return out


def final_populations(archive: pd.DataFrame) -> dict[tuple, pd.DataFrame]:
    """(method, caption_id, seed) -> the rows of that job's last generation."""
    out = {}
    for key, job in archive.groupby(["method", "caption_id", "seed"], sort=False):
        out[key] = job[job["generation"] == job["generation"].max()]
    return out
