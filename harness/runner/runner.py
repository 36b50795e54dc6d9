"""`harness run`: every caption x method x seed of a suite, resumable, with progress and a summary."""
from __future__ import annotations

import os
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import HarnessError
from harness.runner import manifest as mf
from harness.runner.job import Job, run_job
from harness.runner.rundir import RunDir, check_writable


@dataclass
class RunOutcome:
    path: Path
    ran: list[str] = field(default_factory=list)  # jobs computed (or resumed) by this call
    skipped: list[str] = field(default_factory=list)  # jobs already finished
    failed: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    system: object = None  # the loaded system, reusable for metrics


def make_jobs(suite) -> list[Job]:
    return [Job(c, m, s) for c in suite.captions for m in suite.methods for s in suite.seeds]


def default_out(suite) -> Path:
    return Path("reports") / suite.name


def run_suite(suite, out: Path | None = None, progress=None, system=None, executor: str = "local",
              ray_options=None) -> RunOutcome:
    """Run (or resume) `suite` into `out`. Validation and the weights check happen before any write.

    executor: "local" (this process) or "ray" (harness.runner.ray_executor, options in `ray_options`).
    """
    from harness.metrics.checks import check_metrics
    from harness.models import check_models

    out = Path(out) if out else default_out(suite)
    check_writable(out)
    if system is None:
        check_models(suite.run.models)  # missing weights: one line, before the run directory is touched
    check_metrics(suite.run.metrics)
    rundir = RunDir(out)
    with rundir:
        old = rundir.read_manifest()
        if old is not None:
            why = mf.mismatch(old, suite)
            if why:
                raise HarnessError(f"{out} holds a run with other settings ({why}); rerun with the same suite "
                                   "and --set values to resume it, or choose another --out")
        if system is None and executor == "local":
            from harness.system import build_system

            system = build_system(suite.run)
        jobs = make_jobs(suite)
        if system is not None:
            models_desc = system.models.describe()
        else:
            from harness.models import describe_config

            models_desc = describe_config(suite.run.models)
        manifest = mf.new_manifest(suite, jobs, models_desc)
        if old is not None:
            old_jobs = old["jobs"]
            manifest = {**old, "models": manifest["models"], "versions": manifest["versions"],
                        "git_commit": manifest["git_commit"], "device": manifest["device"], "ended": None}
            manifest["jobs"] = {**{j.id: {"caption_id": j.caption.id, "method": j.method.name, "seed": j.seed,
                                          "status": "pending", "attempts": 0} for j in jobs}, **old_jobs}
            manifest["captions"] = {**old.get("captions", {}), **mf.identity(suite)["captions"]}
            manifest["methods"] = {**old.get("methods", {}), **mf.identity(suite)["methods"]}
        manifest["sessions"] = manifest.get("sessions", []) + [{"started": mf.now(), "argv": sys.argv[1:],
                                                               "device": manifest["device"], "executor": executor}]
        rundir.write_manifest(manifest)
        if executor == "ray":
            from harness.runner.ray_executor import RayOptions, run_jobs_ray

            outcome = run_jobs_ray(rundir, suite, jobs, manifest, progress, ray_options or RayOptions(),
                                   RunOutcome(rundir.path))
        else:
            outcome = _run_jobs(rundir, suite, jobs, system, manifest, progress)
        all_done = [j for j, rec in manifest["jobs"].items() if rec["status"] == "done"]
        order = {j.id: i for i, j in enumerate(jobs)}
        rundir.write_archive(sorted(all_done, key=lambda j: (order.get(j, len(order)), j)))
        manifest["ended"] = mf.now()
        manifest["sessions"][-1]["ended"] = manifest["ended"]
        rundir.write_manifest(manifest)
        outcome.system = system
        return outcome


def _run_jobs(rundir: RunDir, suite, jobs: list[Job], system, manifest: dict, progress) -> RunOutcome:
    from harness.cli.progress import GenerationProgress

    outcome = RunOutcome(rundir.path)
    start = time.time()
    overall = progress.add_task("jobs", total=len(jobs)) if progress else None
    for job in jobs:
        rec = manifest["jobs"][job.id]
        if rec["status"] == "done":
            outcome.skipped.append(job.id)
            if progress:
                progress.advance(overall)
            continue
        rec.update(status="running", attempts=rec.get("attempts", 0) + 1, started=mf.now(), error=None,
                   worker=f"{socket.gethostname()}:{os.getpid()}", executor="local")
        rundir.write_manifest(manifest)
        bar = GenerationProgress(suite.run.search.generations if job.method.algorithm != "single" else 1,
                                 f"  {job.id}", progress=progress) if progress else None
        try:
            result, resumed = run_job(rundir, suite.name, job, system, suite.run.checkpoint_every,
                                      callbacks=[bar] if bar else [])
        except KeyboardInterrupt:
            rec.update(status="interrupted")
            rundir.write_manifest(manifest)
            raise
        except HarnessError:
            rec.update(status="pending")
            rundir.write_manifest(manifest)
            raise
        except Exception as exc:  # one job's failure is recorded; the rest of the suite goes on
            rec.update(status="failed", error=f"{type(exc).__name__}: {exc}", ended=mf.now())
            rundir.write_manifest(manifest)
            outcome.failed[job.id] = rec["error"]
            continue
        finally:
            if bar:
                bar.close()
        rec.update(status="done", ended=mf.now(), evaluations=result.evaluations, selected=result.selected,
                   resumed_from_generation=resumed, selected_scores=result.selected_scores)
        rundir.write_manifest(manifest)
        rundir.checkpoint_path(job.id).unlink(missing_ok=True)
        outcome.ran.append(job.id)
        if progress:
            progress.advance(overall)
    outcome.seconds = time.time() - start
    return outcome
