"""`harness reference build FOLDER`: feature statistics of real images for FID/KID."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from harness.cli.common import console
from harness.cli.main import app

reference_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None,
                            help="FID/KID reference sets: build one from a folder of real images.")
app.add_typer(reference_app, name="reference")


@reference_app.command(epilog="Example: harness reference build data/coco-val2017 --features clip --models default")
def build(
    folder: Path = typer.Argument(..., metavar="FOLDER", help="a folder of real images (searched recursively)"),
    features: str = typer.Option("inception", metavar="KIND", help="inception, clip (the profile's CLIPScore "
                                                                   "judge) or tiny; must match the runs' "
                                                                   "metrics.fid_features"),
    models: str = typer.Option("default", metavar="PROFILE", help="model profile whose judge gives clip features"),
    out: Optional[str] = typer.Option(None, metavar="FILE", help="the .npz to write (default FOLDER.<KIND>.npz)"),
    device: str = typer.Option("cpu", metavar="DEVICE", help="torch device: cpu, cuda, cuda:N or mps"),
) -> None:
    """Extract the features of every image in FOLDER once; use the file as --set metrics.reference=FILE."""
    from harness.cli.common import out_path
    from harness.errors import ConfigError

    out = out_path(out)
    if features not in ("inception", "clip", "tiny"):
        raise ConfigError(f"--features {features!r}: use inception, clip or tiny")
    if not folder.is_dir():
        raise ConfigError(f"{folder}: no such folder of images")
    target = out or folder.parent / f"{folder.name}.{features}.npz"
    if target.suffix != ".npz":
        raise ConfigError(f"--out {target}: the reference file must end in .npz")
    if target.exists():
        import numpy as np

        try:
            with np.load(target) as data:
                ours = "extractor" in data and "features" in data
        except Exception:  # not an npz at all
            ours = False
        if not ours:
            raise ConfigError(f"--out {target} exists and is not a file harness reference build wrote; nothing "
                              "there is overwritten: choose another --out")
    from harness.rundir import check_writable

    check_writable(target.parent)
    from harness.models.device import check_device

    check_device(device)
    evaluator = None
    if features == "clip":  # the profile's CLIPScore judge, as in a run of that profile
        from harness.config.schema import MetricsConfig, ModelsConfig
        from harness.config.typed import from_dict
        from harness.models import load_judge

        evaluator = load_judge(from_dict(ModelsConfig, {"profile": models}, "--models"), MetricsConfig(), device)[0]
    from harness.metrics.fid import build_reference, make_extractor

    info = build_reference(folder, make_extractor(features, evaluator), target)
    console.print(f"wrote {info['path']}: {info['n']} images, {info['feature_dim']}-d {info['extractor']} features; "
                  f"use --set metrics.reference={info['path']} with metrics.fid_features={features}")
