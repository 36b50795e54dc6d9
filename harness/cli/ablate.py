"""`harness ablate SUITE --set key=v1,v2,...`: one run per value under one parent, and an ablation report."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from harness.cli.common import console, err_console
from harness.cli.main import app


@app.command()
def ablate(
    suite: Path = typer.Argument(..., help="suite folder, e.g. suites/smoke"),
    set_: list[str] = typer.Option(..., "--set", help="key=v1,v2,... sweeps; key=value applies to every run"),
    methods: Optional[str] = typer.Option(None, help="comma-separated methods (default: the suite's)"),
    seeds: Optional[str] = typer.Option(None, help="comma-separated seeds (default: the suite's)"),
    models: Optional[str] = typer.Option(None, help="model profile (default: the suite's)"),
    device: Optional[str] = typer.Option(None, help="torch device"),
    out: Optional[Path] = typer.Option(None, help="parent folder (default reports/ablate-<suite>)"),
    limit: Optional[int] = typer.Option(None, help="only the first N captions"),
) -> None:
    """Run the suite once per grid point, then report every metric against the value."""
    import pandas as pd

    from harness.ablate import metric_rows, parse_sweep, point_name, point_sets, same_image_rows, selection_changes
    from harness.config.typed import to_dict
    from harness.critics import Scorer
    from harness.metrics.compute import compute_metrics
    from harness.models import load_models
    from harness.regress import rescore, stored_images
    from harness.report.ablation import write_ablation
    from harness.report.markdown import render_report
    from harness.runner import run_suite
    from harness.runner.rundir import RunDir, check_writable
    from harness.suites import load_suite
    from harness.system import build_system

    sweep = parse_sweep(set_)
    suites = [load_suite(suite, methods=methods, seeds=seeds, models=models, device=device,
                         sets=point_sets(sweep, p), limit=limit) for p in sweep.points]  # all validated first
    parent = out or Path("reports") / f"ablate-{suites[0].name}"
    check_writable(parent)
    for warning in suites[0].warnings:
        err_console.print(f"warning: {warning}")
    from harness.models import check_models

    from harness.metrics.checks import check_metrics

    for s in suites:
        check_models(s.run.models)
        check_metrics(s.run.metrics)
    loaded: dict[str, object] = {}
    dirs, metric_table, systems = [], [], []
    from harness.cli.progress import make_progress

    for point, s in zip(sweep.points, suites):
        key = repr(to_dict(s.run.models)) + s.run.device
        if key not in loaded:
            loaded[key] = load_models(s.run.models, s.run.device, batch_size=s.run.critics.batch_size)
        system = build_system(s.run, models=loaded[key])
        target = parent / point_name(point)
        console.print(f"[bold]{point_name(point)}[/bold]")
        with make_progress() as progress:
            outcome = run_suite(s, target, progress=progress, system=system)
        rundir = RunDir(target)
        with rundir:
            search_clip = system.models.clip if s.run.metrics.evaluator_clip == "search" else None
            metrics = compute_metrics(rundir, s.run.metrics, device=s.run.device, search_clip=search_clip)
            render_report(rundir)
        metric_table += metric_rows(point, metrics)
        dirs.append(target)
        systems.append(system)
        if outcome.failed:
            err_console.print(f"warning: {len(outcome.failed)} job(s) failed in {target}")
    base = RunDir(dirs[0])
    table = stored_images(base, base.read_archive())
    table = table[table["selected"]].reset_index(drop=True)
    table["method"] = table["job"].str.split("__").str[1]
    same_rows = []
    for point, s, system in zip(sweep.points, suites, systems):
        scored = rescore(Scorer.from_models(system.models, s.run.critics), table)
        scored["method"] = table["method"]
        same_rows += same_image_rows(point, scored, s.run.metrics.confidence, s.run.metrics.bootstrap)
    changes = selection_changes(dirs)
    path = write_ablation(parent, sweep, dirs, pd.DataFrame(metric_table), pd.DataFrame(same_rows), changes)
    show = Table(title=f"ablation of {', '.join(sweep.keys)}: selected images, mean [95 % CI]")
    for col in [*sweep.keys, "method", "clipscore ↑", "text_image ↑", "image_real ↑", "image_real, same images ↑"]:
        show.add_column(col)
    same_df = pd.DataFrame(same_rows)
    for row in metric_table:
        match = same_df[(same_df["method"] == row["method"]) &
                        (same_df[sweep.keys].astype(str) == pd.Series({k: row[k] for k in sweep.keys})).all(axis=1)]
        cells = [f"{row[f'{m}_mean']:.4f} [{row[f'{m}_lo']:.4f}, {row[f'{m}_hi']:.4f}]"
                 for m in ("clipscore", "text_image", "image_real")]
        same_cell = f"{match['image_real_mean'].iloc[0]:.4f}" if len(match) else "—"
        show.add_row(*[str(row[k]) for k in sweep.keys], row["method"], *cells, same_cell)
    console.print(show)
    for c in changes:
        console.print(f"selected image changed in {c['changed']}/{c['jobs']} jobs from {c['from']} to {c['to']}")
    console.print(f"ablation report: {path}")
