"""`harness regress RUN_DIR`: did a scorer change move the scores of the stored images?"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table
from rich.text import Text

from harness.cli.common import SET_HELP, console
from harness.cli.main import app


def load_run_config(manifest: dict, sets: list[str], device: str | None = None):
    """The run's resolved config from its manifest, with `--set` overrides."""
    from harness.config.run import build_run_config

    return build_run_config(manifest["config"], sets=sets, where="the run's manifest.json config", device=device)


@app.command(epilog="Example: harness regress reports/smoke --tolerance image_real=1e-3")
def regress(
    run_dir: Path = typer.Argument(..., metavar="RUN_DIR", help="a run directory (or a committed reference run)"),
    reference: Optional[Path] = typer.Option(None, metavar="FILE",
                                             help="compare against this reference file, not the archive"),
    update: bool = typer.Option(False, help="write the new scores as the reference (--reference, or "
                                             "RUN_DIR/regress_reference.json) and exit 0"),
    tolerance: Optional[list[str]] = typer.Option(None, metavar="CRITIC=MAX",
                                                  help="CRITIC=MAX_ABS_CHANGE (default 1e-4 each); repeatable"),
    device: Optional[str] = typer.Option(None, metavar="DEVICE", help="torch device: cpu, cuda, cuda:N or mps"),
    selected_only: bool = typer.Option(False, "--selected-only",
                                       help="rescore each job's selected image only (one per job instead of the "
                                            "whole final population: quicker on real-size models)"),
    set_: Optional[list[str]] = typer.Option(None, "--set", metavar="KEY=VALUE",
                                             help=SET_HELP),
) -> None:
    """Rescore RUN_DIR's stored images with the current critics; exit 1 when a critic moved beyond tolerance."""
    from harness.analysis.regress import (compare, parse_tolerances, read_reference, rescore, stored_images,
                                          write_reference)
    from harness.rundir import existing_run

    rundir, manifest = existing_run(run_dir)
    from harness import plugins

    gone = plugins.missing(manifest, kinds=("critic",))
    if gone and not any(s.startswith("critics.plugins=") for s in set_ or []):
        from harness.errors import HarnessError

        kept = [c for c in manifest.get("config", {}).get("critics", {}).get("plugins", [])
                if c not in {r["name"] for r in gone}]
        raise HarnessError(plugins.missing_message(gone, f'--set "critics.plugins=[{", ".join(kept)}]" (the '
                                                         "critics that are installed; the others are not compared)"))
    if gone:  # going on without them: their settings go too
        critics = {k: v for k, v in manifest["config"].get("critics", {}).items() if k not in {r["name"] for r in gone}}
        manifest = {**manifest, "config": {**manifest["config"], "critics": critics}}
    from harness.rundir.archive import score_columns

    archive = rundir.read_final()
    names = score_columns(archive, manifest)
    tolerances = parse_tolerances(tolerance or [], names)
    cfg = load_run_config(manifest, set_ or [], device)
    old = read_reference(reference, manifest) if reference and not update else None
    table = stored_images(rundir, archive, manifest)
    if selected_only:
        table = table[table["selected"]].reset_index(drop=True)
    from harness.models.device import check_device
    from harness.search.system import build_system

    check_device(cfg.device)
    system = build_system(cfg)
    new = rescore(system.scorer, table)
    if update:
        from harness.config.typed import to_dict

        target = reference or rundir.path / "regress_reference.json"
        write_reference(target, new, to_dict(cfg.critics))
        console.print(f"wrote the reference {target} ({len(new)} images)")
        return
    if old is None:
        old = table
    result = compare(old, new, tolerances, names)
    show = Table(title=(f"regress {run_dir}: {result['n']} stored images rescored "
                       f"(against {'reference ' + str(reference) if reference else 'the scores recorded at run time'})"))
    for col in ("critic", "mean |Δ|", "max |Δ|", "tolerance", "Spearman old~new", "moved most", "verdict"):
        show.add_column(col, justify="left" if col in ("critic", "moved most") else "right")
    for name, c in result["critics"].items():
        top = ", ".join(f"{cid} ({v:.2g})" for cid, v in c["top_captions"][:2]) if c["mean_abs_change"] > 0 else "—"
        show.add_row(name, f"{c['mean_abs_change']:.3g}", f"{c['max_abs_change']:.3g}", f"{c['tolerance']:.0e}",
                     f"{c['spearman']:.4f}", top, Text("MOVED", style="red") if c["moved"] else "ok")
    console.print(show)
    if result["unmatched"]:
        console.print(f"not compared (a critic only the run or only the current critics have): "
                      f"{', '.join(result['unmatched'])}")
    if result["failed"]:
        console.print(f"scores moved beyond tolerance: {', '.join(result['failed'])}")
        raise typer.Exit(1)
    console.print("no critic moved beyond its tolerance")
