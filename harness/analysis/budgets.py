"""`harness ablate SUITE --budgets 500,1000,2000`: every method of the suite at each budget of function evaluations
(search.nfe; harness.search.budget), one ordinary run per budget under one parent, then score against compute.

Per held-out judge and per in-loop critic, each method's mean of caption means at each budget with its interval over
captions (the harness's two-stage bootstrap), and the verifier-hacking gap: z(in-loop text_image) - z(judge), the
run report's definition, with z taken over the picked images of every budget together so the budgets share one
scale. The answer says, per budget and held-out judge, which method is ahead: the highest mean, tested against every
other method over captions (Wilcoxon, Benjamini-Hochberg over every budget, judge and pair: one family).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from harness.errors import ConfigError

BUDGET_FILES = ("budgets.md", "budgets.json", "figures")  # what --budgets writes beside its runs


def parse_budgets(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        raise ConfigError(f"--budgets {text!r}: give whole numbers of function evaluations, e.g. --budgets 500,1000,2000"
                          ) from None
    if not values or any(v < 1 for v in values) or len(set(values)) != len(values):
        raise ConfigError(f"--budgets {text!r}: the budgets must be distinct positive numbers of NFE")
    return sorted(values)


def budget_folder(nfe: int) -> str:
    return f"nfe={nfe}"


@dataclass
class BudgetResult:
    budgets: list[int]
    dirs: list[Path]
    report: Path
    summary: dict
    failed: dict = field(default_factory=dict)


def run_budgets(suite_path: Path, budgets: list[int], out: Path | None = None, observer=None, sets=(),
                **suite_args) -> BudgetResult:
    """One run per budget (every input checked first, models loaded once), then the curves and the answer."""
    from harness.rundir import check_writable
    from harness.rundir.rundir import is_run_directory, refuse_foreign
    from harness.suites import load_suite

    if any(s.split("=", 1)[0].strip() == "search.nfe" for s in sets):
        raise ConfigError("--set search.nfe does not apply with --budgets: the budgets are the values of search.nfe")
    suites = [load_suite(suite_path, sets=[*sets, f"search.nfe={b}"], **suite_args) for b in budgets]  # all first
    parent = out or Path("reports") / f"budgets-{suites[0].name}"
    refuse_foreign(parent, "ablate --budgets", lambda p: p.name in BUDGET_FILES or (p.is_dir() and (
        is_run_directory(p) or not any(p.iterdir()))))
    check_writable(parent)
    from harness.analysis.pipeline import check_inputs, run_pipeline  # torch from here on: every input is checked

    for b, s in zip(budgets, suites):
        check_inputs(s, parent / budget_folder(b))
    from harness.executors.observer import NULL
    from harness.models import load_models
    from harness.search.system import build_system

    observer = observer or NULL
    models = load_models(suites[0].run.models, suites[0].run.device, batch_size=suites[0].run.critics.batch_size)
    dirs, metrics, failed = [], [], {}
    for b, s in zip(budgets, suites):
        target = parent / budget_folder(b)
        observer.phase(budget_folder(b))
        result = run_pipeline(s, target, observer=observer, system=build_system(s.run, models=models))
        if result.outcome.failed:
            failed[target.name] = len(result.outcome.failed)
        dirs.append(target)
        metrics.append(result.metrics)
    summary = summarise(budgets, metrics, suites[0].run.metrics)
    from harness.report.budgets import write_budgets

    path = write_budgets(parent, summary, dirs)
    return BudgetResult(budgets, dirs, path, summary, failed)


def summarise(budgets: list[int], metrics: list[dict | None], cfg) -> dict:
    """curves, hacking gaps and the answer from each budget's metrics.json (cfg: a MetricsConfig)."""
    from harness.analysis.critic_ablation import measures
    from harness.metrics.evidence import column_entry

    usable = [(b, m) for b, m in zip(budgets, metrics) if m is not None and m.get("per_job")]
    if not usable:
        return {"budgets": budgets, "skipped": "no budget's run has metrics"}
    first = usable[0][1]
    jobs = pd.concat([pd.DataFrame(m["per_job"]).assign(budget=b) for b, m in usable], ignore_index=True)
    from harness.rundir import RunDir

    recorded = RunDir(Path(first["run"])).read_manifest().get("critics", [])
    critics = [n for n in (c["name"] if isinstance(c, dict) else c for c in recorded) if n in jobs]
    judges = [j for j in measures(first, critics)[0] if j in jobs and np.isfinite(
        jobs[j].to_numpy(dtype=np.float64)).any()]
    methods = list(dict.fromkeys(jobs["method"]))
    spent = {b: {m: e["nfe"]["value"] for m, e in (mm.get("nfe", {}).get("methods") or {}).items()} for b, mm in usable}
    gapped = judges if "text_image" in jobs else []
    z = lambda c: (jobs[c] - jobs[c].mean()) / (jobs[c].std(ddof=0) or 1.0)  # noqa: E731
    for j in gapped:
        jobs[f"gap|{j}"] = z("text_image") - z(j)
    cells = {key: group for key, group in jobs.groupby(["method", "budget"], sort=False)}  # (method, budget) -> jobs

    def series(column: str, with_spent: bool) -> dict:
        """Per method, each budget's mean of caption means of `column` with its interval over captions."""
        return {m: [dict(nfe=b, **({"spent": spent.get(b, {}).get(m)} if with_spent else {}),
                         **_entry(column_entry(cells[m, b], column, cfg))) for b, _ in usable if (m, b) in cells]
                for m in methods}

    curves = {name: series(name, True) for name in judges + critics}
    gaps = {j: series(f"gap|{j}", False) for j in gapped}
    return {"budgets": budgets, "methods": methods, "judges": judges, "critics": critics, "curves": curves,
            "hacking_gap": gaps, "gap_definition": "z(in-loop text_image) - z(judge), z over the picked images "
                                                   "of every budget together",
            "answer": answer(jobs, [b for b, _ in usable], methods, judges, cfg),
            "equal_compute": {b: bool(m.get("nfe", {}).get("equal")) for b, m in usable},
            "flagged": {b: m.get("nfe", {}).get("flagged", []) for b, m in usable}}


def _entry(e: dict) -> dict:
    lo, hi = e.get("interval") or (None, None)
    return {"value": e.get("value"), "lo": lo, "hi": hi, "n": e.get("n"), "captions": e.get("captions")}


def answer(jobs: pd.DataFrame, budgets: list[int], methods: list[str], judges: list[str], cfg) -> list[dict]:
    """Per budget and held-out judge: the method with the highest mean against every other (one family)."""
    from harness.analysis.effects import family
    from harness.metrics.compute import DIRECTIONS

    comparisons, leaders = [], []
    for b in budgets:
        at = jobs[jobs["budget"] == b]
        for j in judges:
            means = at.groupby("method")[j].mean().dropna()
            if len(means) < 2:
                continue
            higher = DIRECTIONS.get(j, True)
            leader = str(means.idxmax() if higher else means.idxmin())
            leaders.append((b, j, leader))
            for other in methods:
                if other != leader and other in means.index:
                    comparisons.append((f"{b}|{j}|{leader}|{other}", at[at["method"] == leader],
                                        at[at["method"] == other]))
    tested = {c["label"]: c["measures"] for c in family(comparisons, judges, DIRECTIONS, cfg)}
    out = []
    for b, j, leader in leaders:
        rows = {label.split("|")[3]: entries.get(j) for label, entries in tested.items()
                if label.startswith(f"{b}|{j}|{leader}|") and entries.get(j)}
        ahead = bool(rows) and all(e.get("verdict") == "better" for e in rows.values())
        runner = min(rows, key=lambda m: abs(rows[m].get("value") or 0.0)) if rows else None
        out.append({"budget": b, "judge": j, "leader": leader, "ahead": ahead, "runner_up": runner,
                    "against": rows})
    return out
