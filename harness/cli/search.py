"""`harness search CAPTION`: one caption, one method, one seed."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from harness.cli.common import SET_HELP, console
from harness.cli.main import app
from harness.errors import HarnessError


@app.command(epilog='Example: harness search "a cat is lay on the table." --models tiny --out reports/search/cat')
def search(
    caption: str = typer.Argument(..., metavar="CAPTION", help="the caption to turn into an image"),
    method: str = typer.Option("four_objective", metavar="METHOD", help="a method of baselines/ or a YAML file"),
    models: str = typer.Option("default", metavar="PROFILE", help="model profile: default, random or tiny"),
    seed: int = typer.Option(0, metavar="N", help="seed of the initial latents and the optimizer"),
    out: str = typer.Option("reports/search", metavar="DIR",
                             help="output folder (new, empty, or an earlier harness search output)"),
    device: str = typer.Option("cpu", metavar="DEVICE", help="torch device: cpu, cuda, cuda:N or mps"),
    set_: Optional[list[str]] = typer.Option(None, "--set", metavar="KEY=VALUE",
                                             help=SET_HELP),
) -> None:
    """Search one caption; write manifest.json, archive.parquet (+ scores.csv), selected.png and population/ to OUT."""
    from harness.config.run import build_run_config
    from harness.critics.caption_words import caption_words
    from harness.rundir import check_writable
    from harness.rundir.search_output import prepare_search_out
    from harness.suites.captions import control_character
    from harness.suites.suite import check_seeds

    from harness.cli.common import out_path

    out = out_path(out)
    if not caption.strip():
        raise HarnessError("the caption is empty; give a caption, e.g. harness search \"a cat is lay on the table.\"")
    bad = control_character(caption)
    if bad:
        raise HarnessError(f"the caption contains the control character {bad}; remove it (any other Unicode text "
                           "is fine)")
    caption_words(caption)
    check_seeds([seed], "--seed")
    from harness.config.methods import load_method as read_method
    from harness.suites.suite import with_critics

    cfg = with_critics(build_run_config(sets=set_ or [], models__profile=models, device=device), [read_method(method)],
                       "--set")
    from harness.cli.common import err_console
    from harness.suites.captions import Caption
    from harness.suites.tokens import check_caption_lengths, script_warnings

    one = [Caption("caption", caption)]
    warnings = check_caption_lengths(one, cfg, "truncate", "the caption")[1] + script_warnings(one, cfg)
    for warning in warnings:
        err_console.print(f"warning: {warning}", markup=False)
    check_writable(out)
    prepare_search_out(out)
    from harness.cli.progress import GenerationProgress
    from harness.executors.single import search_caption
    from harness.models.device import check_device
    from harness.rundir import RunDir
    from harness.search.system import build_system

    check_device(cfg.device)
    with RunDir(out):  # held from before the models load: a second search into this folder is refused at once
        prepare_search_out(out)
        system = build_system(cfg)
        with GenerationProgress(cfg.search.generations, f"{Path(method).stem} seed {seed}") as progress:
            result = search_caption(caption, method=method, seed=seed, out=out, system=system, callbacks=[progress],
                                    warnings=warnings, locked=True)
    table = Table(title=f"{caption}  [{method}, seed {seed}]")
    table.add_column("score")
    table.add_column("selected ↑", justify="right")
    table.add_column("population mean", justify="right")
    for name, value in result.selected_scores.items():
        table.add_row(name, f"{value:.4f}", f"{result.scores[name].mean():.4f}")
    console.print(table)
    console.print(f"{result.evaluations} evaluations; outputs in {out}")
