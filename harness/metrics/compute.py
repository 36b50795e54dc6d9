"""All metrics of a run directory, from its stored images and archive, into metrics.json.

Each number has `value`, `n`, `interval` (95 % percentile bootstrap unless stated) and
`higher_is_better`; `harness metrics RUN_DIR` recomputes the file without rerunning the search.
The sections are those of harness.metrics.registry (built-ins, then metrics.plugins), computed in order on one
MetricContext.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

import pandas as pd

from harness.config.schema import MetricsConfig, ModelsConfig
from harness.config.typed import from_dict
from harness.metrics.cache import FOLDER as CACHE_FOLDER, ScoreCache
from harness.rundir import JobKey, RunDir
from harness.rundir.archive import picked_rows, selected_rows
from harness.rundir.manifest import job_picks, now, stored_policies

SCHEMA_VERSION = 2  # 2: intervals over captions (unit, captions, seeds), the answer section, judges scored as
# their authors do (new judge ids), one hacking-gap definition (z), Kendall's W tie-corrected
DIRECTIONS = {"clipscore": True, "fid": False, "kid": False}  # critics and judges: higher is better unless recorded


def directions(manifest: dict) -> dict:
    """higher_is_better of every critic the manifest records (the Critic contract's default: True), judges
    and FID/KID."""
    return {**{c["name"]: bool(c.get("higher_is_better", True)) for c in manifest.get("critics", [])}, **DIRECTIONS}


@dataclass
class Evaluator:
    """The CLIPScore judge; its model loads on first use, so metrics served from the cache load none."""

    loader: object  # () -> ClipBackbone
    id: str
    search_id: str
    same: bool  # the evaluator is the search's own CLIP
    label: str  # the loaded ClipBackbone's name (FID feature extractors and built references carry it)

    @cached_property
    def model(self):
        return self.loader()


def load_evaluator(cfg: MetricsConfig, models: ModelsConfig, device: str, search_clip=None) -> Evaluator:
    """The CLIPScore judge (harness.models.load_judge, deferred) beside the id of the CLIP the search optimised."""
    from harness.models import load_judge, resolve_spec
    from harness.models.profiles import clip_id, evaluator_spec

    name, pretrained, same = evaluator_spec(models, cfg)
    label = search_clip.name if same and search_clip is not None else f"{name}/{pretrained or 'random'}"
    return Evaluator(lambda: load_judge(models, cfg, device, search_clip)[0], clip_id(name, pretrained),
                     resolve_spec(models).ids()["clip"], same, label)


@dataclass
class MetricContext:
    """What every metric section reads: the run, its settings, and the picked-image table.

    `jobs` holds one row per finished job: the individual its pick policy chose (`pick`: None = each
    method's own policy). Model outputs per image (CLIPScore, FID features) are cached by image, so
    scoring the picks of several policies scores each image once."""

    rundir: RunDir
    cfg: MetricsConfig
    manifest: dict
    archive: pd.DataFrame  # each job's final generation (RunDir.read_final); every generation: rundir.archive_jobs()
    jobs: pd.DataFrame  # one row per finished job (picked individual); sections may add columns
    evaluator: Evaluator
    reference: str | None = None
    cache_dir: Path | None = None
    directions: dict = field(default_factory=lambda: dict(DIRECTIONS))  # missing names: higher is better
    pick: str | None = None  # the policy every method's pick follows here; None = each method's own
    store: ScoreCache = field(default_factory=lambda: ScoreCache(None))  # model outputs by image hash (cache.py)
    judges: dict = field(default_factory=dict)  # panel judge name -> a loaded judge (harness.judges.panel)
    judge_sources: dict = field(default_factory=dict)  # plugin judge name -> its provenance
    clipscore: bool = True  # is CLIPScore among metrics.evaluators

    @cached_property
    def critic_names(self) -> list[str]:
        """The run's critics (its archive's score columns, in the order the manifest records)."""
        from harness.rundir.archive import score_columns

        return score_columns(self.archive, self.manifest)

    @cached_property
    def picked_columns(self) -> list[str]:
        from harness.rundir.archive import KEY_COLUMNS

        return [*KEY_COLUMNS, *self.critic_names]

    @cached_property
    def design(self):
        """The captions and seeds of the job table: every interval over methods resamples them
        (harness.metrics.evidence), the same resamples for every method and column."""
        from harness.metrics.evidence import Design

        return Design.of(self.jobs)

    def judge_columns(self) -> list[str]:
        """The held-out judges scored in the job table: CLIPScore (when configured), then the panel."""
        return (["clipscore"] if "clipscore" in self.jobs else []) + [n for n in self.judges if n in self.jobs]

    def judge_info(self, name: str) -> dict:
        if name == "clipscore":
            return {"id": self.evaluator.id, "range": [0.0, 2.5], "same_as_search": self.evaluator.same}
        judge = self.judges[name]
        return {"id": judge.id, "range": list(judge.score_range), "same_as_search": False}

    def judge_details(self, name: str, jobs: pd.DataFrame | None = None) -> list:
        """A judge's per-image details (JSON strings; judges with `details`, such as geneval), cached per image;
        None where the image is not stored."""
        import numpy as np

        judge = self.judges[name]
        jobs = self.jobs if jobs is None else jobs
        objects = [self.caption_of(c, t) for c, t in zip(jobs["caption_id"], jobs["caption"])]
        paths = self.image_paths(jobs)
        captions = dict(zip(paths, objects))

        def compute(missing):
            import torch

            from harness.rundir.files import load_pngs

            return judge.details(torch.stack(load_pngs(missing)), [captions[p] for p in missing])
        here = [i for i, p in enumerate(paths) if p.is_file()]
        out = [None] * len(paths)
        values = self.cached(f"{name}-details|{judge.id}", [paths[i] for i in here], compute,
                             [objects[i].context() for i in here]) if here else []
        for i, v in zip(here, values):
            out[i] = str(np.asarray(v))
        return out

    def judge_scores(self, name: str, jobs: pd.DataFrame | None = None):
        """Judge `name`'s score of each row's image with its caption, float64 [N] (cached per image)."""
        judge = self.judges[name]
        if hasattr(judge, "details"):  # one pass per image: the score is read off its details
            import numpy as np

            from harness.judges.geneval import outcome

            return np.array([np.nan if d is None else outcome(d) for d in self.judge_details(name, jobs)])
        return self.score_images(f"{name}|{judge.id}", self.jobs if jobs is None else jobs, judge.score)

    @cached_property
    def captions(self) -> dict:
        """caption_id -> the caption object (id, text, tags, requirements) the manifest records."""
        from harness.suites.captions import Caption

        return {c["id"]: Caption(c["id"], c["caption"], tuple(c.get("tags", [])), requirements=c.get("requires"))
                for c in self.manifest.get("suite", {}).get("captions", [])}

    def caption_of(self, caption_id: str, text: str):
        from harness.suites.captions import Caption

        known = self.captions.get(caption_id)
        return known if known is not None and known.text == text else Caption(caption_id, text)

    def score_images(self, kind: str, jobs: pd.DataFrame, score):
        """score(images, captions) -> [N] on each row's stored image with its caption object, through the cache."""
        import torch

        from harness.rundir.files import load_pngs

        objects = [self.caption_of(c, t) for c, t in zip(jobs["caption_id"], jobs["caption"])]
        captions = dict(zip(self.image_paths(jobs), objects))  # one path per job, so one caption

        def compute(missing):
            return list(score(torch.stack(load_pngs(missing)), [captions[p] for p in missing]))
        return self.scored(kind, jobs, compute, [c.context() for c in objects])

    def image_paths(self, jobs: pd.DataFrame | None = None) -> list[Path]:
        """The stored PNG of each row's individual: the final population's image, or selected.png (the same
        image) where the population images were not kept."""
        jobs = self.jobs if jobs is None else jobs
        selected = self.selected_index
        out = []
        for r in jobs.itertuples():
            key = JobKey.of(r)
            path = self.rundir.population_png(key, int(r.individual))
            if selected.get(key) == int(r.individual) and not path.is_file():
                path = self.rundir.selected_png(key)
            out.append(path)
        return out

    @cached_property
    def selected_index(self) -> dict:
        """JobKey -> the index of the method's own selected individual."""
        sel = self.archive.loc[self.archive["selected"], ["caption_id", "method", "seed", "individual"]]
        return {JobKey(c, m, int(s)): int(i) for c, m, s, i in sel.itertuples(index=False)}

    def cached(self, kind: str, paths: list[Path], compute, captions: list[str] | None = None) -> list:
        """Per-image values of `kind` (which names the model) for `paths` (with their captions when the value
        depends on one), computing (compute(missing paths) -> list) only those not in the store."""
        return self.store.get_many(kind, paths, compute, captions)

    def scored(self, kind: str, jobs: pd.DataFrame, compute, contexts: list[str] | None = None):
        """One float per row for the images that are stored (NaN where a run kept no population images)."""
        import numpy as np

        paths, texts = self.image_paths(jobs), contexts or list(jobs["caption"])
        here = [i for i, p in enumerate(paths) if p.is_file()]
        out = np.full(len(paths), np.nan)
        if here:
            out[here] = np.asarray(self.cached(kind, [paths[i] for i in here], compute, [texts[i] for i in here]),
                                   dtype=np.float64)
        return out

    def clipscores(self, jobs: pd.DataFrame | None = None):
        """CLIPScore by the evaluator of each row's image with its caption, float64 [N]."""
        from harness.metrics import clipscore

        def score(images, captions):
            return clipscore.evaluate_clipscore(self.evaluator.model, images, [c.text for c in captions]).numpy()
        return self.score_images(f"clipscore|{self.evaluator.id}", self.jobs if jobs is None else jobs, score)

    def rows_under(self, policy: str) -> pd.DataFrame | None:
        """Every job's row picked by `policy` (None when some job has no stored pick for it)."""
        if policy not in stored_policies(self.manifest):
            return None
        return picked_rows(self.archive, job_picks(self.manifest, policy))


def compute_metrics(rundir: RunDir, cfg: MetricsConfig, device: str = "cpu", search_clip=None,
                    reference: str | None = None, cache_dir: Path | None = None) -> dict:
    """Compute every metric of the run in `rundir` and write metrics.json; returns the dict."""
    from harness.metrics.registry import sections
    from harness.models.cache import default_cache_dir

    import time

    clock = {"start": time.perf_counter()}
    timings = {}

    def lap(name: str) -> None:
        now_ = time.perf_counter()
        timings[name] = round(now_ - clock["start"], 3)
        clock["start"] = now_

    manifest = rundir.read_manifest()
    archive = rundir.read_final()
    lap("read archive")
    registered = sections(cfg.plugins)
    models = from_dict(ModelsConfig, manifest["config"]["models"], "manifest.json")
    ctx = MetricContext(rundir, cfg, manifest, archive, selected_rows(archive),
                        load_evaluator(cfg.clipscore_config(), models, device, search_clip), reference,
                        cache_dir or default_cache_dir(), store=ScoreCache(rundir.path / CACHE_FOLDER),
                        clipscore=any(e.name == "clipscore" for e in cfg.judge_entries()), directions=directions(manifest))
    ctx.judges, ctx.judge_sources = load_judges(cfg.panel(), models, device, cfg)
    lap("load models")
    result = {"schema_version": SCHEMA_VERSION, "computed": now(), "run": str(rundir.path),
              "definitions": {
                  "intervals": f"{int(cfg.confidence * 100)} % two-stage bootstrap over captions, then seeds within "
                               f"each drawn caption ({cfg.bootstrap} resamples; percentile, BCa for Kendall's W); "
                               "point estimates are means of caption means; N = captions x seeds",
                  "tests": "Wilcoxon signed-rank over per-caption mean differences",
                  "null": "not applicable: a judge that does not score this image (geneval on a caption without "
                          "requirements), or a statistic undefined at this N (an interval or p-value from too few "
                          "captions, a correlation of constant scores); metrics.json is strict JSON, never NaN",
                  **{k: v for s in registered for k, v in s.definitions.items()}},
              "sections": [s.name for s in registered],
              "plugins": [{"kind": "metric section", "name": s.name, **s.source} for s in registered if s.source] +
                         [{"kind": "judge", "name": n, **ctx.judge_sources[n]} for n in ctx.judge_sources],
              "evaluator": {"clip": ctx.evaluator.id, "search_clip": ctx.evaluator.search_id,
                            "same_model": ctx.evaluator.same},
              "evaluators": {name: ctx.judge_info(name) for name in
                             (["clipscore"] if ctx.clipscore else []) + list(ctx.judges)}}
    for section in registered:
        result[section.name] = section.compute(ctx)
        lap(section.name)
    result["per_job"] = ctx.jobs.drop(columns=["caption"]).to_dict(orient="records")
    result["by_pick"] = by_pick(ctx, registered)
    lap("by_pick")
    ctx.store.save()
    lap("save cache")
    result["timings"] = timings
    result["cache"] = {"folder": CACHE_FOLDER, "hits": ctx.store.hits, "computed": ctx.store.misses,
                       "computed_by_model": ctx.store.computed,
                       "note": "model outputs per image, keyed by the PNG's SHA-256, caption and model"}
    rundir.write_metrics(result)
    return result


def load_judges(entries: list, models: ModelsConfig, device: str, cfg: MetricsConfig | None = None) -> tuple[dict, dict]:
    """The panel judges (all but clipscore) of metrics.evaluators, loaded once for every section (their models
    on first use), and each plugin judge's provenance."""
    from harness.judges.panel import judge_spec

    cache = Path(models.cache_dir) if models.cache_dir else None
    judges, sources = {}, {}
    for e in entries:
        spec = judge_spec(e.name)
        extra = {"metrics": cfg} if spec.wants_metrics and cfg is not None else {}
        if spec.source:  # a plugin is held to its contract (harness.judges.panel.CheckedJudge)
            from harness.judges.panel import CheckedJudge

            judges[e.name] = CheckedJudge(e.name, spec.source.get("reference") or e.name,
                                          lambda: spec.load(e.model, e.pretrained, models.profile, device, cache, **extra))
            sources[e.name] = spec.source
        else:
            judges[e.name] = spec.load(e.model, e.pretrained, models.profile, device, cache, **extra)
    return judges, sources


def by_pick(ctx: MetricContext, registered: list) -> dict:
    """The pick-dependent sections again with every method's image chosen by each stored policy, so that
    `harness report --pick POLICY` needs no model (images already scored are not scored again)."""
    out = {}
    for policy in stored_policies(ctx.manifest):
        pctx = replace(ctx, jobs=ctx.rows_under(policy), pick=policy)
        out[policy] = {s.name: s.compute(pctx) for s in registered if s.per_pick}
        out[policy]["per_job"] = pctx.jobs.drop(columns=["caption"]).to_dict(orient="records")
    return out
