"""The seed report's experiment: the effect of adding or removing a score.

`harness ablate SUITE --leave-one-out METHOD` runs METHOD and, for each of its objectives, METHOD with that
objective removed (`METHOD-without-CRITIC`); `--add-critic NAME` adds METHOD with NAME as one more objective
(`METHOD-with-NAME`, NAME joining the run's critics). Every variant is a method of one ordinary run (the
pipeline), so all start from the same shared initial latents per (caption, seed) and every critic is scored
for every variant (a removed critic's distribution is still measured). Per variant against METHOD:

* per held-out judge, the caption-level mean difference (variant - METHOD), its interval over captions and the
  Wilcoxon p over captions (harness.metrics.evidence);
* the final-population distribution of every score with and without the critic (the seed report's figure);
* how often the selected image changed (the share of jobs whose selected PNG differs).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from harness.errors import ConfigError

RUN = "run"  # the one run directory under the ablation's parent
FILES = ("critic_ablation.md", "critic_ablation.json", "figures", RUN)


def variants(method, leave_one_out: bool, add: list[str]) -> list:
    """METHOD, then one method per removed objective, then one per added critic (MethodConfig each)."""
    out = [method]
    if leave_one_out:
        if len(method.objectives) < 2:
            raise ConfigError(f"--leave-one-out {method.name}: it has one objective ({method.objectives[0]}); "
                              "removing it leaves nothing to search")
        for critic in method.objectives:
            kept = [o for o in method.objectives if o != critic]
            out.append(dataclasses.replace(method, name=f"{method.name}-without-{critic}", objectives=kept,
                                           algorithm="nsga2" if len(kept) > 1 else "ga",
                                           description=f"{method.name} without {critic}"))
    for critic in add:
        if critic in method.objectives:
            raise ConfigError(f"--add-critic {critic}: {method.name} already optimises it")
        objectives = [*method.objectives, critic]
        out.append(dataclasses.replace(method, name=f"{method.name}-with-{critic}", objectives=objectives,
                                       algorithm="nsga2", description=f"{method.name} with {critic}"))
    return out


@dataclass
class CriticAblation:
    run: Path
    method: str
    rows: list[dict]  # per variant: what changed (removed/added critic), per judge effect, share changed
    report: Path
    failed: int


def ablation_suite(suite_path: Path, method: str, leave_one_out: bool, add: list[str], sets=(), **suite_args):
    """The suite with METHOD's variants as its methods (and added critics in the run's critic set)."""
    from harness.config import methods as method_files
    from harness.suites import load_suite
    from harness.suites.suite import with_critics

    if not leave_one_out and not add:
        raise ConfigError("harness ablate: give --leave-one-out METHOD, --add-critic NAME, or a swept --set")
    sets = list(sets) + ([f"critics.plugins=[{', '.join(add)}]"] if add else [])
    suite = load_suite(suite_path, methods=method, sets=sets, **suite_args)
    chosen = method_files.load_method(method)
    methods = variants(chosen, leave_one_out, add)
    run = with_critics(suite.run, methods, "--add-critic")
    return dataclasses.replace(suite, methods=methods, run=run)


def run_critic_ablation(suite_path: Path, method: str, leave_one_out: bool = True, add: list[str] = (),
                        out: Path | None = None, observer=None, sets=(), **suite_args) -> CriticAblation:
    """Run METHOD and its variants in one run under `out`, then write critic_ablation.md/.json."""
    from harness.analysis.pipeline import run_pipeline
    from harness.rundir import check_writable
    from harness.rundir.rundir import refuse_foreign

    suite = ablation_suite(suite_path, method, leave_one_out, list(add), sets, **suite_args)
    parent = Path(out) if out else Path("reports") / f"ablate-{suite.name}-{method}"
    refuse_foreign(parent, "ablate", lambda p: p.name in FILES)
    check_writable(parent)
    result = run_pipeline(suite, parent / RUN, observer=observer) if observer else run_pipeline(suite, parent / RUN)
    from harness.analysis.critic_ablation_report import write_critic_ablation

    rows = effects(parent / RUN, suite.methods[0].name, [m.name for m in suite.methods[1:]])
    report = write_critic_ablation(parent, suite.methods[0], suite.methods[1:], rows)
    return CriticAblation(parent / RUN, suite.methods[0].name, rows, report, len(result.outcome.failed))


def effects(run: Path, base: str, names: list[str]) -> list[dict]:
    """Per variant: the paired effect on every held-out judge (variant - base, over captions) and the share of jobs
    whose selected image changed."""
    from harness.metrics import evidence
    from harness.rundir import JobKey, RunDir

    rundir = RunDir(run)
    manifest = rundir.read_manifest()
    metrics = rundir.read_metrics() or {}
    jobs = pd.DataFrame(metrics.get("per_job", []))
    if jobs.empty:
        return []
    cfg = metrics_cfg(manifest)
    judges = [j for j in metrics.get("evaluators", {}) if j in jobs and not
              (j == "clipscore" and metrics.get("evaluator", {}).get("same_model"))]
    design = evidence.Design.of(jobs)
    rows = []
    for name in names:
        a, b = jobs[jobs["method"] == name], jobs[jobs["method"] == base]
        spec = manifest["methods"][name]
        row = {"variant": name, "objectives": spec["objectives"],
               "removed": sorted(set(manifest["methods"][base]["objectives"]) - set(spec["objectives"])),
               "added": sorted(set(spec["objectives"]) - set(manifest["methods"][base]["objectives"])), "judges": {}}
        for judge in judges:
            row["judges"][judge] = evidence.paired_entry(design.matrix(a, judge), design.matrix(b, judge), design,
                                                         cfg.bootstrap, cfg.confidence)
        keys = [JobKey(r.caption_id, base, int(r.seed)) for r in b.itertuples()]
        changed = [rundir.selected_png(k).read_bytes() != rundir.selected_png(JobKey(k.caption_id, name, k.seed))
                   .read_bytes() for k in keys if rundir.selected_png(JobKey(k.caption_id, name, k.seed)).is_file()]
        row["selected_changed"] = {"share": float(np.mean(changed)) if changed else None, "jobs": len(changed)}
        rows.append(row)
    return rows


def metrics_cfg(manifest: dict):
    from harness.config.run import build_run_config

    return build_run_config({"metrics": manifest.get("config", {}).get("metrics", {})}).metrics
