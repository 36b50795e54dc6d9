"""`harness report RUN_DIR`: re-render report.md and figures/ from stored data."""
from __future__ import annotations

from pathlib import Path

import typer

from harness.cli.common import console
from harness.cli.main import app


@app.command(epilog="Example: harness report reports/smoke --svg")
def report(
    run_dir: Path = typer.Argument(..., metavar="RUN_DIR", help="a run directory written by harness run"),
    svg: bool = typer.Option(False, help="also write every figure as SVG"),
) -> None:
    """Re-render RUN_DIR/report.md and RUN_DIR/figures/ from the archive, metrics.json and images."""
    from harness.rundir import existing_run

    rundir, _ = existing_run(run_dir)
    from harness.cli.tables import metrics_table, summary_table
    from harness.report.markdown import render_report

    with rundir:
        path = render_report(rundir, svg=svg)
    console.print(summary_table(rundir.read_archive(), title="selected images, mean ± sd over captions x seeds"))
    metrics = rundir.read_metrics()
    if metrics:
        console.print(metrics_table(metrics))
    console.print(f"wrote {path}")
