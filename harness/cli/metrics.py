"""`harness metrics RUN_DIR`: recompute metrics.json from the stored images and archive."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from harness.cli.common import SET_HELP, console
from harness.cli.main import app


def metrics_config(manifest: dict, sets: list[str]):
    """The run's metric settings with `--set metrics.x=...` applied."""
    from harness.config.run import build_run_config

    base = {"metrics": dict(manifest.get("config", {}).get("metrics", {}))}
    return build_run_config(base, sets=sets).metrics


def compute_and_show(rundir, cfg, device: str = "cpu", search_clip=None, reference: Optional[str] = None) -> dict:
    from harness.cli.tables import metrics_table
    from harness.metrics.compute import compute_metrics

    result = compute_metrics(rundir, cfg, device=device, search_clip=search_clip, reference=reference)
    console.print(metrics_table(result))
    return result


def previous_metrics(rundir) -> dict | None:
    """The metrics.json being replaced, for the plugins it recorded (None when absent or unreadable: it is recomputed
    anyway, and a torn archive is reported first)."""
    from harness.errors import HarnessError

    try:
        return rundir.read_metrics()
    except HarnessError:
        return None


def check_plugins(manifest: dict, metrics: dict | None, sets: list[str]) -> None:
    """Every judge and metric section the run recorded that is not installed, named at once with how to install
    them and the --set that goes on without them (unless `sets` already changes those settings)."""
    from harness import plugins
    from harness.errors import HarnessError

    gone = plugins.missing(manifest, metrics, kinds=("judge", "metric section"))
    if not gone or any(s.startswith(("metrics.evaluators=", "metrics.plugins=")) for s in sets):
        return
    cfg = manifest.get("config", {}).get("metrics", {})
    names = {r["name"] for r in gone}
    evaluators = [e if isinstance(e, str) else e.get("name") for e in cfg.get("evaluators") or []]
    go_on = []
    if any(r["kind"] == "judge" for r in gone):
        go_on.append(f'--set "metrics.evaluators=[{", ".join(e for e in evaluators if e not in names)}]"')
    if any(r["kind"] == "metric section" for r in gone):
        go_on.append(f'--set "metrics.plugins=[{", ".join(p for p in cfg.get("plugins", []) if p not in names)}]"')
    raise HarnessError(plugins.missing_message(gone, " ".join(go_on)))


@app.command(epilog="Example: harness metrics reports/smoke --reference data/coco-val --set metrics.bootstrap=2000")
def metrics(
    run_dir: Path = typer.Argument(..., metavar="RUN_DIR", help="a run directory written by harness run"),
    reference: Optional[str] = typer.Option(None, metavar="PATH",
                                            help="FID/KID reference: image folder or .npz statistics"),
    device: str = typer.Option("cpu", metavar="DEVICE", help="torch device: cpu, cuda, cuda:N or mps"),
    set_: Optional[list[str]] = typer.Option(None, "--set", metavar="KEY=VALUE",
                                             help=SET_HELP.replace("a config field", "a metrics field")),
) -> None:
    """Recompute every metric of RUN_DIR (CLIPScore, FID/KID, correlations, hypervolume, paired tests)."""
    from harness.metrics.checks import check_metrics
    from harness.rundir import existing_run

    rundir, manifest = existing_run(run_dir)
    check_plugins(manifest, previous_metrics(rundir), set_ or [])
    cfg = metrics_config(manifest, set_ or [])
    from harness.models.device import check_device

    check_device(device)
    from harness.config.schema import ModelsConfig
    from harness.config.typed import from_dict

    check_metrics(cfg, from_dict(ModelsConfig, manifest["config"]["models"], "manifest.json"), reference)
    with rundir:
        compute_and_show(rundir, cfg, device=device, reference=reference)
    console.print(f"wrote {rundir.path / 'metrics.json'}")
