"""`harness run SUITE`: run every caption x method x seed of a suite into a run directory."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from harness.cli.common import SET_HELP, console, err_console
from harness.cli.main import app


@app.command(epilog="Example: harness run suites/smoke --seeds 0,1 --set critics.image_real.temperature=0.5")
def run(
    suite: Path = typer.Argument(..., metavar="SUITE", help="suite folder (with suite.yaml), e.g. suites/smoke"),
    methods: Optional[str] = typer.Option(None, metavar="A,B",
                                          help="comma-separated methods of baselines/ (default: the suite's)"),
    seeds: Optional[str] = typer.Option(None, metavar="0,1,2", help="comma-separated seeds (default: the suite's)"),
    models: Optional[str] = typer.Option(None, metavar="PROFILE",
                                         help="model profile: default, random or tiny (default: the suite's)"),
    device: Optional[str] = typer.Option(None, metavar="DEVICE",
                                         help="torch device: cpu, cuda, cuda:N or mps (default: cpu)"),
    out: Optional[str] = typer.Option(None, metavar="DIR", help="run directory (default: reports/<suite name>)"),
    set_: Optional[list[str]] = typer.Option(None, "--set", metavar="KEY=VALUE",
                                             help=SET_HELP),
    limit: Optional[int] = typer.Option(None, metavar="N", help="only the first N captions"),
    executor: str = typer.Option("local", metavar="local|ray",
                                 help="local (this process) or ray (pip install -e .[ray])"),
    address: Optional[str] = typer.Option(None, metavar="auto|HOST:PORT",
                                          help="ray: join a cluster (auto or HOST:PORT); default: "
                                                     "start a local Ray instance"),
    workers: int = typer.Option(2, metavar="N", help="ray: actors in the pool, each keeping the models loaded"),
    gpus_per_job: float = typer.Option(0.0, metavar="X", help="ray: GPUs reserved by each actor"),
    cpus_per_worker: float = typer.Option(1.0, metavar="X", help="ray: CPUs reserved by each actor"),
    retries: int = typer.Option(2, metavar="N", help="ray: extra attempts of a job whose worker died or raised"),
) -> None:
    """Run a suite; rerunning the same command resumes it. Writes manifest, archive, images, metrics."""
    from harness.errors import ConfigError

    if executor not in ("local", "ray"):
        raise ConfigError(f"--executor {executor!r}: use local or ray")
    ray_options = None
    if executor == "ray":
        try:
            import ray  # noqa: F401
        except ImportError:
            raise ConfigError("--executor ray needs Ray: pip install -e '.[ray]'") from None
        if workers < 1 or retries < 0 or gpus_per_job < 0 or cpus_per_worker <= 0:
            raise ConfigError("--workers must be >= 1, --retries >= 0, --gpus-per-job >= 0, --cpus-per-worker > 0")
        from harness.executors.ray_pool import RayOptions

        ray_options = RayOptions(address=address, workers=workers, gpus_per_job=gpus_per_job,
                                 cpus_per_worker=cpus_per_worker, retries=retries)
    from harness.cli.common import out_path
    from harness.suites import load_suite

    out = out_path(out)
    loaded = load_suite(suite, methods=methods, seeds=seeds, models=models, device=device, sets=set_ or [],
                        limit=limit)  # every input check before torch is imported
    from harness.analysis.pipeline import run_pipeline
    from harness.cli.progress import observing

    for warning in loaded.warnings:
        err_console.print(f"warning: {warning}", markup=False)
    with observing() as observer:
        result = run_pipeline(loaded, out, observer=observer, executor=executor,
                              ray_options=ray_options)
    outcome = result.outcome
    from harness.cli.tables import answer_lines, metrics_table, summary_table

    if result.archive.empty:  # every job failed: no empty table, one line
        console.print("no job has finished, so there is nothing to summarise: the failures are below")
    else:
        console.print(summary_table(result.archive, title=f"{loaded.name}: selected images, mean [95 % CI over "
                                    f"captions]", metrics=result.metrics,
                                    manifest={"methods": {m.name: {"objectives": list(m.objectives)}
                                                          for m in loaded.methods}}))
    if result.metrics is not None:
        console.print(metrics_table(result.metrics))
        for line in answer_lines(result.metrics):
            console.print(line)
    if result.report is not None:
        console.print(f"report: {result.report}")
    console.print(f"{len(outcome.ran)} job(s) run, {len(outcome.skipped)} already finished, "
                  f"{len(outcome.failed)} failed, in {outcome.seconds:.1f} s; run directory: {outcome.path}")
    if outcome.failed:
        for line in failure_lines(outcome.failed):
            err_console.print(line, markup=False, soft_wrap=True)
        err_console.print("fix the cause and rerun the same command: finished jobs are kept, failed ones run again",
                          markup=False)
        raise typer.Exit(1)


def failure_lines(failed: dict) -> list[str]:
    """One line per failed job; jobs that failed with the same error share one line (a run where every job hit the
    same fault says so once, with how many)."""
    by_error: dict[str, list[str]] = {}
    for key, error in failed.items():
        by_error.setdefault(error, []).append(key.label)
    lines = []
    for error, labels in by_error.items():
        if len(labels) <= 2:
            lines += [f"failed: {label}: {error}" for label in labels]
        else:
            lines.append(f"failed: {len(labels)} jobs ({labels[0]}, {labels[1]}, ...): {error}")
    return lines
