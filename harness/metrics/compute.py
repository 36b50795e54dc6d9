"""All metrics of a run directory, from its stored images and archive, into metrics.json.

Each number has `value`, `n`, `interval` (95 % percentile bootstrap unless stated) and
`higher_is_better`; `harness metrics RUN_DIR` recomputes the file without rerunning the search.
The sections are those of harness.metrics.registry.METRICS, computed in order on one MetricContext.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from harness.config.schema import MetricsConfig, ModelsConfig
from harness.config.typed import from_dict
from harness.critics import CRITICS, SCORE_NAMES
from harness.rundir import JobKey, RunDir
from harness.rundir.archive import picked_rows, selected_rows
from harness.rundir.manifest import job_picks, now, stored_policies

SCHEMA_VERSION = 1
DIRECTIONS = {**{n: CRITICS[n].higher_is_better for n in SCORE_NAMES}, "clipscore": True, "fid": False, "kid": False}


@dataclass
class Evaluator:
    model: object  # a ClipBackbone
    id: str
    search_id: str
    same: bool  # the evaluator is the search's own CLIP


def load_evaluator(cfg: MetricsConfig, models: ModelsConfig, device: str, search_clip=None) -> Evaluator:
    """The CLIPScore judge (harness.models.load_judge) beside the id of the CLIP the search optimised."""
    from harness.models import load_judge, resolve_spec

    model, judge_id, same = load_judge(models, cfg, device, search_clip)
    return Evaluator(model, judge_id, resolve_spec(models).ids()["clip"], same)


@dataclass
class MetricContext:
    """What every metric section reads: the run, its settings, and the picked-image table.

    `jobs` holds one row per finished job: the individual its pick policy chose (`pick`: None = each
    method's own policy). Model outputs per image (CLIPScore, FID features) are cached by image, so
    scoring the picks of several policies scores each image once."""

    rundir: RunDir
    cfg: MetricsConfig
    manifest: dict
    archive: pd.DataFrame
    jobs: pd.DataFrame  # one row per finished job (picked individual); sections may add columns
    evaluator: Evaluator
    reference: str | None = None
    cache_dir: Path | None = None
    directions: dict = field(default_factory=lambda: dict(DIRECTIONS))
    pick: str | None = None  # the policy every method's pick follows here; None = each method's own
    cache: dict = field(default_factory=dict)  # (kind, image path) -> model output, shared across policies

    def image_paths(self, jobs: pd.DataFrame | None = None) -> list[Path]:
        """The stored PNG of each row's individual (the final population's image; selected.png is the same)."""
        jobs = self.jobs if jobs is None else jobs
        return [self.rundir.population_png(JobKey.of(r), int(r.individual)) for r in jobs.itertuples()]

    def selected_images(self):
        import torch

        from harness.rundir.files import load_png

        return torch.stack([load_png(p) for p in self.image_paths()])

    def cached(self, kind: str, paths: list[Path], compute) -> list:
        """Per-image values of `kind` for `paths`, computing (compute(missing paths) -> list) only those not cached."""
        missing = list(dict.fromkeys(p for p in paths if (kind, p) not in self.cache))
        if missing:
            self.cache.update({(kind, p): v for p, v in zip(missing, compute(missing))})
        return [self.cache[(kind, p)] for p in paths]

    def clipscores(self, jobs: pd.DataFrame | None = None):
        """CLIPScore by the evaluator of each row's image with its caption, float64 [N]."""
        import numpy as np
        import torch

        from harness.metrics import clipscore
        from harness.rundir.files import load_png

        jobs = self.jobs if jobs is None else jobs
        captions = dict(zip(self.image_paths(jobs), jobs["caption"]))

        def compute(paths):
            images = torch.stack([load_png(p) for p in paths])
            return list(clipscore.evaluate_clipscore(self.evaluator.model, images, [captions[p] for p in paths]).numpy())
        return np.asarray(self.cached("clipscore", self.image_paths(jobs), compute), dtype=np.float64)

    def rows_under(self, policy: str) -> pd.DataFrame | None:
        """Every job's row picked by `policy` (None when some job has no stored pick for it)."""
        if policy not in stored_policies(self.manifest):
            return None
        return picked_rows(self.archive, job_picks(self.manifest, policy))


def compute_metrics(rundir: RunDir, cfg: MetricsConfig, device: str = "cpu", search_clip=None,
                    reference: str | None = None, cache_dir: Path | None = None) -> dict:
    """Compute every metric of the run in `rundir` and write metrics.json; returns the dict."""
    from harness.metrics.registry import METRICS
    from harness.models.tiny import default_cache_dir

    manifest = rundir.read_manifest()
    archive = rundir.read_archive()
    models = from_dict(ModelsConfig, manifest["config"]["models"], "manifest.json")
    ctx = MetricContext(rundir, cfg, manifest, archive, selected_rows(archive),
                        load_evaluator(cfg, models, device, search_clip), reference,
                        cache_dir or default_cache_dir())
    result = {"schema_version": SCHEMA_VERSION, "computed": now(), "run": str(rundir.path),
              "definitions": {
                  "clipscore": "Hessel et al. 2021: mean over selected images of 2.5 * max(cos(image, caption), 0), "
                               "clamped per image (torchmetrics clamps the mean and scales by 100; not used)",
                  "critic_hacking_gap": "CLIPScore by the search's own CLIP (in-loop text_image) minus CLIPScore by "
                                        "the evaluator, same images",
                  "intervals": f"{int(cfg.confidence * 100)} % percentile bootstrap, {cfg.bootstrap} resamples",
                  "fid": "torchmetrics FrechetInceptionDistance on the chosen features; clamped at 0",
                  "kid": "torchmetrics KernelInceptionDistance; value = mean over subsets, std over subsets",
                  "hypervolume": "pymoo HV of the first front, scores normalized by each critic's range to losses "
                                 "in [0, 1], reference point 1.1 in every objective"},
              "evaluator": {"clip": ctx.evaluator.id, "search_clip": ctx.evaluator.search_id,
                            "same_model": ctx.evaluator.same}}
    for name, section in METRICS.items():
        result[name] = section(ctx)
    result["per_job"] = ctx.jobs.drop(columns=["caption"]).to_dict(orient="records")
    result["by_pick"] = by_pick(ctx)
    rundir.write_metrics(result)
    return result


def by_pick(ctx: MetricContext) -> dict:
    """The pick-dependent sections again with every method's image chosen by each stored policy, so that
    `harness report --pick POLICY` needs no model (images already scored are not scored again)."""
    from harness.metrics.registry import METRICS, PICK_SECTIONS

    out = {}
    for policy in stored_policies(ctx.manifest):
        pctx = replace(ctx, jobs=ctx.rows_under(policy), pick=policy)
        out[policy] = {name: METRICS[name](pctx) for name in PICK_SECTIONS}
        out[policy]["per_job"] = pctx.jobs.drop(columns=["caption"]).to_dict(orient="records")
    return out
