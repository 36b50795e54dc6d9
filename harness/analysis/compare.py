"""Paired comparison of runs (or of two methods in one run), matched by (caption, method, seed)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from harness.metrics.paired import paired_difference

KEYS = ("method", "caption_id", "caption", "seed", "individual")


def value_columns(frame: pd.DataFrame) -> list[str]:
    """The scores of a job table: its critics' and judges' columns."""
    return [c for c in frame.columns if c not in KEYS]


def compare_frames(a: pd.DataFrame, b: pd.DataFrame, n_resamples: int, confidence: float) -> dict:
    """Per method present in both, per metric: a - b over matched (caption, seed), with unmatched jobs listed.

    A caption id whose text differs between the runs is not paired: it is listed under
    `caption_text_differs` as [id, text in a, text in b] and its jobs count as unmatched."""
    out = {"methods": {}, "unmatched": {"only_a": [], "only_b": []}, "caption_text_differs": [],
           "scores_only_a": [c for c in value_columns(a) if c not in b], "scores_only_b": [c for c in value_columns(b)
                                                                                      if c not in a]}
    metrics = [c for c in value_columns(a) if c in b]  # the critics and judges both runs have
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
        ia, ib = a[a["method"] == method], b[b["method"] == method]
        entry = {}
        for m in metrics:
            if ia[m].notna().any() and ib[m].notna().any():
                entry[m] = paired_difference(ia, ib, m, n_resamples, confidence, True)  # critics and judges: higher is better
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
    spent = [{(r["method"], r["nfe"]) for r in m.get("jobs", []) if r.get("nfe") is not None} for m in (ma, mb)]
    shared = {method for method, _ in spent[0]} & {method for method, _ in spent[1]}
    differ = sorted({method for method, _ in spent[0] ^ spent[1]} & shared)
    if differ:
        notes.append(f"compute differs (NFE per job) for {', '.join(differ)}: not an equal-compute comparison")
    return notes


def run_label(path: Path) -> str:
    return Path(path).resolve().name


def fid_refusal(sa: dict, sb: dict, label_a: str, label_b: str) -> str | None:
    """Why the FIDs/KIDs of two runs' fid_kid sections cannot be subtracted at all, or None: a difference
    means something only against the same reference statistics (same file or folder hash) and the same
    feature extractor."""
    if sa.get("features") != sb.get("features"):
        return (f"FID/KID not compared: {label_a} used features {sa.get('features')} and {label_b} "
                f"{sb.get('features')} (distances in different feature spaces do not subtract)")
    ha, hb = sa.get("reference_sha256"), sb.get("reference_sha256")
    if ha is None or hb is None:
        missing = label_a if ha is None else label_b
        return (f"FID/KID not compared: {missing} does not record which reference statistics it used (metrics "
                "written before reference hashes were kept; rerun `harness metrics` on it)")
    if ha != hb:
        return (f"FID/KID not compared: the runs used different reference sets ({sa.get('reference')} in {label_a}, "
                f"{sb.get('reference')} in {label_b}: sha256 {ha[:12]} vs {hb[:12]})")
    return None


def compare_fid(metrics_a: dict | None, metrics_b: dict | None, label_a: str, label_b: str) -> tuple[dict, list[str]]:
    """FID/KID of each method's selected images, a - b, only against the same reference statistics and
    extractor, and where both runs used the same N (FID moves with N); every method left out gets one note.
    An FID that is unreliable on either side (N <= d) keeps its marker (`reliable: false`)."""
    diffs, notes = {}, []
    sa, sb = (metrics_a or {}).get("fid_kid", {}), (metrics_b or {}).get("fid_kid", {})
    fa, fb = sa.get("methods", {}), sb.get("methods", {})
    shared = [m for m in fa if m in fb]
    if not shared:
        return diffs, notes
    why = fid_refusal(sa, sb, label_a, label_b)
    if why:
        return diffs, [why]
    for method in shared:
        a, b = fa[method].get("selected", {}), fb[method].get("selected", {})
        if a.get("fid", {}).get("value") is None or b.get("fid", {}).get("value") is None:
            continue
        na, nb = a["fid"]["n"], b["fid"]["n"]
        if na != nb:
            notes.append(f"FID of {method} not compared: N = {na} in {label_a} vs N = {nb} in {label_b} "
                         "(FID depends on N; compare FIDs only at equal N)")
            continue
        reliable = a["fid"].get("reliable", True) is not False and b["fid"].get("reliable", True) is not False
        entry = {"n": na, "fid": a["fid"]["value"] - b["fid"]["value"], "higher_is_better": False,
                 "reliable": reliable, "feature_dim": a["fid"].get("feature_dim")}
        if a.get("kid", {}).get("value") is not None and b.get("kid", {}).get("value") is not None:
            entry["kid"] = a["kid"]["value"] - b["kid"]["value"]
        diffs[method] = entry
    return diffs, notes
