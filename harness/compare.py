"""Paired comparison of runs (or of two methods in one run), matched by (caption, method, seed)."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from harness.critics import SCORE_NAMES
from harness.errors import ConfigError
from harness.metrics.compute import DIRECTIONS
from harness.metrics.paired import paired_difference
from harness.runner.rundir import RunDir

METRICS = [*SCORE_NAMES, "clipscore"]


def job_values(rundir: RunDir) -> pd.DataFrame:
    """One row per finished job: method, caption_id, seed, the selected scores, CLIPScore if computed."""
    archive = rundir.read_archive()
    if archive.empty:
        raise ConfigError(f"{rundir.path}: the archive is empty (no finished job)")
    sel = archive[archive["selected"]][["method", "caption_id", "caption", "seed", *SCORE_NAMES]].copy()
    metrics_path = rundir.path / "metrics.json"
    if metrics_path.is_file():
        per_job = pd.DataFrame(json.loads(metrics_path.read_text()).get("per_job", []))
        if not per_job.empty and "clipscore" in per_job:
            sel = sel.merge(per_job[["method", "caption_id", "seed", "clipscore"]], how="left",
                            on=["method", "caption_id", "seed"])
    return sel.reset_index(drop=True)


def compare_frames(a: pd.DataFrame, b: pd.DataFrame, n_resamples: int, confidence: float) -> dict:
    """Per method present in both, per metric: a - b over matched (caption, seed), with unmatched jobs listed."""
    out = {"methods": {}, "unmatched": {"only_a": [], "only_b": []}}
    keys = ["method", "caption_id", "seed"]
    ka = set(map(tuple, a[keys].to_numpy().tolist()))
    kb = set(map(tuple, b[keys].to_numpy().tolist()))
    out["unmatched"]["only_a"] = sorted(map(list, ka - kb))
    out["unmatched"]["only_b"] = sorted(map(list, kb - ka))
    for method in [m for m in dict.fromkeys(a["method"]) if m in set(b["method"])]:
        ia = a[a["method"] == method].set_index(["caption_id", "seed"])
        ib = b[b["method"] == method].set_index(["caption_id", "seed"])
        entry = {}
        for m in METRICS:
            if m in ia and m in ib and ia[m].notna().any() and ib[m].notna().any():
                entry[m] = paired_difference(ia[m].dropna(), ib[m].dropna(), n_resamples, confidence, DIRECTIONS[m])
        out["methods"][method] = entry
    return out


def describe_mismatch(ma: dict, mb: dict) -> list[str]:
    """Human lines for differences between two runs' suites, seeds and configs (reported, never hidden)."""
    notes = []
    sa, sb = ma.get("suite", {}).get("name"), mb.get("suite", {}).get("name")
    if sa != sb:
        notes.append(f"suites differ: {sa} vs {sb}")
    if ma.get("seeds") != mb.get("seeds"):
        notes.append(f"seeds differ: {ma.get('seeds')} vs {mb.get('seeds')}")
    for section in ("critics", "search", "generator", "models"):
        if ma.get("config", {}).get(section) != mb.get("config", {}).get(section):
            notes.append(f"config section '{section}' differs")
    return notes


def run_label(path: Path) -> str:
    return Path(path).resolve().name
