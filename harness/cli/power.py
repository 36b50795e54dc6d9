"""`harness power RUN_DIR`: from a finished (pilot) run, how many captions and seeds an effect needs."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from harness.cli.common import console
from harness.cli.main import app


def parse_effects(items: list[str]) -> tuple[dict[str, float], float | None]:
    """--effect JUDGE=VALUE (one judge) or --effect VALUE (every judge) -> ({judge: value}, default)."""
    from harness.errors import ConfigError

    per, default = {}, None
    for item in items:
        name, sep, value = item.rpartition("=")
        try:
            number = float(value)
        except ValueError:
            raise ConfigError(f"--effect {item!r}: expected VALUE or JUDGE=VALUE with a number, e.g. "
                              "--effect clipscore=0.05") from None
        if not number > 0 or number != number or number == float("inf"):
            raise ConfigError(f"--effect {item!r}: the effect must be a positive, finite number in the judge's units")
        if sep:
            per[name] = number
        else:
            default = number
    return per, default


@app.command(epilog="Example: harness power reports/pilot --effect clipscore=0.05 --seeds 3")
def power(
    run_dir: Path = typer.Argument(..., metavar="RUN_DIR", help="a finished run (its metrics.json has the answer)"),
    effect: Optional[list[str]] = typer.Option(None, metavar="[JUDGE=]VALUE",
                                               help="effect to detect, in the judge's units (default: the observed "
                                                    "difference); repeatable"),
    seeds: Optional[int] = typer.Option(None, metavar="N", help="also plan for N seeds per caption"),
    target: float = typer.Option(0.8, "--power", metavar="P", help="the power to reach (default 0.8)"),
    alpha: float = typer.Option(0.05, metavar="A", help="two-sided significance level (default 0.05)"),
) -> None:
    """Captions (and seeds) each comparison needs to detect an effect with the given power, from a pilot run."""
    from harness.errors import ConfigError
    from harness.metrics import power as pw
    from harness.rundir import existing_run

    rundir, _ = existing_run(run_dir)
    per, default = parse_effects(effect or [])
    if not 0 < target < 1 or not 0 < alpha < 1:
        raise ConfigError("--power and --alpha must be in (0, 1)")
    if seeds is not None and seeds < 1:
        raise ConfigError(f"--seeds {seeds}: must be >= 1")
    metrics = rundir.read_metrics()
    answer = (metrics or {}).get("answer")
    if metrics is None and not rundir.archive_path().is_file():
        raise ConfigError(f"{run_dir}: a manifest but no archive.parquet: no job of this run has finished; run or "
                          "resume it (harness run SUITE --out this folder) first")
    if metrics is None:
        raise ConfigError(f"{run_dir}: no metrics.json; run `harness metrics {run_dir}` first")
    if not answer:
        raise ConfigError(f"{run_dir}: metrics.json has no answer section; run `harness metrics {run_dir}` first")
    if "skipped" in answer:
        raise ConfigError(f"{run_dir}: {answer['skipped']}")
    unknown = sorted(set(per) - set(answer["judges"]))
    if unknown:
        raise ConfigError(f"--effect {unknown[0]}=...: not a held-out judge of this run (judges: "
                          f"{', '.join(answer['judges'])})")
    rows = pw.plan(answer, per, default, seeds, alpha, target)
    table = Table(title=f"power from {run_dir}: captions needed for {target:.0%} power at alpha {alpha}")
    columns = ["comparison", "judge", "observed", "effect", "caption sd", "now (captions × seeds)", "power now",
               "smallest detectable now", "captions needed"]
    if seeds is not None:
        columns.append(f"captions needed at {seeds} seeds")
    for col in columns:
        table.add_column(col, justify="left" if col in ("comparison", "judge") else "right", overflow="fold")

    def g(x, fmt="{:.3g}"):
        return "—" if x is None or x != x else fmt.format(x)
    for r in rows:
        cells = [r["comparison"], r["judge"], g(r["observed"], "{:+.3g}"), g(r["effect"]), g(r["caption_sd"]),
                 f"{r['captions']} × {r['seeds']}", g(r["power_now"], "{:.0%}"), g(r["mde_now"]),
                 g(r["captions_needed"], "{:d}")]
        if seeds is not None:
            cells.append(g(r.get("captions_needed_at_seeds"), "{:d}"))
        table.add_row(*cells)
    console.print(table)
    console.print(f"assumed test: {pw.ASSUMED_TEST}; seeds change a caption's sd as sqrt(between + within / seeds), "
                  f"the within-caption part estimated from the run's seeds (one seed: not separable, the run's "
                  "caption sd is used)")
