"""`harness ablate SUITE --set key=v1,v2,...`: one run per value under one parent, and an ablation report."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from harness.cli.common import SET_HELP, console, err_console
from harness.cli.main import app


@app.command(epilog="Example: harness ablate suites/smoke --set critics.image_real.temperature=0.5,1,2,5"
                    " | harness ablate suites/smoke --leave-one-out four_objective --models tiny"
                    " | harness ablate suites/smoke_multistep --budgets 64,128")
def ablate(
    suite: Path = typer.Argument(..., metavar="SUITE", help="suite folder, e.g. suites/smoke"),
    set_: Optional[list[str]] = typer.Option(None, "--set", metavar="KEY=V1,V2",
                                             help="KEY=V1,V2,... sweeps; " + SET_HELP.replace("override", "or")),
    leave_one_out: Optional[str] = typer.Option(None, "--leave-one-out", metavar="METHOD",
                                                help="run METHOD and METHOD with each of its objectives removed "
                                                     "(the effect of each score)"),
    add_critic: Optional[list[str]] = typer.Option(None, "--add-critic", metavar="NAME",
                                                   help="also run the method with critic NAME as one more objective "
                                                        "(a plugin critic's entry-point name); repeatable"),
    methods: Optional[str] = typer.Option(None, metavar="A,B", help="comma-separated methods (default: the suite's)"),
    seeds: Optional[str] = typer.Option(None, metavar="0,1,2", help="comma-separated seeds (default: the suite's)"),
    models: Optional[str] = typer.Option(None, metavar="PROFILE",
                                         help="model profile: default, random or tiny (default: the suite's)"),
    device: Optional[str] = typer.Option(None, metavar="DEVICE", help="torch device: cpu, cuda, cuda:N or mps"),
    out: Optional[str] = typer.Option(None, metavar="DIR", help="parent folder (default reports/ablate-<suite> for a sweep, reports/ablate-<suite>-<method>[-with-<critic>] "
                                                   "for --leave-one-out/--add-critic)"),
    limit: Optional[int] = typer.Option(None, metavar="N", help="only the first N captions"),
    with_controls: bool = typer.Option(False, "--with-controls",
                                       help="with --leave-one-out/--add-critic: also run best_of_n and no_selection, "
                                            "so the answer says whether each variant still beats the controls"),
    caption_figures: int = typer.Option(3, "--caption-figures", metavar="N", min=0,
                                        help="per-caption figures for the first N captions (0: all)"),
    budgets: Optional[str] = typer.Option(None, "--budgets", metavar="B1,B2",
                                          help="run every method at each budget of function evaluations (NFE) and "
                                               "draw score against NFE, e.g. --budgets 500,1000,2000"),
) -> None:
    """Sweep settings (one run per grid point), or measure the effect of each score of a method (one run of the
    method and its variants)."""
    import pandas as pd

    from harness.analysis.ablate import run_ablation
    from harness.cli.common import out_path

    out = out_path(out)
    from harness.cli.progress import observing

    if budgets is not None:
        if leave_one_out or add_critic or with_controls:
            from harness.errors import ConfigError

            raise ConfigError("--budgets runs the suite's methods at each budget: it does not combine with "
                              "--leave-one-out, --add-critic or --with-controls (run those as their own ablation)")
        return budget_ablation(suite, budgets, set_ or [], out, methods, seeds, models, device, limit)
    if leave_one_out or add_critic:
        return critic_ablation(suite, leave_one_out, add_critic or [], set_ or [], out, methods, seeds, models,
                               device, limit, with_controls, caption_figures)
    if with_controls:
        from harness.errors import ConfigError

        raise ConfigError("--with-controls applies to --leave-one-out/--add-critic; a sweep runs the suite's methods "
                          "(name controls with --methods)")
    if not set_:
        from harness.errors import ConfigError

        raise ConfigError("harness ablate needs a swept --set KEY=V1,V2, --leave-one-out METHOD or --add-critic NAME")

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


def critic_ablation(suite, method, add, sets, out, methods, seeds, models, device, limit, with_controls=False,
                    caption_figures=3) -> None:
    """`--leave-one-out METHOD` / `--add-critic NAME`: the effect of removing or adding each score."""
    from harness.analysis.ablate import is_swept
    from harness.analysis.critic_ablation import run_critic_ablation
    from harness.cli.progress import observing
    from harness.errors import ConfigError

    if methods:
        raise ConfigError("--methods does not apply with --leave-one-out/--add-critic: the variants are the methods")
    swept = [s for s in sets if is_swept(s)]
    if swept:
        raise ConfigError(f"--set {swept[0]}: --leave-one-out/--add-critic run one configuration, so a swept value "
                          "(KEY=V1,V2) does not apply; run the sweep as its own `harness ablate SUITE --set KEY=V1,V2`, "
                          "or give one value")
    leave_one_out = method is not None
    if method is None:
        from harness.config.methods import DEFAULT_METHODS

        method = DEFAULT_METHODS[-1]  # --add-critic alone: add to the four-objective method
    with observing() as observer:
        result = run_critic_ablation(suite, method, leave_one_out=leave_one_out, add=add,
                                     out=out, observer=observer, sets=sets, with_controls=with_controls,
                                     caption_figures=caption_figures, seeds=seeds, models=models,
                                     device=device, limit=limit)
    judges = list(dict.fromkeys(j for r in result.rows for j in r["judges"]))
    show = Table(title=f"the effect of each score on {result.method}: variant − full method, mean [95 % CI over "
                       "captions], adjusted p")
    for col in ["change", "own critic", *[f"Δ {j}" for j in judges], "verdict", "selected changed"]:
        show.add_column(col, overflow="fold")
    from harness.report.ablation_text import change_label
    from harness.report.format import fmt

    def cell(e):
        return "—" if not e or e.get("value") is None else f"{fmt(e, 4)} p {e.get('p_adjusted', float('nan')):.2g}"

    for r in result.rows:
        share = r["selected_changed"]["share"]
        own = [r["critics"].get(c) for c in r["removed"] + r["added"]]
        entries = {**r["judges"], **r["critics"]}
        moved = [m for m, e in entries.items() if e.get("verdict") in ("better", "worse")]
        show.add_row(change_label(r), cell(own[0] if own else None), *[cell(r["judges"].get(j)) for j in judges],
                     ("moves " + ", ".join(moved)) if moved else "no detectable change",
                     "—" if share is None else f"{share:.0%}")
    console.print(show)
    if result.failed:
        err_console.print(f"warning: {result.failed} job(s) failed")
    console.print(f"ablation report: {result.report}")


def budget_ablation(suite, budgets, sets, out, methods, seeds, models, device, limit) -> None:
    """`--budgets B1,B2`: every method at each NFE budget, score against compute, answer first."""
    from harness.analysis.ablate import is_swept
    from harness.analysis.budgets import parse_budgets, run_budgets
    from harness.cli.progress import observing
    from harness.errors import ConfigError

    values = parse_budgets(budgets)
    swept = [s for s in sets if is_swept(s)]
    if swept:
        raise ConfigError(f"--set {swept[0]}: --budgets sweeps the budget only; sweep other settings as their own "
                          "`harness ablate SUITE --set KEY=V1,V2`")
    with observing() as observer:
        result = run_budgets(suite, values, out, observer=observer, sets=sets, methods=methods, seeds=seeds,
                             models=models, device=device, limit=limit)
    summary = result.summary
    judges = summary.get("judges", [])
    show = Table(title="score against compute: mean of caption means [95 % CI over captions] per budget")
    for col in ["measure", "method", *[f"{b} NFE" for b in result.budgets]]:
        show.add_column(col, overflow="fold")
    from harness.report.budgets import _cell

    for name in judges[:2] + summary.get("critics", [])[:1]:
        for method, points in summary.get("curves", {}).get(name, {}).items():
            at = {p["nfe"]: p for p in points}
            show.add_row(name, method, *[_cell(at.get(b)) for b in result.budgets])
    console.print(show)
    for a in summary.get("answer", []):
        verdict = f"{a['leader']} is ahead" if a["ahead"] else f"no method detectably ahead (highest: {a['leader']})"
        console.print(f"{a['budget']} NFE, {a['judge']}: {verdict}")
    for folder, n in result.failed.items():
        err_console.print(f"warning: {n} job(s) failed in {folder}")
    console.print(f"budget report: {result.report}")

