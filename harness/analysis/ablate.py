"""Ablations: one run per value (or grid point) of swept config fields, then what moved with the value.

`--set critics.image_real.temperature=0.5,1,2,5` sweeps; several swept fields make a grid; a
`--set` with one value applies to every run. Each run is an ordinary, resumable run directory
under one parent. The analysis reports, per value: every metric and score of the selected images
with intervals; the selected images of the *first* run rescored under each value (the same images,
so only the critics' change shows); and how often the selected image changes between values.
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from harness.config.typed import parse_set
from harness.errors import ConfigError

ABLATION_FILES = ("ablation.md", "ablation.json", "figures")  # what harness ablate writes beside its runs


@dataclass
class Sweep:
    fixed: list[str]  # --set key=value applied to every run
    fields: list[tuple[str, list[str]]]  # (key, raw values) swept
    points: list[dict[str, str]] = field(default_factory=list)  # the grid, in order

    @property
    def keys(self) -> list[str]:
        return [k for k, _ in self.fields]


def is_swept(item: str) -> bool:
    """Does `--set KEY=V1,V2` sweep (a comma outside a YAML list or mapping)?"""
    raw = item.split("=", 1)[-1]
    return "," in raw and not raw.strip().startswith(("[", "{"))


def parse_sweep(sets: list[str]) -> Sweep:
    fixed, fields = [], []
    for item in sets:
        key, _ = parse_set(item)
        raw = item.split("=", 1)[1]
        if is_swept(item):
            values = [v.strip() for v in raw.split(",")]
            if any(not v for v in values) or len(set(values)) != len(values):
                raise ConfigError(f"--set {item!r}: the swept values must be distinct and non-empty")
            fields.append((key, values))
        else:
            fixed.append(item)
    if not fields:
        raise ConfigError("harness ablate needs a swept field: --set key=v1,v2[,...] "
                          "(e.g. --set critics.image_real.temperature=0.5,1,2,5)")
    if len({k for k, _ in fields}) != len(fields):
        raise ConfigError("harness ablate: a field is swept twice")
    points = [dict(zip([k for k, _ in fields], combo)) for combo in itertools.product(*[v for _, v in fields])]
    return Sweep(fixed, fields, points)


def point_name(point: dict[str, str]) -> str:
    """Folder name of one grid point, e.g. 'critics.image_real.temperature=0.5'."""
    return re.sub(r"[^A-Za-z0-9._=,+-]", "_", ",".join(f"{k}={v}" for k, v in point.items()))


def point_sets(sweep: Sweep, point: dict[str, str]) -> list[str]:
    return sweep.fixed + [f"{k}={v}" for k, v in point.items()]


def sweep_metrics(metrics: dict) -> list[str]:
    """The numbers an ablation plots: every score of the summary (the run's critics, then CLIPScore)."""
    first = next(iter(metrics["methods"].values()), {})
    return [k for k, e in first.items() if isinstance(e, dict) and "value" in e and k != "clipscore_search_model"]


def metric_rows(point: dict, metrics: dict) -> list[dict]:
    rows = []
    for method, entry in metrics["methods"].items():
        row = {**point, "method": method}
        for m in sweep_metrics(metrics):
            e = entry[m]
            lo, hi = e["interval"] or (e["value"], e["value"])
            row.update({f"{m}_mean": e["value"], f"{m}_lo": lo, f"{m}_hi": hi, f"{m}_n": e["n"],
                        f"{m}_captions": e.get("captions"), f"{m}_seeds": e.get("seeds")})
        rows.append(row)
    return rows


def same_image_rows(point: dict, rescored: pd.DataFrame, cfg) -> list[dict]:
    """Means (with intervals over captions) per method of the first run's selected images rescored under
    `point`; cfg: a MetricsConfig (bootstrap, confidence)."""
    from harness.metrics.evidence import column_entry

    rows = []
    names = [c for c in rescored.columns if c not in ("caption_id", "method", "seed", "caption", "individual",
                                                       "selected")]
    for method, group in rescored.groupby("method", sort=False):
        row = {**point, "method": method}
        for n in names:
            e = column_entry(group, n, cfg)
            lo, hi = e["interval"] or (e["value"], e["value"])
            row.update({f"{n}_mean": e["value"], f"{n}_lo": lo, f"{n}_hi": hi, f"{n}_n": e["n"],
                        f"{n}_captions": e["captions"], f"{n}_seeds": e["seeds"]})
        rows.append(row)
    return rows


def selection_changes(dirs: list[Path]) -> list[dict]:
    """Between consecutive grid points: the share of jobs whose selected image differs."""
    from harness.rundir import JobKey, RunDir

    out = []
    for a, b in zip(dirs, dirs[1:]):
        runs = [RunDir(a), RunDir(b)]
        done = [{JobKey.of(r) for r in run.read_manifest()["jobs"] if r["status"] == "done"} for run in runs]
        shared = sorted(done[0] & done[1])
        changed = {k for k in shared if runs[0].selected_png(k).read_bytes() != runs[1].selected_png(k).read_bytes()}
        by_method: dict[str, list[int]] = {}
        for k in shared:
            by_method.setdefault(k.method, []).append(int(k in changed))
        out.append({"from": a.name, "to": b.name, "jobs": len(shared), "changed": len(changed),
                    "share": len(changed) / len(shared) if shared else None,
                    "by_method": {m: float(np.mean(v)) for m, v in by_method.items()}})
    return out


def _value(tree: dict, key: str):
    for part in key.split("."):
        if not isinstance(tree, dict) or part not in tree:
            return None
        tree = tree[part]
    return tree


def default_point(sweep: Sweep, suites: list, default_run) -> tuple[int, str]:
    """The grid point every other is compared with: the one at the configuration's own values (the suite without
    the sweep), else the first point; with a sentence saying which."""
    from harness.config.typed import to_dict

    want = {k: _value(to_dict(default_run), k) for k in sweep.keys}
    for i, s in enumerate(suites):
        if all(_value(to_dict(s.run), k) == v for k, v in want.items()):
            return i, f"each value against the default, {point_name(sweep.points[i])}"
    shown = ", ".join(f"{k}={v}" for k, v in want.items())
    return 0, (f"the default ({shown}) is not among the swept values: each value against the first, "
               f"{point_name(sweep.points[0])}")


def sweep_answer(sweep: Sweep, suites: list, metrics: list[dict | None], default_run) -> dict:
    """Each grid point against the default point, per method, on every held-out judge and in-loop critic: one
    family of tests (harness.analysis.effects). The runs share captions, seeds and so initial latents."""
    from harness.analysis.critic_ablation import measures
    from harness.analysis.effects import family
    from harness.metrics.compute import directions

    ref, note = default_point(sweep, suites, default_run)
    if metrics[ref] is None:
        return {"against": note, "comparisons": [], "skipped": "the default point's run has no metrics"}
    from harness.rundir import RunDir

    base = pd.DataFrame(metrics[ref]["per_job"])
    manifest = RunDir(Path(metrics[ref]["run"])).read_manifest()
    recorded = [c["name"] if isinstance(c, dict) else c for c in manifest.get("critics", [])]
    critics = [c for c in recorded if c in base]
    judges = [j for j in measures(metrics[ref], critics)[0] if j in base]
    comparisons = []
    for i, (point, m) in enumerate(zip(sweep.points, metrics)):
        if i == ref or m is None:
            continue
        jobs = pd.DataFrame(m["per_job"])
        for method in dict.fromkeys(jobs["method"]):
            comparisons.append((f"{point_name(point)}: {method}", jobs[jobs["method"] == method],
                                base[base["method"] == method]))
    dirs = directions(manifest)
    return {"against": note, "default": point_name(sweep.points[ref]), "judges": judges, "critics": critics,
            "comparisons": family(comparisons, judges + critics, dirs, suites[ref].run.metrics)}


@dataclass
class AblationResult:
    sweep: Sweep
    dirs: list[Path]
    metric_rows: list[dict]  # per grid point and method: every metric with its interval
    same_image_rows: list[dict]  # the first run's selected images rescored under each point
    changes: list[dict]  # selection changes between consecutive points
    report: Path
    failed: dict[str, int]  # grid point folder -> failed jobs
    answer: dict = field(default_factory=dict)  # each point against the default (sweep_answer)


def run_ablation(suite_path: Path, sets: list[str], out: Path | None = None, observer=None, **suite_args
                 ) -> AblationResult:
    """One ordinary run (harness.analysis.pipeline) per grid point under one parent, then the analysis.

    suite_args: methods, seeds, models, device, limit as for harness.suites.load_suite.
    """
    from harness.rundir import RunDir, check_writable
    from harness.suites import load_suite

    sweep = parse_sweep(sets)
    suites = [load_suite(suite_path, sets=point_sets(sweep, p), **suite_args) for p in sweep.points]  # all first
    parent = out or Path("reports") / f"ablate-{suites[0].name}"
    from harness.rundir.rundir import is_run_directory, refuse_foreign

    refuse_foreign(parent, "ablate", lambda p: p.name in ABLATION_FILES or (p.is_dir() and (
        is_run_directory(p) or not any(p.iterdir()))))
    check_writable(parent)
    from harness.report.sweep import write_ablation
    from harness.analysis.pipeline import check_inputs, run_pipeline
    from harness.analysis.regress import rescore, stored_images
    from harness.config.typed import to_dict
    from harness.critics.scorer import Scorer
    from harness.executors.observer import NULL
    from harness.models import load_models
    from harness.search.system import build_system

    observer = observer or NULL
    for point, s in zip(sweep.points, suites):
        check_inputs(s, parent / point_name(point))
    loaded: dict[str, object] = {}
    dirs, metric_table, systems, failed, all_metrics = [], [], [], {}, []
    for point, s in zip(sweep.points, suites):
        key = repr(to_dict(s.run.models)) + s.run.device
        if key not in loaded:
            loaded[key] = load_models(s.run.models, s.run.device, batch_size=s.run.critics.batch_size)
        system = build_system(s.run, models=loaded[key])
        target = parent / point_name(point)
        observer.phase(point_name(point))
        result = run_pipeline(s, target, observer=observer, system=system)
        if result.outcome.failed:
            failed[target.name] = len(result.outcome.failed)
        if result.metrics is not None:
            metric_table += metric_rows(point, result.metrics)
        all_metrics.append(result.metrics)
        dirs.append(target)
        systems.append(system)
    base = RunDir(dirs[0])
    base.read_manifest()
    table = stored_images(base, base.read_final(), base.read_manifest())
    table = table[table["selected"]].reset_index(drop=True)
    same_rows = []
    for point, s, system in zip(sweep.points, suites, systems):
        scored = rescore(Scorer.from_models(system.models, s.run.critics), table)
        same_rows += same_image_rows(point, scored, s.run.metrics)
    changes = selection_changes(dirs)
    answer = sweep_answer(sweep, suites, all_metrics, load_suite(suite_path, sets=sweep.fixed, **suite_args).run)
    path = write_ablation(parent, sweep, dirs, pd.DataFrame(metric_table), pd.DataFrame(same_rows), changes, answer)
    return AblationResult(sweep, dirs, metric_table, same_rows, changes, path, failed, answer)
