"""Paired comparison of runs (or of two methods in one run), matched by (caption, method, seed)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from harness.critics import SCORE_NAMES
from harness.metrics.compute import DIRECTIONS
from harness.metrics.paired import paired_difference

METRICS = [*SCORE_NAMES, "clipscore"]


def compare_frames(a: pd.DataFrame, b: pd.DataFrame, n_resamples: int, confidence: float) -> dict:
    """Per method present in both, per metric: a - b over matched (caption, seed), with unmatched jobs listed.

    A caption id whose text differs between the runs is not paired: it is listed under
    `caption_text_differs` as [id, text in a, text in b] and its jobs count as unmatched."""
    out = {"methods": {}, "unmatched": {"only_a": [], "only_b": []}, "caption_text_differs": []}
    text_a = dict(zip(a["caption_id"], a["caption"]))
    text_b = dict(zip(b["caption_id"], b["caption"]))
    differs = sorted(c for c in set(text_a) & set(text_b) if text_a[c] != text_b[c])
    out["caption_text_differs"] = [[c, text_a[c], text_b[c]] for c in differs]
    a = a.assign(caption_id=a["caption_id"].where(~a["caption_id"].isin(differs), a["caption_id"] + " (run a)"))
    b = b.assign(caption_id=b["caption_id"].where(~b["caption_id"].isin(differs), b["caption_id"] + " (run b)"))
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


def compare_fid(metrics_a: dict | None, metrics_b: dict | None, label_a: str, label_b: str) -> tuple[dict, list[str]]:
    """FID/KID of each method's selected images, a - b, only where both runs used the same N (FID moves
    with N); every method left out gets one note naming both N."""
    diffs, notes = {}, []
    fa = (metrics_a or {}).get("fid_kid", {}).get("methods", {})
    fb = (metrics_b or {}).get("fid_kid", {}).get("methods", {})
    for method in [m for m in fa if m in fb]:
        a, b = fa[method].get("selected", {}), fb[method].get("selected", {})
        if a.get("fid", {}).get("value") is None or b.get("fid", {}).get("value") is None:
            continue
        na, nb = a["fid"]["n"], b["fid"]["n"]
        if na != nb:
            notes.append(f"FID of {method} not compared: N = {na} in {label_a} vs N = {nb} in {label_b} "
                         "(FID depends on N; compare FIDs only at equal N)")
            continue
        entry = {"n": na, "fid": a["fid"]["value"] - b["fid"]["value"], "higher_is_better": False}
        if a.get("kid", {}).get("value") is not None and b.get("kid", {}).get("value") is not None:
            entry["kid"] = a["kid"]["value"] - b["kid"]["value"]
        diffs[method] = entry
    return diffs, notes
