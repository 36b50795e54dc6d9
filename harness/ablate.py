"""Ablations: one run per value (or grid point) of swept config fields, then what moved with the value.

`--set critics.image_real.temperature=0.5,1,2,5` sweeps; several swept fields make a grid; a
`--set` with one value applies to every run. Each run is an ordinary, resumable run directory
under one parent. The analysis reports, per value: every metric and score of the selected images
with intervals; the selected images of the *first* run rescored under each value (the same images,
so only the critics' change shows); and how often the selected image changes between values.
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from harness.config.typed import parse_set
from harness.critics import SCORE_NAMES
from harness.errors import ConfigError

SWEEP_METRICS = [*SCORE_NAMES, "clipscore"]


@dataclass
class Sweep:
    fixed: list[str]  # --set key=value applied to every run
    fields: list[tuple[str, list[str]]]  # (key, raw values) swept
    points: list[dict[str, str]] = field(default_factory=list)  # the grid, in order

    @property
    def keys(self) -> list[str]:
        return [k for k, _ in self.fields]


def parse_sweep(sets: list[str]) -> Sweep:
    fixed, fields = [], []
    for item in sets:
        key, _ = parse_set(item)
        raw = item.split("=", 1)[1]
        if "," in raw and not raw.strip().startswith(("[", "{")):
            values = [v.strip() for v in raw.split(",")]
            if any(not v for v in values) or len(set(values)) != len(values):
                raise ConfigError(f"--set {item!r}: the swept values must be distinct and non-empty")
            fields.append((key, values))
        else:
            fixed.append(item)
    if not fields:
        raise ConfigError("harness ablate needs a swept field: --set key=v1,v2[,...] "
                          "(e.g. --set critics.image_real.temperature=0.5,1,2,5)")
    if len({k for k, _ in fields}) != len(fields):
        raise ConfigError("harness ablate: a field is swept twice")
    points = [dict(zip([k for k, _ in fields], combo)) for combo in itertools.product(*[v for _, v in fields])]
    return Sweep(fixed, fields, points)


def point_name(point: dict[str, str]) -> str:
    """Folder name of one grid point, e.g. 'critics.image_real.temperature=0.5'."""
    return re.sub(r"[^A-Za-z0-9._=,+-]", "_", ",".join(f"{k}={v}" for k, v in point.items()))


def point_sets(sweep: Sweep, point: dict[str, str]) -> list[str]:
    return sweep.fixed + [f"{k}={v}" for k, v in point.items()]


def metric_rows(point: dict, metrics: dict) -> list[dict]:
    rows = []
    for method, entry in metrics["methods"].items():
        row = {**point, "method": method}
        for m in SWEEP_METRICS:
            e = entry[m]
            lo, hi = e["interval"] or (e["value"], e["value"])
            row.update({f"{m}_mean": e["value"], f"{m}_lo": lo, f"{m}_hi": hi, f"{m}_n": e["n"]})
        rows.append(row)
    return rows


def same_image_rows(point: dict, rescored: pd.DataFrame, confidence: float, n_boot: int) -> list[dict]:
    """Means (with intervals) per method of the first run's selected images rescored under `point`."""
    from harness.metrics.stats import bootstrap_interval

    rows = []
    for method, group in rescored.groupby("method", sort=False):
        row = {**point, "method": method}
        for n in SCORE_NAMES:
            vals = group[n].to_numpy()
            lo, hi = bootstrap_interval(vals, np.mean, n_boot, confidence) or (vals.mean(), vals.mean())
            row.update({f"{n}_mean": vals.mean(), f"{n}_lo": lo, f"{n}_hi": hi, f"{n}_n": len(vals)})
        rows.append(row)
    return rows


def selection_changes(dirs: list[Path]) -> list[dict]:
    """Between consecutive grid points: the share of jobs whose selected image differs."""
    out = []
    for a, b in zip(dirs, dirs[1:]):
        jobs_a = {p.parent.name: p.read_bytes() for p in (a / "jobs").glob("*/selected.png")}
        jobs_b = {p.parent.name: p.read_bytes() for p in (b / "jobs").glob("*/selected.png")}
        shared = sorted(set(jobs_a) & set(jobs_b))
        changed = [j for j in shared if jobs_a[j] != jobs_b[j]]
        by_method: dict[str, list[int]] = {}
        for j in shared:
            by_method.setdefault(j.split("__")[1], []).append(int(j in changed))
        out.append({"from": a.name, "to": b.name, "jobs": len(shared), "changed": len(changed),
                    "share": len(changed) / len(shared) if shared else None,
                    "by_method": {m: float(np.mean(v)) for m, v in by_method.items()}})
    return out
