"""Scorer regression check: rescore a run's stored images with the current critics and say what moved.

Old scores come from the run's archive (scores recorded at run time, on exactly the stored 8-bit
images) or from a reference file (`--reference`; `--update` writes one). Per critic: mean and max
absolute change, Spearman correlation of old and new, and the captions that moved most. A critic
whose max change exceeds its tolerance fails the check (exit code 1).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from harness.errors import ConfigError
from harness.rundir import JobKey, RunDir
from harness.rundir.archive import final_populations, score_columns
from harness.rundir.files import load_png, write_json

DEFAULT_TOLERANCE = 1e-4
REFERENCE_SCHEMA = 2  # rows keyed by caption_id, method, seed, individual (1: by job folder name)
ROW_KEY = ["caption_id", "method", "seed", "individual"]


def stored_images(rundir: RunDir, archive: pd.DataFrame, manifest: dict | None = None) -> pd.DataFrame:
    """Rows of the final generation whose image is stored: population/NNNN.png, else selected.png only, with
    the scores the run recorded for each of its critics."""
    names = score_columns(archive, manifest)
    rows = []
    for (method, cid, seed), final in final_populations(archive).items():
        key = JobKey(cid, method, int(seed))
        for r in final.itertuples():
            png = rundir.population_png(key, r.individual)
            if not png.is_file() and r.selected:
                png = rundir.selected_png(key)
            if png.is_file():
                scores = {n: float(getattr(r, n)) for n in names}
                rows.append({**key.record(), "caption": r.caption, "individual": int(r.individual),
                             "selected": bool(r.selected), "path": png, **scores})
    if not rows:
        raise ConfigError(f"{rundir.path}: no stored images to rescore")
    return pd.DataFrame(rows)


def rescore(scorer, table: pd.DataFrame, batch: int = 64) -> pd.DataFrame:
    """New scores of every stored image by every critic of `scorer` (a harness.critics.scorer.Scorer), batched per
    caption."""
    import torch

    names = scorer.names
    new = {n: np.zeros(len(table)) for n in names}
    for caption, group in table.groupby("caption", sort=False):
        idx = group.index.to_numpy()
        for start in range(0, len(idx), batch):
            part = idx[start:start + batch]
            images = torch.stack([load_png(table.at[i, "path"]) for i in part])
            scores = scorer.score(images, caption)
            for n in names:
                new[n][part] = scores[n]
    out = table[["caption_id", "method", "seed", "caption", "individual", "selected"]].copy()
    for n in names:
        out[n] = new[n]
    return out


def read_reference(path: Path, manifest: dict) -> pd.DataFrame:
    """A reference file's rows keyed by ROW_KEY; schema 1 rows (keyed by job folder name) are keyed
    through the run's manifest, which records each job's folder beside its key."""
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ConfigError(f"--reference {path}: file not found (write one with --update)") from None
    except json.JSONDecodeError:
        raise ConfigError(f"--reference {path}: not valid JSON") from None
    if data.get("schema") not in (1, REFERENCE_SCHEMA) or "rows" not in data:
        raise ConfigError(f"--reference {path}: not a harness regress reference (schema 1 or {REFERENCE_SCHEMA})")
    rows = pd.DataFrame(data["rows"])
    if data["schema"] == 1:
        by_folder = {r["folder"]: JobKey.of(r) for r in manifest["jobs"]}
        folders = "jobs/" + rows["job"]  # schema 1 named a job by its layout-1 folder
        unknown = sorted(set(folders) - set(by_folder))
        if unknown:
            raise ConfigError(f"--reference {path}: job {unknown[0]!r} is not in this run's manifest; was the "
                              "reference written for another run?")
        keys = folders.map(by_folder)
        rows = rows.drop(columns=["job", "caption_id"]).assign(
            caption_id=[k.caption_id for k in keys], method=[k.method for k in keys], seed=[k.seed for k in keys])
    return rows


def write_reference(path: Path, new: pd.DataFrame, config: dict) -> None:
    rows = new[[*ROW_KEY, *[c for c in new.columns if c not in (*ROW_KEY, "caption", "selected", "path")]]].to_dict(
        orient="records")
    write_json(path, {"schema": REFERENCE_SCHEMA, "critics": config, "rows": rows})


def compare(old: pd.DataFrame, new: pd.DataFrame, tolerance: dict[str, float], names: list[str]) -> dict:
    """Per critic of `names` that both the old scores and the new ones have: mean/max absolute change,
    Spearman(old, new), the captions that moved most, pass/fail; `unmatched` names the critics only one side
    has (a critic added or removed since: nothing to compare for it)."""
    common = [n for n in names if n in old.columns and n in new.columns]
    merged = old[[*ROW_KEY, *common]].merge(new, on=ROW_KEY, suffixes=("_old", ""), how="inner")
    if len(merged) == 0:
        raise ConfigError("the reference and the run share no (caption, method, seed, individual): was it written "
                          "for another run?")
    out = {"n": len(merged), "critics": {}, "unmatched": sorted(set(names) - set(common))}
    for n in common:
        diff = (merged[n] - merged[f"{n}_old"]).abs()
        if merged[n].nunique() > 1 and merged[f"{n}_old"].nunique() > 1:
            rho = float(stats.spearmanr(merged[f"{n}_old"], merged[n]).statistic)
        else:
            rho = 1.0 if np.allclose(merged[n], merged[f"{n}_old"]) else float("nan")
        moved = merged.assign(d=diff).groupby("caption_id")["d"].mean().sort_values(ascending=False)
        tol = tolerance.get(n, DEFAULT_TOLERANCE)
        out["critics"][n] = {"mean_abs_change": float(diff.mean()), "max_abs_change": float(diff.max()),
                             "spearman": rho, "tolerance": tol, "moved": bool(diff.max() > tol),
                             "top_captions": [[c, float(v)] for c, v in moved.head(3).items()]}
    out["failed"] = [n for n, c in out["critics"].items() if c["moved"]]
    return out


def parse_tolerances(items: list[str], names) -> dict[str, float]:
    """CRITIC=VALUE items for the critics `names` of the run."""
    out = {}
    for item in items:
        name, _, value = item.partition("=")
        if name not in names or not value:
            raise ConfigError(f"--tolerance {item!r}: expected CRITIC=VALUE with a critic of {', '.join(names)}")
        try:
            out[name] = float(value)
        except ValueError:
            raise ConfigError(f"--tolerance {item!r}: {value!r} is not a number") from None
        if not 0 <= out[name] < float("inf"):
            raise ConfigError(f"--tolerance {item!r}: a tolerance is a largest allowed |change|, a finite number "
                              ">= 0 (e.g. 1e-4)")
    return out
