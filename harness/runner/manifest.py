"""What a run directory's manifest records: config, models, versions, commit, device, job status."""
from __future__ import annotations

import dataclasses
import datetime as dt
import platform
import subprocess
from importlib import metadata
from pathlib import Path

from harness.config.typed import to_dict

PACKAGES = ["harness", "torch", "torchvision", "open_clip_torch", "flair", "transformers", "torchmetrics", "pymoo",
            "pytorch-pretrained-biggan", "numpy", "scipy", "pandas", "pyarrow"]
SCHEMA = 1


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def package_versions() -> dict[str, str | None]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def git_commit() -> str | None:
    root = Path(__file__).resolve().parents[2]
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    return out.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def device_name(device: str) -> str:
    import torch

    if device.startswith("cuda") and torch.cuda.is_available():
        return f"{device} ({torch.cuda.get_device_name(torch.device(device))})"
    return f"{device} ({platform.processor() or platform.machine()})"


def identity(suite) -> dict:
    """What must match for a rerun to resume this directory: config, methods, captions."""
    run = to_dict(suite.run)
    run.pop("device", None)  # a run may resume on another device; the manifest records each
    return {"config": run, "methods": {m.name: dataclasses.asdict(m) for m in suite.methods},
            "captions": {c.id: c.text for c in suite.captions}}


def new_manifest(suite, jobs, models_desc: dict) -> dict:
    ident = identity(suite)
    return {
        "schema": SCHEMA,
        "suite": {"name": suite.name, "folder": str(suite.folder), "description": suite.config.description,
                  "captions": [{"id": c.id, "caption": c.text, "tags": list(c.tags)} for c in suite.captions],
                  "warnings": suite.warnings},
        **ident,
        "metrics_config": ident["config"]["metrics"],
        "seeds": list(suite.seeds),
        "models": models_desc,
        "versions": package_versions(),
        "git_commit": git_commit(),
        "device": device_name(suite.run.device),
        "started": now(),
        "ended": None,
        "sessions": [],
        "jobs": {j.id: {"caption_id": j.caption.id, "method": j.method.name, "seed": j.seed, "status": "pending",
                        "attempts": 0} for j in jobs},
    }


def mismatch(old: dict, suite) -> str | None:
    """The first difference that forbids resuming `old` with `suite`, or None."""
    new = identity(suite)
    if old.get("config") != new["config"]:
        for section, value in new["config"].items():
            if old.get("config", {}).get(section) != value:
                return f"config section '{section}' differs"
    for name, cfg in new["methods"].items():
        if name in old.get("methods", {}) and old["methods"][name] != cfg:
            return f"method '{name}' differs"
    for cid, text in new["captions"].items():
        if cid in old.get("captions", {}) and old["captions"][cid] != text:
            return f"caption '{cid}' differs"
    return None
