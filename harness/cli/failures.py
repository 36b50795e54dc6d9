"""`harness failures RUN_DIR --below clipscore=0.6 --into suites/failed_captions`."""
from __future__ import annotations

from pathlib import Path

import typer

from harness.cli.common import console
from harness.cli.main import app


@app.command(epilog="Example: harness failures reports/normal --below clipscore=0.6 --into suites/failed_captions")
def failures(
    run_dir: Path = typer.Argument(..., metavar="RUN_DIR", help="a run directory"),
    below: str = typer.Option(..., metavar="METRIC=THRESHOLD",
                              help="METRIC=THRESHOLD, e.g. clipscore=0.6 (mean over seeds)"),
    into: Path = typer.Option(Path("suites/failed_captions"), metavar="SUITE", help="the suite to add the captions to"),
    method: str = typer.Option("four_objective", metavar="METHOD", help="whose selected images are judged"),
) -> None:
    """Add the captions whose selected image scored below the threshold to a suite, with provenance."""
    from harness.suites.failures import add_failures, parse_below
    from harness.rundir import existing_run

    rundir, _ = existing_run(run_dir)
    values = rundir.job_values()
    metric, threshold = parse_below(below, [c for c in values.columns if c not in
                                            ("method", "caption_id", "caption", "seed", "individual")])
    added = add_failures(rundir, into, method, metric, threshold)
    for entry in added:
        console.print(f"added {entry['id']}: {entry['caption']} ({metric} {entry['provenance']['value']:.4f} "
                      f"< {threshold})")
    console.print(f"{len(added)} caption(s) added to {into}" if added else f"nothing new to add to {into}")
