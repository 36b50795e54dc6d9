"""The local executor: a suite's jobs one after another in this process, resumable, observed."""
from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import HarnessError
from harness.executors.job import Job, restore_job, run_job
from harness.executors.observer import NULL, Observer
from harness.rundir import JobKey, RunDir
from harness.rundir import manifest as mf


@dataclass
class RunOutcome:
    path: Path
    ran: list[JobKey] = field(default_factory=list)  # jobs computed (or resumed) by this call
    skipped: list[JobKey] = field(default_factory=list)  # jobs already finished
    failed: dict[JobKey, str] = field(default_factory=dict)
    seconds: float = 0.0


def make_jobs(suite) -> list[Job]:
    return [Job(c, m, s) for c in suite.captions for m in suite.methods for s in suite.seeds]


def job_records(manifest: dict) -> dict[JobKey, dict]:
    """The manifest's job records by key (the same dicts: updating one updates the manifest)."""
    return {JobKey.of(r): r for r in manifest["jobs"]}


def final_population(job: Job, suite) -> int:
    """How many images a finished job keeps (no_selection 1, evo_trajectory its last generation's size)."""
    from harness.search.budget import plan, steps_per_image

    spent = plan(job.method, suite.run.search, steps_per_image(suite.run))
    return 1 if job.method.algorithm == "single" else spent.sizes[-1] if spent.sizes else spent.search.population


def generations(job: Job, suite) -> int:
    """The generations the job will run: those the run's NFE budget pays for (harness.search.budget)."""
    from harness.search.budget import plan, steps_per_image

    return plan(job.method, suite.run.search, steps_per_image(suite.run)).generations


def finish_job(rundir: RunDir, manifest: dict, rec: dict, job: Job, result, resumed: int, seconds: float) -> None:
    rec.update(status="done", ended=mf.now(), evaluations=result.evaluations, **result.spent, selected=result.selected,
               picks=result.picks, resumed_from_generation=resumed, selected_scores=result.selected_scores, seconds=round(seconds, 3))
    rundir.update_job(rec)
    rundir.checkpoint_path(job.key).unlink(missing_ok=True)


def verify_finished(rundir: RunDir, suite, jobs: list[Job], records: dict, system, observer: Observer) -> None:
    """A job counted finished must still have its files: a missing or unreadable output is restored from the
    job's latents.npz where it can be, otherwise the job is marked to run again; either way the run says so."""
    for job in jobs:
        rec = records[job.key]
        if rec["status"] != "done":
            continue
        population = final_population(job, suite)
        problems = rundir.job_problems(job.key, population)
        if not problems:
            continue
        listing = ", ".join(f"{name} {what}" for name, what in sorted(problems.items())[:3]) + \
            (f" and {len(problems) - 3} more" if len(problems) > 3 else "")
        if restore_job(rundir, job, system, rec, problems):
            observer.note(f"{job.key.label}: {listing}: restored from latents.npz")
        else:
            rec.update(status="pending", restored=None)
            observer.note(f"{job.key.label}: {listing}: cannot be restored, the job runs again")


def run_jobs_local(rundir: RunDir, suite, jobs: list[Job], system, manifest: dict,
                   observer: Observer = NULL) -> RunOutcome:
    outcome = RunOutcome(rundir.path)
    start = time.time()
    records = job_records(manifest)
    verify_finished(rundir, suite, jobs, records, system, observer)
    observer.jobs_started(len(jobs))
    for job in jobs:
        rec = records[job.key]
        if rec["status"] == "done":
            outcome.skipped.append(job.key)
            observer.job_ended(job.key, "skipped")
            continue
        rec.update(status="running", attempts=rec.get("attempts", 0) + 1, started=mf.now(), error=None,
                   worker=f"{socket.gethostname()}:{os.getpid()}", executor="local")
        rundir.update_job(rec)
        callback = observer.job_started(job.key, generations(job, suite))
        began = time.time()
        try:
            result, resumed = run_job(rundir, suite.name, job, system, suite.run.checkpoint_every,
                                      callbacks=[callback] if callback else [])
        except KeyboardInterrupt:  # rare: the whole manifest, so manifest.json alone tells where the run stopped
            rec.update(status="interrupted")
            rundir.write_manifest(manifest)
            observer.job_ended(job.key, "interrupted")
            raise
        except HarnessError:
            rec.update(status="pending")
            rundir.write_manifest(manifest)
            observer.job_ended(job.key, "interrupted")
            raise
        except Exception as exc:  # one job's failure is recorded; the rest of the suite goes on
            rec.update(status="failed", error=f"{type(exc).__name__}: {exc}", ended=mf.now())
            rundir.update_job(rec)
            outcome.failed[job.key] = rec["error"]
            observer.job_ended(job.key, "failed")
            continue
        finish_job(rundir, manifest, rec, job, result, resumed, time.time() - began)
        outcome.ran.append(job.key)
        observer.job_ended(job.key, "done")
    outcome.seconds = time.time() - start
    return outcome
