"""The manifest: what a run directory holds and how it was made.

Schema 2 (layout 2): kind (run | search), the suite (name, version, every caption with id and
text), resolved config, methods, seeds, models and weight hashes, package versions, git commit,
device, sessions, and one record per job ({caption_id, method, seed, folder, status, ...}).
A schema-1 manifest (layout 1, before the run-directory layer) is read through `normalize`.

A directory grows (new captions, seeds or methods) but never changes meaning: another suite name
or version, changed text under a caption id, another config section or another definition of a
method already run is refused by `refusal`.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import platform
import subprocess
from importlib import metadata
from pathlib import Path

from harness.config.typed import to_dict
from harness.errors import HarnessError
from harness.rundir.archive import ARCHIVE_SCHEMA, EXTENDABLE_SCHEMAS
from harness.rundir.layout import LAYOUT_VERSION, JobKey, job_folder

PACKAGES = ["harness", "torch", "torchvision", "open_clip_torch", "flair", "transformers", "torchmetrics", "pymoo",
            "pytorch-pretrained-biggan", "diffusers", "numpy", "scipy", "pandas", "pyarrow"]
SCHEMA = 2


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


def run_config(run) -> dict:
    """The resolved config as recorded; the device is per session (a run may resume on another)."""
    cfg = to_dict(run)
    cfg.pop("device", None)
    return cfg


def job_record(key: JobKey) -> dict:
    return {**key.record(), "folder": job_folder(key), "status": "pending", "attempts": 0}


def base_manifest(kind: str, suite: dict, run, methods: list, seeds: list[int], keys: list[JobKey],
                  models_desc: dict, critics: list[dict] = (), plugins: list[dict] = ()) -> dict:
    """A new manifest. suite: {name, version, folder, description, captions: [{id, caption, tags}], warnings};
    critics: the run's critic set as recorded (name, higher_is_better, score_range, builtin, plugin provenance);
    plugins: every other plugin that scored or read the run (judges, metric sections, importers, generators)."""
    config = run_config(run)
    return {
        "schema": SCHEMA, "layout": LAYOUT_VERSION, "archive_schema": ARCHIVE_SCHEMA, "kind": kind,
        "suite": suite,
        "critics": list(critics),
        "plugins": list(plugins),
        "config": config,
        "methods": {m.name: dataclasses.asdict(m) for m in methods},
        "metrics_config": config["metrics"],
        "seeds": [int(s) for s in seeds],
        "models": models_desc,
        "versions": package_versions(),
        "git_commit": git_commit(),
        "device": device_name(run.device),
        "started": now(),
        "ended": None,
        "sessions": [],
        "jobs": [job_record(k) for k in keys],
    }


def suite_record(suite) -> dict:
    """The manifest's description of a harness.suites.Suite."""
    return {"name": suite.name, "version": suite.config.version, "folder": str(suite.folder),
            "description": suite.config.description,
            "captions": [{"id": c.id, "caption": c.text, "tags": list(c.tags),
                          **({"category": c.category} if c.category else {}),
                          **({"requires": c.requirements} if c.requirements else {})} for c in suite.captions],
            "warnings": list(suite.warnings),
            **({"ablation": suite.ablation} if getattr(suite, "ablation", None) else {})}


def new_run_manifest(suite, keys: list[JobKey], models_desc: dict, critics: list[dict] = (),
                     plugins: list[dict] = ()) -> dict:
    return base_manifest("run", suite_record(suite), suite.run, suite.methods, suite.seeds, keys, models_desc,
                         critics, plugins)


def normalize(manifest: dict) -> dict:
    """A manifest of any schema in the current shape (schema 1: jobs keyed by folder name, no layout)."""
    if manifest.get("schema", 1) >= 2:
        return manifest
    out = dict(manifest)
    out["layout"], out["kind"], out["archive_schema"] = 1, "run", 1
    out["suite"] = {"version": 1, **manifest.get("suite", {})}
    jobs = manifest.get("jobs", {})
    out["jobs"] = [{**rec, "folder": f"jobs/{name}"} for name, rec in jobs.items()] if isinstance(jobs, dict) else jobs
    return out


def refusal(old: dict, suite) -> str | None:
    """Why `suite` may not run into the directory of manifest `old`, or None (same run, or growth)."""
    name, version = old.get("suite", {}).get("name"), old.get("suite", {}).get("version")
    if old.get("kind", "run") != "run":
        return f"it holds the output of harness {old.get('kind')}, not a suite run"
    if old.get("layout") != LAYOUT_VERSION:
        return f"it was written in run-directory layout {old.get('layout')} (now {LAYOUT_VERSION}) and can be read " \
               "(report, metrics, compare, regress) but not extended"
    if old.get("archive_schema") not in EXTENDABLE_SCHEMAS:
        return f"its archive has schema {old.get('archive_schema')} (now {ARCHIVE_SCHEMA}) and can be read but not " \
               "extended"
    if (name, version) != (suite.name, suite.config.version):
        return f"it holds suite '{name}' version {version}, not '{suite.name}' version {suite.config.version}"
    texts = {c["id"]: c["caption"] for c in old.get("suite", {}).get("captions", [])}
    for c in suite.captions:
        if c.id in texts and texts[c.id] != c.text:
            return f"caption '{c.id}' now reads {c.text!r}, but the run has {texts[c.id]!r}; give the new text a new id"
    new = run_config(suite.run)
    old_profile = old.get("config", {}).get("models", {}).get("profile")
    if old_profile and old_profile != suite.run.models.profile:
        return (f"it holds a run made with --models {old_profile} (this command asks for "
                f"--models {suite.run.models.profile}); rerun with --models {old_profile} to resume it, or give this "
                "run its own folder, e.g. --out {path}-" + suite.run.models.profile)
    for section, value in new.items():
        if old.get("config", {}).get(section) != value:
            return f"config section '{section}' differs"
    for m in suite.methods:
        if m.name in old.get("methods", {}) and old["methods"][m.name] != dataclasses.asdict(m):
            return f"method '{m.name}' is defined differently"
    return None


def grow(old: dict, suite, keys: list[JobKey], models_desc: dict, critics: list[dict] = (),
         plugins: list[dict] = ()) -> dict:
    """`old` with the captions, methods, seeds and jobs of `suite` added (finished jobs keep their records)."""
    fresh = new_run_manifest(suite, keys, models_desc, critics, plugins)
    out = {**old, "models": fresh["models"], "versions": fresh["versions"], "git_commit": fresh["git_commit"],
           "device": fresh["device"], "ended": None, "archive_schema": ARCHIVE_SCHEMA,
           "critics": fresh["critics"] or old.get("critics", []), "plugins": fresh["plugins"] or old.get("plugins", [])}
    captions = {c["id"]: c for c in old["suite"]["captions"]}
    captions.update({c["id"]: c for c in fresh["suite"]["captions"] if c["id"] not in captions})
    out["suite"] = {**old["suite"], "captions": list(captions.values()),
                    "warnings": list(dict.fromkeys(old["suite"].get("warnings", []) + fresh["suite"]["warnings"])),
                    **({"ablation": fresh["suite"]["ablation"]} if "ablation" in fresh["suite"] else {})}
    out["methods"] = {**old["methods"], **fresh["methods"]}
    out["seeds"] = list(dict.fromkeys(old["seeds"] + fresh["seeds"]))
    have = {JobKey.of(r) for r in old["jobs"]}
    out["jobs"] = old["jobs"] + [r for r in fresh["jobs"] if JobKey.of(r) not in have]
    return out


def job_picks(manifest: dict, policy: str | None = None):
    """Every finished job's picks as a table (method, caption_id, seed, policy, individual); with `policy`,
    that policy's picks only (columns method, caption_id, seed, individual). Jobs finished before picks
    were stored have only their method's own pick."""
    import pandas as pd

    rows = []
    own = {name: m.get("pick") for name, m in manifest.get("methods", {}).items()}
    for rec in manifest.get("jobs", []):
        if rec.get("status") != "done":
            continue
        picks = rec.get("picks") or {own.get(rec["method"]): rec.get("selected")}
        rows += [{"method": rec["method"], "caption_id": rec["caption_id"], "seed": int(rec["seed"]), "policy": p,
                  "individual": int(i)} for p, i in picks.items() if p is not None and i is not None]
    table = pd.DataFrame(rows, columns=["method", "caption_id", "seed", "policy", "individual"])
    if policy is None:
        return table
    return table[table["policy"] == policy].drop(columns="policy").reset_index(drop=True)


def stored_policies(manifest: dict) -> list[str]:
    """The pick policies every finished job of the run has a stored pick for."""
    table = job_picks(manifest)
    jobs = table.groupby(["method", "caption_id", "seed"]).ngroups
    counts = table.groupby("policy").size()
    return [p for p in dict.fromkeys(table["policy"]) if counts[p] == jobs] if jobs else []


def check_pick(manifest: dict, pick: str) -> None:
    """Refuse (one line) a pick policy the run has not stored for every job."""
    if pick not in stored_policies(manifest):
        raise HarnessError(f"this run has no stored {pick!r} pick for every job (stored: "
                           f"{', '.join(stored_policies(manifest)) or 'none'}); runs made before every policy's pick "
                           "was stored need a rerun into a new --out")
