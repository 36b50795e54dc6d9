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
import torch
from scipy import stats

from harness.critics import SCORE_NAMES, Scorer
from harness.errors import ConfigError
from harness.io import load_png, write_json
from harness.runner.rundir import RunDir

DEFAULT_TOLERANCE = 1e-4
REFERENCE_SCHEMA = 1


def stored_images(rundir: RunDir, archive: pd.DataFrame) -> pd.DataFrame:
    """Rows of the final generation whose image is stored: population/NNNN.png, else selected.png only."""
    rows = []
    for (cid, method, seed), job in archive.groupby(["caption_id", "method", "seed"], sort=False):
        final = job[job["generation"] == job["generation"].max()]
        folder = rundir.job_dir(f"{cid}__{method}__s{seed}")
        for r in final.itertuples():
            png = folder / "population" / f"{r.individual:04d}.png"
            if not png.is_file() and r.selected:
                png = folder / "selected.png"
            if png.is_file():
                rows.append({"job": f"{cid}__{method}__s{seed}", "caption_id": cid, "caption": r.caption,
                             "individual": int(r.individual), "selected": bool(r.selected), "path": png,
                             **{n: float(getattr(r, n)) for n in SCORE_NAMES}})
    if not rows:
        raise ConfigError(f"{rundir.path}: no stored images to rescore")
    return pd.DataFrame(rows)


def rescore(scorer: Scorer, table: pd.DataFrame, batch: int = 64) -> pd.DataFrame:
    """New scores of every stored image, batched per caption."""
    new = {n: np.zeros(len(table)) for n in SCORE_NAMES}
    for caption, group in table.groupby("caption", sort=False):
        idx = group.index.to_numpy()
        for start in range(0, len(idx), batch):
            part = idx[start:start + batch]
            images = torch.stack([load_png(table.at[i, "path"]) for i in part])
            scores = scorer.score(images, caption)
            for n in SCORE_NAMES:
                new[n][part] = scores[n]
    out = table[["job", "caption_id", "caption", "individual", "selected"]].copy()
    for n in SCORE_NAMES:
        out[n] = new[n]
    return out


def read_reference(path: Path) -> pd.DataFrame:
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ConfigError(f"--reference {path}: file not found (write one with --update)") from None
    except json.JSONDecodeError:
        raise ConfigError(f"--reference {path}: not valid JSON") from None
    if data.get("schema") != REFERENCE_SCHEMA or "rows" not in data:
        raise ConfigError(f"--reference {path}: not a harness regress reference (schema {REFERENCE_SCHEMA})")
    return pd.DataFrame(data["rows"])


def write_reference(path: Path, new: pd.DataFrame, config: dict) -> None:
    rows = new[["job", "caption_id", "individual", *SCORE_NAMES]].to_dict(orient="records")
    write_json(path, {"schema": REFERENCE_SCHEMA, "critics": config, "rows": rows})


def compare(old: pd.DataFrame, new: pd.DataFrame, tolerance: dict[str, float]) -> dict:
    """Per critic: mean/max absolute change, Spearman(old, new), the captions that moved most, pass/fail."""
    merged = old.merge(new, on=["job", "individual"], suffixes=("_old", ""), how="inner")
    if "caption_id" not in merged:
        merged["caption_id"] = merged["caption_id_old"]
    if len(merged) == 0:
        raise ConfigError("the reference and the run share no (job, individual): was it written for another run?")
    out = {"n": len(merged), "critics": {}}
    for n in SCORE_NAMES:
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


def parse_tolerances(items: list[str]) -> dict[str, float]:
    out = {}
    for item in items:
        name, _, value = item.partition("=")
        if name not in SCORE_NAMES or not value:
            raise ConfigError(f"--tolerance {item!r}: expected CRITIC=VALUE with a critic of {', '.join(SCORE_NAMES)}")
        try:
            out[name] = float(value)
        except ValueError:
            raise ConfigError(f"--tolerance {item!r}: {value!r} is not a number") from None
    return out
