"""`harness report RUN_DIR`: re-render report.md and figures/ from stored data."""
from __future__ import annotations

from pathlib import Path

import typer

from harness.cli.common import console
from harness.errors import ConfigError
from harness.cli.main import app
from harness.report import CAPTION_FIGURES


@app.command(epilog="Example: harness report reports/smoke --svg")
def report(
    run_dir: Path = typer.Argument(..., metavar="RUN_DIR", help="a run directory written by harness run"),
    svg: bool = typer.Option(False, help="also write every figure as SVG"),
    pick: str = typer.Option(None, "--pick", metavar="POLICY",
                             help="every method's image as this pick policy chose it (asf, knee, best_text_image, "
                                  "best_text_image_on_front, compromise); default: each method's own"),
    caption_figures: int = typer.Option(CAPTION_FIGURES, "--caption-figures", metavar="N", min=0,
                                        help="draw each caption's gallery and scatter matrices for the first N "
                                             "captions (0: every caption); every caption keeps its table"),
) -> None:
    """Re-render RUN_DIR/report.md and RUN_DIR/figures/ from the archive, metrics.json and images."""
    from harness.rundir import existing_run

    if pick is not None:
        from harness.search.pick import PICKS

        if pick not in PICKS:
            raise ConfigError(f"--pick: unknown pick policy {pick!r}; choose one of {', '.join(PICKS)}")
    rundir, manifest = existing_run(run_dir)
    if pick is not None:
        from harness.rundir.manifest import check_pick

        check_pick(manifest, pick)  # before the lock: a refusal writes nothing
    from harness.cli.tables import answer_lines, metrics_table, summary_table
    from harness.report.markdown import render_report

    with rundir:
        path = render_report(rundir, svg=svg, pick=pick, caption_figures=caption_figures)
    from harness import plugins

    gone = plugins.missing(manifest, rundir.read_metrics())
    if gone:
        from harness.cli.common import err_console

        err_console.print(f"warning: {plugins.missing_message(gone, None)}; the report says what it leaves out")
    archive, metrics = rundir.read_final(), rundir.read_metrics()
    if pick is not None:
        from harness.report.markdown import under_pick

        archive, metrics = under_pick(rundir.read_manifest(), archive, metrics, pick)
    console.print(summary_table(archive, title=f"images picked by {pick or 'each method'}, mean [95 % CI over "
                                               "captions]", metrics=metrics, manifest=manifest))
    if metrics:
        console.print(metrics_table(metrics))
        for line in answer_lines(metrics):
            console.print(line)
    console.print(f"wrote {path}")
