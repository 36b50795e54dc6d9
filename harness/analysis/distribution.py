"""The final distribution with and without a critic, in numbers (the seed report's question).

Per (caption, seed), a variant's final population against the full method's (same shared initial latents):

* every critic's distribution: the shift of its 10, 50 and 90 % quantiles (numpy's default linear
  quantiles, variant - full) and the Wasserstein-1 distance (`scipy.stats.wasserstein_distance`);
* the front: both populations' first fronts in the objectives either method optimised, normalised by one
  range shared by both (the two populations' joint min and max per objective), their hypervolumes (pymoo's HV
  via harness.metrics.hypervolume) and the share of each front some point of the other front dominates;
* diversity: the mean pairwise Euclidean distance of the population's CLIP image embeddings (unit-normalised,
  by the metrics' CLIPScore model, cached by image hash) and, for class genomes, the distinct top classes.

Each per-(caption, seed) value becomes a [C, S] matrix and is summarised over captions as every other number of
the harness (harness.metrics.evidence): signed statistics as paired differences with their interval and Wilcoxon p
over captions (Benjamini-Hochberg over this section's tests); Wasserstein-1, a distance, with its interval only.
Held-out judges score the picked images, not populations: their distributions are not measured here.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

QUANTILES = (0.1, 0.5, 0.9)
JUDGES_NOTE = ("the held-out judges score only the picked image of each job (one per pick policy), not the final "
               "population: their distributions are not measured; their effect on the picked images is in the answer")


def quantile_shifts(a: np.ndarray, b: np.ndarray) -> dict:
    """a, b: one critic's scores in two populations -> {'q10', 'q50', 'q90' (a - b), 'w1'}."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    qa, qb = np.quantile(a, QUANTILES), np.quantile(b, QUANTILES)
    out = {f"q{round(q * 100)}": float(x - y) for q, x, y in zip(QUANTILES, qa, qb)}
    out["w1"] = float(stats.wasserstein_distance(a, b))
    return out


def first_front(losses: np.ndarray) -> np.ndarray:
    from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

    return losses[NonDominatedSorting().do(losses, only_non_dominated_front=True)]


def dominated_share(front: np.ndarray, other: np.ndarray) -> float:
    """The share of `front`'s points (losses) that some point of `other` dominates (pymoo's Dominator)."""
    from pymoo.util.dominator import Dominator

    if len(front) == 0 or len(other) == 0:
        return 0.0
    m = Dominator.calc_domination_matrix(front, other)  # [i, j] = -1: front[i] is dominated by other[j]
    return float((m == -1).any(axis=1).mean())


def fronts(a: np.ndarray, b: np.ndarray, higher: list[bool]) -> dict:
    """a [N, M], b [K, M]: scores of two populations on the same objectives -> hypervolume of each first front
    under one shared normalisation, and the share of each front the other's front dominates."""
    from harness.metrics.hypervolume import hypervolume

    sign = np.where(higher, 1.0, -1.0)
    a, b = a * sign, b * sign  # higher is better from here on
    both = np.vstack([a, b])
    lo, hi = both.min(axis=0), both.max(axis=0)
    hi = np.where(hi > lo, hi, lo + 1.0)
    ranges = list(zip(lo, hi))
    la, lb = (1.0 - (x - lo) / (hi - lo) for x in (a, b))  # losses in [0, 1]
    fa, fb = first_front(la), first_front(lb)
    return {"hv_variant": hypervolume(1.0 - fa, [(0.0, 1.0)] * a.shape[1]) if len(fa) else 0.0,
            "hv_full": hypervolume(1.0 - fb, [(0.0, 1.0)] * a.shape[1]) if len(fb) else 0.0,
            "variant_front_dominated": dominated_share(fa, fb), "full_front_dominated": dominated_share(fb, fa),
            "ranges": [[float(x), float(y)] for x, y in ranges]}


def mean_pairwise_distance(embeddings: np.ndarray) -> float | None:
    from scipy.spatial.distance import pdist

    e = np.asarray(embeddings, dtype=np.float64)
    if len(e) < 2:
        return None
    e = e / np.linalg.norm(e, axis=1, keepdims=True).clip(min=1e-12)
    return float(pdist(e).mean())


def distinct_classes(pop: pd.DataFrame) -> int | None:
    if "top_class" not in pop or not (pop["top_class"] >= 0).any():
        return None
    return int(pop.loc[pop["top_class"] >= 0, "top_class"].nunique())


def job_rows(finals: dict, base: str, variant: str, critics: list[str], objectives: list[str],
             higher: dict[str, bool], embeddings: dict | None = None) -> list[dict]:
    """One row per (caption, seed) both methods finished: every statistic of the variant against the full method.
    finals: (method, caption_id, seed) -> final population rows; embeddings: the same key -> [N, D] or absent."""
    rows = []
    for (method, caption_id, seed), pop_b in finals.items():
        if method != base or (variant, caption_id, seed) not in finals:
            continue
        pop_a = finals[(variant, caption_id, seed)]
        row = {"caption_id": caption_id, "seed": int(seed)}
        for c in critics:
            a, b = pop_a[c].to_numpy(dtype=np.float64), pop_b[c].to_numpy(dtype=np.float64)
            a, b = a[np.isfinite(a)], b[np.isfinite(b)]
            if len(a) and len(b):
                row.update({f"{c}|{k}": v for k, v in quantile_shifts(a, b).items()})
        cols = [o for o in objectives if o in pop_a and o in pop_b]
        if cols:
            f = fronts(pop_a[cols].to_numpy(dtype=np.float64), pop_b[cols].to_numpy(dtype=np.float64),
                       [higher.get(o, True) for o in cols])
            row.update({k: v for k, v in f.items() if k != "ranges"})
        for side, key in (("variant", (variant, caption_id, seed)), ("full", (base, caption_id, seed))):
            if embeddings is not None and embeddings.get(key) is not None:
                row[f"diversity_{side}"] = mean_pairwise_distance(embeddings[key])
            row[f"classes_{side}"] = distinct_classes(finals[key])
        rows.append(row)
    return rows


def summarise(rows: list[dict], critics: list[str], cfg) -> dict:
    """The per-(caption, seed) rows of one variant summarised over captions (harness.metrics.evidence)."""
    from harness.metrics import evidence

    table = pd.DataFrame(rows)
    if table.empty:
        return {"critics": {}, "front": {}, "diversity": {}}
    design = evidence.Design.of(table)

    def paired(a: str, b: str | None = None, higher: bool = True) -> dict | None:
        if a not in table or not np.isfinite(pd.to_numeric(table[a], errors="coerce")).any():
            return None
        ma = design.matrix(table, a)
        mb = design.matrix(table, b) if b else np.zeros_like(ma)
        return evidence.paired_entry(ma, mb, design, cfg.bootstrap, cfg.confidence, higher)

    out = {"critics": {}, "front": {}, "diversity": {}}
    for c in critics:
        entry = {f"q{round(q * 100)}": paired(f"{c}|q{round(q * 100)}") for q in QUANTILES}
        if f"{c}|w1" in table:
            entry["w1"] = evidence.describe(design.matrix(table, f"{c}|w1"), design, cfg.bootstrap, cfg.confidence,
                                            None)
        out["critics"][c] = {k: v for k, v in entry.items() if v is not None}
    out["front"] = {k: v for k, v in {
        "hypervolume": paired("hv_variant", "hv_full"),
        "dominated_share": paired("full_front_dominated", "variant_front_dominated"),
    }.items() if v is not None}
    out["diversity"] = {k: v for k, v in {
        "clip_distance": paired("diversity_variant", "diversity_full"),
        "distinct_classes": paired("classes_variant", "classes_full"),
    }.items() if v is not None}
    return out


def tested_entries(summary: dict) -> list[dict]:
    """Every entry of a summary with a p-value (the section's family of tests)."""
    out = [e for c in summary["critics"].values() for k, e in c.items() if k != "w1"]
    return out + list(summary["front"].values()) + list(summary["diversity"].values())


def population_embeddings(rundir, finals: dict, metrics_cfg, device: str = "cpu") -> tuple[dict, str | None]:
    """(method, caption_id, seed) -> [N, D] unit CLIP image embeddings of the stored final-population PNGs, by the
    metrics' CLIPScore model (loaded only when some embedding is not cached), and a note when none could be made
    (the run kept no population images). Values go through the run's score cache (harness.metrics.cache)."""
    import torch

    from harness.config.schema import ModelsConfig
    from harness.config.typed import from_dict
    from harness.metrics.cache import FOLDER, ScoreCache
    from harness.metrics.compute import load_evaluator
    from harness.rundir import JobKey
    from harness.rundir.files import load_pngs

    paths = {key: [rundir.population_png(JobKey(key[1], key[0], int(key[2])), int(i)) for i in pop["individual"]]
             for key, pop in finals.items()}
    paths = {k: v for k, v in paths.items() if len(v) > 1 and all(p.is_file() for p in v)}
    if not paths:
        return {}, "no job of the run has its final-population images stored: no CLIP diversity"
    models = from_dict(ModelsConfig, rundir.read_manifest()["config"]["models"], "manifest.json")
    evaluator = load_evaluator(metrics_cfg.clipscore_config(), models, device)
    store = ScoreCache(rundir.path / FOLDER)

    def compute(missing):
        return list(evaluator.model.encode_image(torch.stack(load_pngs(missing))).cpu().numpy())
    out = {key: np.stack(store.get_many(f"embedding|{evaluator.id}", files, compute)) for key, files in paths.items()}
    store.save()
    return out, None
