"""`harness compare RUN_A RUN_B [...]`: paired differences between runs, or two methods of one run."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from harness.cli.common import console, err_console
from harness.cli.main import app


def comparison_table(title: str, result: dict) -> Table:
    table = Table(title=title)
    for col in ("method", "metric", "mean difference [95 % CI over captions]", "Wilcoxon p", "captions × seeds"):
        table.add_column(col, justify="left" if col in ("method", "metric") else "right")
    for method, metrics in result["methods"].items():
        for name, e in metrics.items():
            arrow = "↑" if e["higher_is_better"] else "↓"
            ci = f" [{e['interval'][0]:+.4f}, {e['interval'][1]:+.4f}]" if e["interval"] else ""
            p = e["p_value"]
            table.add_row(method, f"{name} {arrow}", f"{e['value']:+.4f}{ci}" if e["value"] is not None else "—",
                          "—" if p != p else f"{p:.3g}", f"{e.get('captions', '?')} × {e['seeds']}")
    return table


@app.command(epilog="Example: harness compare reports/prev reports/curr"
                    " | harness compare reports/curr --methods four_objective,clip_single")
def compare(
    runs: list[Path] = typer.Argument(..., metavar="RUN_DIR...",
                                      help="run directories; each later one is compared with the first"),
    methods: Optional[str] = typer.Option(None, metavar="A,B", help="A,B: compare two methods of one run (A - B)"),
    out: Optional[str] = typer.Option(None, metavar="DIR",
                                       help="comparison report folder (default reports/compare-...)"),
    bootstrap: int = typer.Option(1000, metavar="N", help="bootstrap resamples for the intervals"),
) -> None:
    """Match jobs by (caption, method, seed); report paired differences with intervals and p-values."""
    from harness.cli.common import out_path
    from harness.errors import ConfigError
    from harness.rundir import check_writable, existing_run

    out = out_path(out)
    opened = [existing_run(r) for r in runs]
    dirs, manifests = [d for d, _ in opened], [m for _, m in opened]
    pair = [m.strip() for m in methods.split(",") if m.strip()] if methods else None
    if pair is not None and (len(pair) != 2 or len(dirs) != 1):
        raise ConfigError("--methods A,B compares two methods of one run: give exactly one run and two methods")
    if pair is None and len(dirs) < 2:
        raise ConfigError("give two or more run directories, or one run with --methods A,B")
    from harness.analysis.compare import compare_fid, compare_frames, describe_mismatch, run_label
    from harness.report.compare import write_comparison
    from harness.rundir.rundir import refuse_foreign

    target = out or Path("reports") / ("compare-" + "-vs-".join(run_label(r) for r in runs[:3]))
    refuse_foreign(target, "compare", lambda p: p.name in ("compare.md", "compare.json", "figures"))
    check_writable(target)  # before any run is read: a refusal reads and writes nothing

    comparisons = []
    if pair:
        values = dirs[0].job_values()
        for name in pair:
            if name not in set(values["method"]):
                raise ConfigError(f"--methods: {dirs[0].path} has no finished job of method {name!r}")
        a = values[values["method"] == pair[0]].assign(method="*")
        b = values[values["method"] == pair[1]].assign(method="*")
        result = compare_frames(a, b, bootstrap, 0.95)
        result["methods"] = {f"{pair[0]} − {pair[1]}": v for v in result["methods"].values()}
        comparisons.append((f"{run_label(dirs[0].path)}: {pair[0]} − {pair[1]}", result, [], dirs[0], dirs[0], pair))
    else:
        base = dirs[0].job_values()
        for d, m in zip(dirs[1:], manifests[1:]):
            notes = describe_mismatch(m, manifests[0])
            result = compare_frames(d.job_values(), base, bootstrap, 0.95)
            result["fid"], fid_notes = compare_fid(d.read_metrics(), dirs[0].read_metrics(), run_label(d.path),
                                                   run_label(dirs[0].path))
            notes += fid_notes
            comparisons.append((f"{run_label(d.path)} − {run_label(dirs[0].path)}", result, notes, d, dirs[0], None))
    for title, result, notes, _, _, _ in comparisons:
        console.print(comparison_table(title, result))
        for note in notes:
            err_console.print(f"note: {note}")
        for side, label in (("scores_only_a", "the first"), ("scores_only_b", "the second")):
            if result.get(side):
                err_console.print(f"note: {', '.join(result[side])} only in {label} run of '{title}' (a critic or judge "
                                  "the other run does not have): compared on the common ones")
        for cid, text_a, text_b in result["caption_text_differs"]:
            err_console.print(f"note: caption '{cid}' reads {text_a!r} in one run and {text_b!r} in the other: "
                              "its jobs are not paired")
        for side in ("only_a", "only_b"):
            if result["unmatched"][side]:
                err_console.print(f"note: {len(result['unmatched'][side])} job(s) only in "
                                  f"{'the first' if side == 'only_a' else 'the second'} run of '{title}', e.g. "
                                  f"{result['unmatched'][side][0]}")
    path = write_comparison(target, comparisons)
    console.print(f"comparison report: {path}")
