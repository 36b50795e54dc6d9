"""The Ray executor: a suite's jobs on a pool of actors that keep their models loaded across jobs.

One writer: workers only compute (scores, images, latents, archive rows) and return them; the
driver writes the run directory exactly as the local executor does, so archive, manifest and
resume behave the same. A job whose worker dies or raises is retried (on a fresh worker) up to
`retries` times, then recorded as failed with its error; the rest of the suite goes on. Workers
write no checkpoints: an interrupted job restarts from its beginning on resume (or from a
checkpoint the local executor left), which gives the same result, since every job is seeded.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass

import harness.tiny  # noqa: F401  (a worker process builds the tiny profile's models as the driver does)
from harness.executors.job import Job, load_checkpoint
from harness.executors.local import RunOutcome, finish_job, job_records, verify_finished
from harness.executors.observer import NULL, Observer
from harness.rundir import RunDir
from harness.rundir import manifest as mf

ENV_KEYS = ("HARNESS_CACHE", "HF_HUB_OFFLINE", "HF_HOME", "HF_HUB_CACHE", "TORCH_HOME", "HARNESS_BASELINES",
            "PYTORCH_PRETRAINED_BIGGAN_CACHE")


@dataclass
class RayOptions:
    address: str | None = None  # None: start a local Ray instance; "auto" or HOST:PORT: join a cluster
    workers: int = 2  # actors in the pool (each loads the models once)
    gpus_per_job: float = 0.0  # GPUs reserved by each actor
    cpus_per_worker: float = 1.0  # CPUs reserved by each actor (and torch threads on it)
    retries: int = 2  # extra attempts of a job whose worker died or raised


def _worker_class():
    import ray

    @ray.remote(max_restarts=0, max_task_retries=0)
    class JobWorker:
        def __init__(self, run_cfg, env: dict, threads: int):
            os.environ.update(env)
            import torch

            torch.set_num_threads(threads)
            from harness.search.system import build_system

            self.system = build_system(run_cfg)

        def ident(self) -> str:
            import socket

            return f"{socket.gethostname()}:{os.getpid()}"

        def run(self, suite_name: str, job: Job, every: int, state):
            from harness.executors.job import compute_job

            return compute_job(suite_name, job, self.system, every, state)

    return JobWorker


def run_jobs_ray(rundir: RunDir, suite, jobs: list[Job], manifest: dict, opts: RayOptions,
                 observer: Observer = NULL) -> RunOutcome:
    import ray
    from ray.exceptions import RayActorError, RayTaskError

    outcome = RunOutcome(rundir.path)
    records = job_records(manifest)
    verify_finished(rundir, suite, jobs, records, None, observer)  # no local models here: damaged jobs rerun
    env = {k: os.environ[k] for k in ENV_KEYS if k in os.environ}
    started_here = not ray.is_initialized()
    if started_here:
        kwargs = dict(include_dashboard=False, log_to_driver=False, runtime_env={"env_vars": env})
        if opts.address:
            ray.init(address=opts.address, **kwargs)
        else:
            ray.init(num_cpus=max(1, int(opts.workers * opts.cpus_per_worker)), num_gpus=None, **kwargs)
    threads = suite.run.threads  # the same torch threads as the local executor: identical results
    Worker = _worker_class().options(num_cpus=opts.cpus_per_worker, num_gpus=opts.gpus_per_job)
    pool, idents = [], []

    def spawn():
        actor = Worker.remote(suite.run, env, threads)
        return actor, ray.get(actor.ident.remote())  # waits until its models are loaded

    start = time.time()
    in_flight: dict = {}
    try:
        for _ in range(opts.workers):
            actor, ident = spawn()
            pool.append(actor)
            idents.append(ident)
        manifest["sessions"][-1].update(executor="ray", workers=list(idents), address=opts.address or "local")
        rundir.write_manifest(manifest)
        observer.jobs_started(len(jobs), "jobs (ray)")
        queue = []
        for job in jobs:
            if records[job.key]["status"] == "done":
                outcome.skipped.append(job.key)
                observer.job_ended(job.key, "skipped")
            else:
                queue.append(job)
        tries = {job.key: 0 for job in queue}
        idle = list(range(len(pool)))
        while queue or in_flight:
            while queue and idle:
                job, k = queue.pop(0), idle.pop(0)
                rec = records[job.key]
                tries[job.key] += 1
                rec.update(status="running", attempts=rec.get("attempts", 0) + 1, started=mf.now(), error=None,
                           worker=idents[k], executor="ray")
                rundir.update_job(rec)
                state = load_checkpoint(rundir, job)
                ref = pool[k].run.remote(suite.name, job, suite.run.checkpoint_every, state)
                in_flight[ref] = (job, k, state["strategy"].generation if state else 0, time.time())
            ready, _ = ray.wait(list(in_flight), num_returns=1)
            job, k, resumed, began = in_flight.pop(ready[0])
            rec = records[job.key]
            try:
                result, rows = ray.get(ready[0])
            except (RayActorError, RayTaskError) as exc:
                if isinstance(exc, RayActorError):  # the worker died: replace it
                    pool[k], idents[k] = spawn()
                    manifest["sessions"][-1]["workers"] = list(dict.fromkeys(
                        manifest["sessions"][-1]["workers"] + [idents[k]]))
                error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}"
                if tries[job.key] <= opts.retries:
                    rec.update(status="retrying", error=error)
                    queue.insert(0, job)
                else:
                    rec.update(status="failed", error=error, ended=mf.now())
                    outcome.failed[job.key] = error
                    observer.job_ended(job.key, "failed")
                rundir.write_manifest(manifest)
                idle.append(k)
                continue
            rundir.write_job(job.key, job.caption.text, result, rows)
            finish_job(rundir, manifest, rec, job, result, resumed, time.time() - began)
            outcome.ran.append(job.key)
            idle.append(k)
            observer.job_ended(job.key, "done")
    except KeyboardInterrupt:
        for job, *_ in in_flight.values():
            records[job.key]["status"] = "interrupted"
        rundir.write_manifest(manifest)
        raise
    finally:
        for actor in pool:
            ray.kill(actor)
        if started_here:
            ray.shutdown()
    outcome.seconds = time.time() - start
    return outcome
