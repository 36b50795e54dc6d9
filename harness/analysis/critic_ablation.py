"""The seed report's experiment: the effect of adding or removing a score.

`harness ablate SUITE --leave-one-out METHOD` runs METHOD and, for each of its objectives, METHOD with that
objective removed (`METHOD-without-CRITIC`); `--add-critic NAME` adds METHOD with NAME as one more objective
(`METHOD-with-NAME`, NAME joining the run's critics). Every variant is a method of one ordinary run (the
pipeline), so all start from the same shared initial latents per (caption, seed) and every critic is scored
for every variant (a removed critic's distribution is still measured). Per variant against METHOD:

* the answer (harness.analysis.effects): per held-out judge and per in-loop critic, scored on the picked images,
  the caption-level mean difference (variant - METHOD) [interval over captions], the Wilcoxon p over captions
  adjusted over the ablation's family of tests, and the smallest difference this many captions detect;
* the final distribution in numbers (harness.analysis.distribution): quantile shifts and Wasserstein-1 of every
  critic, the fronts' hypervolumes and dominance, the populations' diversity, summarised over captions;
* how often the selected image changed (the share of jobs whose selected PNG differs).

`--with-controls` adds best_of_n and no_selection to the same run, so the run's own answer also says whether
each variant still beats the controls.
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


CONTROLS = ("best_of_n", "no_selection")


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
    rows: list[dict]  # per variant: what changed, its answer entries, distribution summary, share changed
    report: Path
    failed: int


def ablation_suite(suite_path: Path, method: str, leave_one_out: bool, add: list[str], sets=(),
                   with_controls: bool = False, **suite_args):
    """The suite with METHOD's variants (and, with controls, best_of_n and no_selection) as its methods, and added
    critics in the run's critic set."""
    from harness.config import methods as method_files
    from harness.suites import load_suite
    from harness.suites.suite import with_critics

    if not leave_one_out and not add:
        raise ConfigError("harness ablate: give --leave-one-out METHOD, --add-critic NAME, or a swept --set")
    sets = list(sets) + ([f"critics.plugins=[{', '.join(add)}]"] if add else [])
    suite = load_suite(suite_path, methods=method, sets=sets, **suite_args)
    chosen = method_files.load_method(method)
    methods = variants(chosen, leave_one_out, add)
    controls = [method_files.load_method(c) for c in CONTROLS if c != method] if with_controls else []
    run = with_critics(suite.run, methods + controls, "--add-critic")
    record = {"method": chosen.name, "variants": [m.name for m in methods[1:]], "controls": [c.name for c in controls]}
    return dataclasses.replace(suite, methods=methods + controls, run=run, ablation=record)


def run_critic_ablation(suite_path: Path, method: str, leave_one_out: bool = True, add: list[str] = (),
                        out: Path | None = None, observer=None, sets=(), with_controls: bool = False,
                        caption_figures: int = 3, **suite_args) -> CriticAblation:
    """Run METHOD and its variants in one run under `out`, then write critic_ablation.md/.json and figures."""
    from harness.analysis.pipeline import run_pipeline
    from harness.rundir import check_writable
    from harness.rundir.rundir import refuse_foreign

    suite = ablation_suite(suite_path, method, leave_one_out, list(add), sets, with_controls, **suite_args)
    added = "".join(f"-with-{c}" for c in add)  # its own default folder: a leave-one-out beside it stays
    parent = Path(out) if out else Path("reports") / f"ablate-{suite.name}-{method}{added}"
    refuse_foreign(parent, "ablate", lambda p: p.name in FILES)
    check_writable(parent)
    result = run_pipeline(suite, parent / RUN, observer=observer) if observer else run_pipeline(suite, parent / RUN)
    from harness.report.critic_ablation import write_critic_ablation

    base, names = suite.ablation["method"], suite.ablation["variants"]
    rows = effects(parent / RUN, base, names, device=suite.run.device)
    report = write_critic_ablation(parent, RUN, base, rows, caption_figures)
    return CriticAblation(parent / RUN, base, rows, report, len(result.outcome.failed))


def measures(metrics: dict, critics: list[str]) -> tuple[list[str], list[str]]:
    """(held-out judges, in-loop critics) an ablation's answer reports: the run's judges (not CLIPScore by the
    search's own CLIP), then every critic the run scored."""
    judges = [j for j in metrics.get("evaluators", {})
              if not (j == "clipscore" and metrics.get("evaluator", {}).get("same_model"))]
    return judges, critics


def effects(run: Path, base: str, names: list[str], device: str = "cpu") -> list[dict]:
    """Per variant against the full method: the answer's entries (held-out judges and in-loop critics, one
    family of tests), the distribution summary, and the share of jobs whose selected image changed."""
    from harness.analysis import distribution
    from harness.analysis.effects import family
    from harness.metrics.compute import directions
    from harness.rundir import JobKey, RunDir
    from harness.rundir.archive import final_populations, score_columns

    rundir = RunDir(run)
    manifest = rundir.read_manifest()
    metrics = rundir.read_metrics() or {}
    jobs = pd.DataFrame(metrics.get("per_job", []))
    if jobs.empty:
        return []
    cfg = metrics_cfg(manifest)
    archive = rundir.read_final()
    critics = score_columns(archive, manifest)
    judges, _ = measures(metrics, critics)
    judges = [j for j in judges if j in jobs]
    higher = directions(manifest)
    answer = family([(name, jobs[jobs["method"] == name], jobs[jobs["method"] == base]) for name in names],
                    judges + critics, higher, cfg)
    finals = {k: v for k, v in final_populations(archive).items() if k[0] in (base, *names)}
    embeddings, diversity_note = distribution.population_embeddings(rundir, finals, cfg, device)
    summaries, tested = {}, []
    for name in names:
        objectives = list(dict.fromkeys(manifest["methods"][base]["objectives"] + manifest["methods"][name]["objectives"]))
        per_job = distribution.job_rows(finals, base, name, critics, objectives, higher, embeddings)
        summaries[name] = {"objectives": objectives, **distribution.summarise(per_job, critics, cfg),
                           "per_job": per_job}
        tested += distribution.tested_entries(summaries[name])
    from harness.metrics.paired import adjust_for_multiple_tests

    adjust_for_multiple_tests(tested, "Benjamini-Hochberg over the distribution section's tests")
    rows = []
    for name, entry in zip(names, answer):
        spec, full = manifest["methods"][name], manifest["methods"][base]
        b = jobs[jobs["method"] == base]
        keys = [JobKey(r.caption_id, base, int(r.seed)) for r in b.itertuples()]
        changed = [rundir.selected_png(k).read_bytes() != rundir.selected_png(JobKey(k.caption_id, name, k.seed))
                   .read_bytes() for k in keys if rundir.selected_png(JobKey(k.caption_id, name, k.seed)).is_file()]
        rows.append({"variant": name, "objectives": spec["objectives"],
                     "removed": sorted(set(full["objectives"]) - set(spec["objectives"])),
                     "added": sorted(set(spec["objectives"]) - set(full["objectives"])),
                     "judges": {m: e for m, e in entry["measures"].items() if m in judges},
                     "critics": {m: e for m, e in entry["measures"].items() if m not in judges},
                     "distribution": {**summaries[name], "diversity_note": diversity_note,
                                      "judges_note": distribution.JUDGES_NOTE},
                     "selected_changed": {"share": float(np.mean(changed)) if changed else None,
                                          "jobs": len(changed)}})
    return rows


def metrics_cfg(manifest: dict):
    from harness.config.run import build_run_config

    return build_run_config({"metrics": manifest.get("config", {}).get("metrics", {})}).metrics
