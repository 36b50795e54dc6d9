"""One pipeline: run -> metrics -> report, holding the run directory's lock from the first job to
the last figure. The CLI, `harness ablate` and the Python API all run suites through `run_pipeline`.

Everything is validated (output folder, weights, metric settings, the directory's manifest)
before the first write; a refusal leaves an existing directory byte-for-byte unchanged.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

import harness.tiny  # noqa: F401  (the tiny profile's builders: run_pipeline on a tiny suite works offline)
from harness.errors import HarnessError
from harness.executors.local import RunOutcome, make_jobs, run_jobs_local
from harness.executors.observer import NULL, Observer
from harness.rundir import JobKey, RunDir, check_writable
from harness.rundir import manifest as mf
from harness.rundir.memory import check_fits


@dataclass
class RunResult:
    outcome: RunOutcome
    archive: pd.DataFrame  # the final generation of every finished job after this call (RunDir.read_final)
    metrics: dict | None  # None when no job finished or a job failed
    report: Path | None


def default_out(suite) -> Path:
    return Path("reports") / suite.name


def projected_final_rows(suite, jobs) -> int:
    """Final-generation rows the run's analysis will hold: the population of a search job, one a no-selection job."""
    return sum(1 if job.method.algorithm == "single" else suite.run.search.population for job in jobs)


def check_inputs(suite, out: Path, system=None) -> None:
    """What can be checked without touching the run directory: writable, weights present, metrics."""
    from harness.metrics.checks import check_metrics
    from harness.judges.weights import check_models
    from harness.models.device import check_device

    check_writable(out)
    check_device(suite.run.device)
    if system is None:  # every missing weight (the evaluator's too) in one line, before the directory is touched
        check_models(suite.run.models, suite.run.metrics)
    check_metrics(suite.run.metrics, suite.run.models)
    probe_judge_plugins(suite)


def probe_judge_plugins(suite) -> None:
    """Load every plugin judge and score two images: its faults are one line before the first job, not after all."""
    from harness.judges.panel import JUDGES, probe
    from harness.metrics.compute import load_judges

    plugins = [e for e in suite.run.metrics.panel() if e.name not in JUDGES]
    if plugins:
        judges, _ = load_judges(plugins, suite.run.models, suite.run.device, suite.run.metrics)
        for judge in judges.values():
            probe(judge)


def refuse_another_run(rundir: RunDir, suite) -> dict | None:
    """The directory's manifest, if any, when `suite` may run into it (the same run, or growth)."""
    old = rundir.read_manifest() if rundir.path.is_dir() else None
    why = mf.refusal(old, suite) if old is not None else None
    if why and "--models" in why:
        raise HarnessError(f"{rundir.path} was not extended: {why.replace('{path}', str(rundir.path))}")
    if why:
        raise HarnessError(f"{rundir.path} was not extended: {why}. Rerun with the same suite and --set values "
                           "to resume it, or choose another --out")
    if old is None:
        from harness.rundir.rundir import refuse_foreign

        refuse_foreign(rundir.path, "run", lambda p: False)  # a folder without a manifest: only an empty one
    return old


def run_plugins(suite) -> list[dict]:
    """Every plugin the run uses besides its critics (recorded in `critics`): the caption importer, the generator,
    the judges and metric sections, each with its provenance (harness.plugins.load)."""
    from harness.metrics.registry import sections
    from harness.judges.panel import JUDGES, judge_spec
    from harness.models.profiles import generator_plugin, load_generator_plugin, resolve_spec

    out = list(getattr(suite, "plugins", []))
    generator = generator_plugin(resolve_spec(suite.run.models).generator)
    if generator is not None:
        out.append({"kind": "generator", "name": generator[0], **load_generator_plugin(generator[0], True)[1]})
    for entry in suite.run.metrics.panel():
        if entry.name not in JUDGES:
            out.append({"kind": "judge", "name": entry.name, **judge_spec(entry.name).source})
    out += [{"kind": "metric section", "name": s.name, **s.source} for s in sections(suite.run.metrics.plugins)
            if s.source]
    return out


def open_manifest(rundir: RunDir, suite, keys, models_desc: dict, executor: str) -> dict:
    """The manifest this run continues (same run, or growth) or starts; another run's directory is refused."""
    from harness.critics import critic_specs

    old = refuse_another_run(rundir, suite)
    critics = [spec.record() for spec in critic_specs(suite.run.critics.plugins)]
    plugins = run_plugins(suite)
    manifest = mf.new_run_manifest(suite, keys, models_desc, critics, plugins) if old is None else \
        mf.grow(old, suite, keys, models_desc, critics, plugins)
    manifest["sessions"] = manifest.get("sessions", []) + [{"started": mf.now(), "argv": sys.argv[1:],
                                                           "device": manifest["device"], "executor": executor}]
    return manifest


def run_pipeline(suite, out: Path | None = None, observer: Observer = NULL, executor: str = "local",
                 ray_options=None, system=None) -> RunResult:
    """Run (or resume, or grow) `suite` into `out`, then compute its metrics and render its report.

    executor: "local" (this process) or "ray" (harness.executors.ray_pool, options in `ray_options`).
    system: an already built harness.search.system.System to reuse (local executor only).
    """
    out = Path(out) if out else default_out(suite)
    rundir = RunDir(out)
    jobs = make_jobs(suite)
    keys = [j.key for j in jobs]
    refuse_another_run(rundir, suite)  # before any model loads; checked again under the lock
    check_fits(len(jobs), projected_final_rows(suite, jobs), suite.name)
    check_inputs(suite, out, system)
    with rundir:
        if system is None and executor == "local":
            from harness.search.system import build_system

            system = build_system(suite.run)
        if system is not None:
            models_desc = system.models.describe()
        else:
            from harness.models import describe_config

            models_desc = describe_config(suite.run.models)
        manifest = open_manifest(rundir, suite, keys, models_desc, executor)
        rundir.write_manifest(manifest)
        if executor == "ray":
            from harness.executors.ray_pool import RayOptions, run_jobs_ray

            outcome = run_jobs_ray(rundir, suite, jobs, manifest, ray_options or RayOptions(), observer)
        else:
            outcome = run_jobs_local(rundir, suite, jobs, system, manifest, observer)
        order = {k: i for i, k in enumerate(keys)}
        done = [JobKey.of(r) for r in manifest["jobs"] if r["status"] == "done"]
        rundir.write_archive(sorted(done, key=lambda k: (order.get(k, len(order)), k)))
        manifest["ended"] = mf.now()
        manifest["sessions"][-1]["ended"] = manifest["ended"]
        rundir.write_manifest(manifest)
        archive = rundir.read_final()
        metrics = report = None
        if not archive.empty and not outcome.failed:
            from harness.metrics.compute import compute_metrics

            observer.phase("metrics")
            search_clip = system.models.clip if system is not None else None  # reused when it is the judge
            metrics = compute_metrics(rundir, suite.run.metrics, device=suite.run.device, search_clip=search_clip)
        if not archive.empty:
            from harness.report.markdown import render_report

            observer.phase("report")
            report = render_report(rundir)
    return RunResult(outcome, archive, metrics, report)

