"""`harness run SUITE`: run every caption x method x seed of a suite into a run directory."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from harness.cli.common import console, err_console
from harness.cli.main import app


@app.command()
def run(
    suite: Path = typer.Argument(..., help="suite folder (with suite.yaml), e.g. suites/smoke"),
    methods: Optional[str] = typer.Option(None, help="comma-separated methods (default: the suite's)"),
    seeds: Optional[str] = typer.Option(None, help="comma-separated seeds (default: the suite's)"),
    models: Optional[str] = typer.Option(None, help="model profile: default, random or tiny (default: the suite's)"),
    device: Optional[str] = typer.Option(None, help="torch device (default: cpu)"),
    out: Optional[Path] = typer.Option(None, help="run directory (default: reports/<suite name>)"),
    set_: Optional[list[str]] = typer.Option(None, "--set", help="override a config field: key=value"),
    limit: Optional[int] = typer.Option(None, help="only the first N captions"),
) -> None:
    """Run a suite; rerunning the same command resumes it. Writes manifest, archive, images, metrics."""
    from harness.cli.progress import make_progress
    from harness.cli.tables import summary_table
    from harness.runner import run_suite
    from harness.suites import load_suite

    loaded = load_suite(suite, methods=methods, seeds=seeds, models=models, device=device, sets=set_ or [],
                        limit=limit)
    for warning in loaded.warnings:
        err_console.print(f"warning: {warning}")
    with make_progress() as progress:
        outcome = run_suite(loaded, out, progress=progress)
    from harness.runner.rundir import RunDir

    rundir = RunDir(outcome.path)
    archive = rundir.read_archive()
    console.print(summary_table(archive, title=f"{loaded.name}: selected images, mean ± sd over captions x seeds"))
    if not archive.empty and not outcome.failed:
        from harness.cli.metrics import compute_and_show

        search_clip = outcome.system.models.clip if loaded.run.metrics.evaluator_clip == "search" else None
        with rundir:
            compute_and_show(rundir, loaded.run.metrics, device=loaded.run.device, search_clip=search_clip)
    if not archive.empty:
        from harness.report.markdown import render_report

        with rundir:
            console.print(f"report: {render_report(rundir)}")
    console.print(f"{len(outcome.ran)} job(s) run, {len(outcome.skipped)} already finished, "
                  f"{len(outcome.failed)} failed, in {outcome.seconds:.1f} s; run directory: {outcome.path}")
    if outcome.failed:
        for job, error in outcome.failed.items():
            err_console.print(f"failed: {job}: {error}")
        raise typer.Exit(1)
