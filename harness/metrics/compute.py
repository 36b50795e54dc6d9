"""All metrics of a run directory, from its stored images and archive, into metrics.json.

Each number has `value`, `n`, `interval` (95 % percentile bootstrap unless stated) and
`higher_is_better`; `harness metrics RUN_DIR` recomputes the file without rerunning the search.
"""
from __future__ import annotations

from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from harness.config.schema import MetricsConfig, ModelsConfig
from harness.config.typed import from_dict
from harness.critics import CRITICS, SCORE_NAMES
from harness.io import load_png, write_json
from harness.metrics import clipscore, convergence, correlations, fid, paired
from harness.metrics.stats import bootstrap_interval, value_entry
from harness.runner.manifest import now
from harness.runner.rundir import RunDir

SCHEMA_VERSION = 1
DIRECTIONS = {**{n: CRITICS[n].higher_is_better for n in SCORE_NAMES}, "clipscore": True, "fid": False, "kid": False}


def search_clip_spec(manifest: dict):
    from harness.models.profiles import resolve_spec

    return resolve_spec(from_dict(ModelsConfig, manifest["config"]["models"], "manifest.json"))


def load_evaluator(cfg: MetricsConfig, manifest: dict, device: str, search_clip=None):
    """(evaluator CLIP, its id, the search CLIP's id, same model?)."""
    from harness.models.clip import load_clip
    from harness.models.profiles import clip_weights_file

    spec = search_clip_spec(manifest)
    search_id = spec.ids()["clip"]
    if cfg.evaluator_clip == "search":
        if search_clip is None:
            pretrained = spec.clip_pretrained
            if pretrained and not spec.clip.startswith("local-dir:"):
                pretrained = str(clip_weights_file(spec.clip, pretrained))
            search_clip = load_clip(spec.clip, pretrained, device, tag=spec.clip_pretrained)
        return search_clip, search_id, search_id, True
    pretrained = cfg.evaluator_pretrained
    if pretrained and not cfg.evaluator_clip.startswith("local-dir:"):
        pretrained = str(clip_weights_file(cfg.evaluator_clip, pretrained))
    evaluator = load_clip(cfg.evaluator_clip, pretrained, device, tag=cfg.evaluator_pretrained)
    eval_id = f"{cfg.evaluator_clip}/{cfg.evaluator_pretrained or 'random'}"
    return evaluator, eval_id, search_id, eval_id == search_id


def job_table(archive: pd.DataFrame) -> pd.DataFrame:
    """One row per finished job: the selected individual's scores."""
    sel = archive[archive["selected"]].copy()
    return sel[["method", "caption_id", "caption", "seed", *SCORE_NAMES]].reset_index(drop=True)


def final_population(archive: pd.DataFrame) -> dict[tuple, pd.DataFrame]:
    out = {}
    for key, job in archive.groupby(["method", "caption_id", "seed"], sort=False):
        out[key] = job[job["generation"] == job["generation"].max()]
    return out


def job_folder(rundir: RunDir, method: str, caption_id: str, seed: int) -> Path:
    return rundir.job_dir(f"{caption_id}__{method}__s{seed}")


def compute_metrics(rundir: RunDir, cfg: MetricsConfig, device: str = "cpu", search_clip=None,
                    reference: str | None = None, cache_dir: Path | None = None) -> dict:
    """Compute every metric of the run in `rundir` and write metrics.json; returns the dict."""
    from harness.models.tiny import default_cache_dir

    manifest = rundir.read_manifest()
    archive = rundir.read_archive()
    jobs = job_table(archive)
    n_boot, conf = cfg.bootstrap, cfg.confidence
    evaluator, eval_id, search_id, same = load_evaluator(cfg, manifest, device, search_clip)

    selected_images = torch.stack([load_png(job_folder(rundir, r.method, r.caption_id, r.seed) / "selected.png")
                                   for r in jobs.itertuples()])
    jobs["clipscore"] = clipscore.evaluate_clipscore(evaluator, selected_images, list(jobs["caption"])).numpy()
    jobs["clipscore_search"] = clipscore.clipscore_from_cosine(jobs["text_image"].to_numpy()).numpy()

    result = {"schema_version": SCHEMA_VERSION, "computed": now(), "run": str(rundir.path),
              "definitions": {
                  "clipscore": "Hessel et al. 2021: mean over selected images of 2.5 * max(cos(image, caption), 0), "
                               "clamped per image (torchmetrics clamps the mean and scales by 100; not used)",
                  "critic_hacking_gap": "CLIPScore by the search's own CLIP (in-loop text_image) minus CLIPScore by "
                                        "the evaluator, same images",
                  "intervals": f"{int(conf * 100)} % percentile bootstrap, {n_boot} resamples",
                  "fid": "torchmetrics FrechetInceptionDistance on the chosen features; clamped at 0",
                  "kid": "torchmetrics KernelInceptionDistance; value = mean over subsets, std over subsets",
                  "hypervolume": "pymoo HV of the first front, scores normalized by each critic's range to losses "
                                 "in [0, 1], reference point 1.1 in every objective"},
              "evaluator": {"clip": eval_id, "search_clip": search_id, "same_model": same}}

    by_method = {}
    for method, group in jobs.groupby("method", sort=False):
        entry = {"n_captions": int(group["caption_id"].nunique()), "n_seeds": int(group["seed"].nunique())}
        for name in SCORE_NAMES:
            vals = group[name].to_numpy()
            entry[name] = value_entry(vals.mean(), len(vals), bootstrap_interval(vals, np.mean, n_boot, conf),
                                      DIRECTIONS[name])
        cs = group["clipscore"].to_numpy()
        entry["clipscore"] = value_entry(cs.mean(), len(cs), bootstrap_interval(cs, np.mean, n_boot, conf), True,
                                         evaluator=eval_id)
        gap = (group["clipscore_search"] - group["clipscore"]).to_numpy()
        entry["clipscore_search_model"] = value_entry(group["clipscore_search"].mean(), len(gap), bootstrap_interval(
            group["clipscore_search"].to_numpy(), np.mean, n_boot, conf), True, evaluator=search_id)
        entry["critic_hacking_gap"] = value_entry(gap.mean(), len(gap), bootstrap_interval(gap, np.mean, n_boot, conf),
                                                  False, same_model=same)
        by_method[str(method)] = entry
    result["methods"] = by_method
    result["fid_kid"] = _fid_kid(rundir, cfg, jobs, archive, evaluator, reference, cache_dir or default_cache_dir())
    result["correlations"] = _correlations(archive, n_boot, conf)
    result["convergence"] = convergence.convergence(archive)
    result["paired"] = _paired(jobs, n_boot, conf)
    result["per_job"] = jobs.drop(columns=["caption"]).to_dict(orient="records")
    write_json(rundir.path / "metrics.json", result)
    return result


def _fid_kid(rundir, cfg, jobs, archive, evaluator, reference, cache_dir) -> dict:
    ref = reference or cfg.reference
    if not ref:
        return {"skipped": "no reference set configured: set metrics.reference to a folder of real images or a "
                           ".npz statistics file (suite.yaml or --reference)"}
    extractor = fid.make_extractor(cfg.fid_features, evaluator)
    reference_data = fid.load_reference(ref, extractor, cache_dir)
    out = {"reference": reference_data["source"], "features": getattr(extractor, "name", cfg.fid_features),
           "methods": {}}
    finals = final_population(archive)
    for method, group in jobs.groupby("method", sort=False):
        sets = {"selected": [job_folder(rundir, method, r.caption_id, r.seed) / "selected.png"
                             for r in group.itertuples()],
                "population": [job_folder(rundir, method, cid, seed) / "population" / f"{i:04d}.png"
                               for (m, cid, seed), pop in finals.items() if m == method
                               for i in range(len(pop))]}
        entry = {}
        for which, files in sets.items():
            feats = fid.extract_list(extractor, [load_png(p) for p in files])
            entry[which] = _fid_entry(feats, reference_data, cfg)
        out["methods"][str(method)] = entry
    return out


def _fid_entry(feats: torch.Tensor, ref: dict, cfg: MetricsConfig) -> dict:
    n = len(feats)
    if n < 2:
        return {"fid": value_entry(None, n, None, False, note="FID needs at least 2 images"),
                "kid": value_entry(None, n, None, False, note="KID needs at least 2 images")}
    if "features" in ref:
        n_ref = len(ref["features"])
        fid_value = fid.fid_from_features(feats, ref["features"])
        kid_mean, kid_std, size = fid.kid_from_features(feats, ref["features"], cfg.kid_subset_size, cfg.kid_subsets)
        return {"fid": value_entry(fid_value, n, None, False, n_reference=n_ref),
                "kid": value_entry(kid_mean, n, None, False, std=kid_std, subset_size=size, subsets=cfg.kid_subsets,
                                   n_reference=n_ref)}
    return {"fid": value_entry(fid.fid_from_stats(feats, ref["mu"], ref["sigma"]), n, None, False,
                               n_reference=ref.get("n")),
            "kid": value_entry(None, n, None, False, note="the reference file holds only mu/sigma: KID skipped")}


def _correlations(archive: pd.DataFrame, n_boot: int, conf: float) -> dict:
    out = {}
    per_method: dict[str, dict] = {}
    for (method, cid, seed), pop in final_population(archive).items():
        if len(pop) < 3:
            continue
        per_method.setdefault(str(method), {})[f"{cid}__s{seed}"] = correlations.job_correlations(
            pop, max(100, n_boot // 5), conf)
    for method, per_job in per_method.items():
        out[method] = {"mean": correlations.aggregate(per_job, n_boot, conf), "per_job": per_job}
    return out


def _paired(jobs: pd.DataFrame, n_boot: int, conf: float) -> list[dict]:
    """Every pair of methods, the later one in the suite's order first (a - b: positive = a is higher)."""
    methods = list(dict.fromkeys(jobs["method"]))
    return [{"a": a, "b": b, "metrics": paired.compare_methods(jobs, [*SCORE_NAMES, "clipscore"], a, b, n_boot, conf,
                                                                DIRECTIONS)}
            for b, a in combinations(methods, 2)]
