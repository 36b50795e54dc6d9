"""ablation.md + figures for `harness ablate --set KEY=V1,V2` (harness.analysis.ablate computes what it shows)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from harness.report import figures
from harness.report.markdown import link, md_table
from harness.rundir.files import atomic_write_bytes, write_json


def _cells(row, names) -> list[str]:
    return [f"{row[f'{n}_mean']:.4f} [{row[f'{n}_lo']:.4f}, {row[f'{n}_hi']:.4f}]" for n in names]


def columns_of(table: pd.DataFrame) -> list[str]:
    """The scores a table of rows holds (each as NAME_mean, NAME_lo, NAME_hi, ...), in order."""
    return [c[:-5] for c in table.columns if c.endswith("_mean")]


def answer_lines(answer: dict) -> list[str]:
    """The sweep's answer: each value against the default, per method, on each held-out judge and in-loop critic."""
    from harness.report.ablation_text import sentence

    lines = ["## Answer", ""]
    if not answer.get("comparisons"):
        return lines + [f"_{answer.get('skipped', 'no run to compare')}._", ""]
    first = next((e for c in answer["comparisons"] for e in c["measures"].values()), {})
    lines += [f"What each value does ({answer['against']}): value − default per method, mean of caption means "
              f"[95 % interval over captions] at N = {first.get('captions', 0)} captions × {first.get('seeds', 0)} "
              f"seeds; p: Wilcoxon over captions adjusted by {first.get('correction', '')}; smallest detectable at "
              "80 % power. The in-loop critics are each run's own (a swept critic setting changes the critic "
              "itself: the same images rescored, below, separate that).", ""]
    lines += [f"- {sentence(c['label'], c['measures'], answer['judges'])}" for c in answer["comparisons"]]
    return lines + [""]


def write_ablation(parent: Path, sweep, runs: list[Path], metrics: pd.DataFrame, same: pd.DataFrame,
                   changes: list[dict], answer: dict | None = None) -> Path:
    parent = Path(parent)
    sweep_metrics, critics = columns_of(metrics), columns_of(same)
    keys = sweep.keys
    x = keys[0] if len(keys) == 1 else "point"
    if len(keys) > 1:
        metrics = metrics.assign(point=metrics[keys].astype(str).agg(",".join, axis=1))
        same = same.assign(point=same[keys].astype(str).agg(",".join, axis=1))
    from harness.report.ablation_text import warnings
    from harness.rundir import RunDir

    lines = ["# Ablation: " + ", ".join(f"{k} ∈ {{{', '.join(v)}}}" for k, v in sweep.fields), ""]
    first = next((e for c in (answer or {}).get("comparisons", []) for e in c["measures"].values()), {})
    manifest = RunDir(runs[0]).read_manifest() or {}
    lines += warnings(manifest, first.get("captions", len(manifest.get("suite", {}).get("captions", []))))
    lines += answer_lines(answer or {})
    lines += ["## Runs", "", f"- fixed: {', '.join(sweep.fixed) or 'nothing'}",
              "- runs: " + ", ".join(f"[{r.name}]({r.name}/report.md)" for r in runs), ""]
    lines += ["## Metrics of the selected images against the value", ""]
    p = figures.save(figures.value_plot(metrics, x, sweep_metrics, "selected images: mean [95 % CI]"),
                     parent / "figures" / "metrics_vs_value.png", svg=True)
    lines += [link(p, parent, "metrics against the value"), ""]
    lines += [md_table([*keys, "method", *[f"{m} ↑" for m in sweep_metrics]],
                       [[*[r[k] for k in keys], r["method"], *_cells(r, sweep_metrics)] for _, r in metrics.iterrows()]),
              ""]
    lines += ["## The same images rescored under each value", "",
              f"The selected images of the first run ({runs[0].name}) scored by the critics of each value: only the "
              "critics change, so this isolates the value's direct effect on the scores.", ""]
    p = figures.save(figures.value_plot(same, x, critics, "same images: mean [95 % CI]"),
                     parent / "figures" / "same_images_vs_value.png", svg=True)
    lines += [link(p, parent, "same images against the value"), ""]
    lines += [md_table([*keys, "method", *critics],
                       [[*[r[k] for k in keys], r["method"], *_cells(r, critics)] for _, r in same.iterrows()]), ""]
    lines += ["## How often the selected image changes between values", ""]
    lines += [md_table(["from", "to", "jobs", "changed", "share", "by method"],
                       [[c["from"], c["to"], c["jobs"], c["changed"], f"{c['share']:.0%}" if c["share"] is not None
                         else "—", ", ".join(f"{m} {v:.0%}" for m, v in c["by_method"].items())] for c in changes]),
              ""]
    write_json(parent / "ablation.json", {"fields": [{"key": k, "values": v} for k, v in sweep.fields],
                                          "fixed": sweep.fixed, "runs": [str(r) for r in runs],
                                          "metrics": metrics.to_dict(orient="records"),
                                          "same_images": same.to_dict(orient="records"),
                                          "selection_changes": changes, "answer": answer or {}})
    path = parent / "ablation.md"
    atomic_write_bytes(path, ("\n".join(lines).rstrip() + "\n").encode())
    return path
