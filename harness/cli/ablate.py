"""`harness ablate SUITE --set key=v1,v2,...`: one run per value under one parent, and an ablation report."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from harness.cli.common import SET_HELP, console, err_console
from harness.cli.main import app


@app.command(epilog="Example: harness ablate suites/smoke --set critics.image_real.temperature=0.5,1,2,5")
def ablate(
    suite: Path = typer.Argument(..., metavar="SUITE", help="suite folder, e.g. suites/smoke"),
    set_: list[str] = typer.Option(..., "--set", metavar="KEY=V1,V2",
                                   help="KEY=V1,V2,... sweeps; " + SET_HELP.replace("override", "or")),
    methods: Optional[str] = typer.Option(None, metavar="A,B", help="comma-separated methods (default: the suite's)"),
    seeds: Optional[str] = typer.Option(None, metavar="0,1,2", help="comma-separated seeds (default: the suite's)"),
    models: Optional[str] = typer.Option(None, metavar="PROFILE",
                                         help="model profile: default, random or tiny (default: the suite's)"),
    device: Optional[str] = typer.Option(None, metavar="DEVICE", help="torch device: cpu, cuda, cuda:N or mps"),
    out: Optional[str] = typer.Option(None, metavar="DIR", help="parent folder (default reports/ablate-<suite>)"),
    limit: Optional[int] = typer.Option(None, metavar="N", help="only the first N captions"),
) -> None:
    """Run the suite once per grid point, then report every metric against the value."""
    import pandas as pd

    from harness.analysis.ablate import run_ablation
    from harness.cli.common import out_path

    out = out_path(out)
    from harness.cli.progress import observing

    with observing() as observer:
        result = run_ablation(suite, set_, out, observer=observer, methods=methods, seeds=seeds,
                              models=models, device=device, limit=limit)
    for folder, n in result.failed.items():
        err_console.print(f"warning: {n} job(s) failed in {folder}")
    keys = result.sweep.keys
    show = Table(title=f"ablation of {', '.join(keys)}: selected images, mean [95 % CI]")
    for col in [*keys, "method", "clipscore ↑", "text_image ↑", "image_real ↑", "image_real, same images ↑"]:
        show.add_column(col)
    same_df = pd.DataFrame(result.same_image_rows)
    for row in result.metric_rows:
        match = same_df[(same_df["method"] == row["method"]) &
                        (same_df[keys].astype(str) == pd.Series({k: row[k] for k in keys})).all(axis=1)]
        cells = [f"{row[f'{m}_mean']:.4f} [{row[f'{m}_lo']:.4f}, {row[f'{m}_hi']:.4f}]"
                 for m in ("clipscore", "text_image", "image_real")]
        same_cell = f"{match['image_real_mean'].iloc[0]:.4f}" if len(match) else "—"
        show.add_row(*[str(row[k]) for k in keys], row["method"], *cells, same_cell)
    console.print(show)
    for c in result.changes:
        console.print(f"selected image changed in {c['changed']}/{c['jobs']} jobs from {c['from']} to {c['to']}")
    console.print(f"ablation report: {result.report}")
