"""budgets.md, budgets.json and the score-against-NFE figures of `harness ablate SUITE --budgets B1,B2`
(harness.analysis.budgets computes what they show), answer first."""
from __future__ import annotations

from pathlib import Path

from harness.report import figures, style
from harness.report.ablation_text import number, warnings
from harness.report.format import md_table
from harness.report.markdown import link
from harness.rundir.files import atomic_write_bytes, write_json


def answer_lines(summary: dict) -> list[str]:
    lines = ["## Answer", ""]
    if not summary.get("answer"):
        return lines + [f"_{summary.get('skipped', 'no held-out judge scored these runs')}._", ""]
    lines += ["Which method is ahead at each budget, per held-out judge: the highest mean of caption means against "
              "every other method (leader − other [95 % interval over captions], Wilcoxon over captions adjusted by "
              "Benjamini-Hochberg over every budget, judge and pair). \"Ahead\" only when it beats every other method "
              "detectably.", ""]
    for b in summary["budgets"]:
        parts = []
        for a in (x for x in summary["answer"] if x["budget"] == b):
            if a["ahead"]:
                parts.append(f"{a['judge']}: **{a['leader']} is ahead** (" + "; ".join(
                    number(f"− {m}", e) for m, e in a["against"].items()) + ")")
            else:
                closest = a["against"].get(a["runner_up"]) if a["runner_up"] else None
                detail = f"; closest, {number('− ' + a['runner_up'], closest)}" if closest else ""
                parts.append(f"{a['judge']}: no method is detectably ahead (highest mean: {a['leader']}{detail})")
        equal = summary.get("equal_compute", {}).get(b, summary.get("equal_compute", {}).get(str(b)))
        flagged = summary.get("flagged", {}).get(b) or summary.get("flagged", {}).get(str(b))
        spend = (f" Not equal compute: {', '.join(flagged)} spent a different NFE." if flagged else
                 "" if equal else " The methods' NFE were not recorded.")
        lines.append(f"- **{b} NFE**: " + ("; ".join(parts) or "no held-out judge scored this budget") + "." + spend)
    return lines + [""]


def curve_table(curves: dict, budgets: list[int]) -> str:
    rows = []
    for name, by_method in curves.items():
        for method, points in by_method.items():
            at = {p["nfe"]: p for p in points}
            rows.append([name, method, *[_cell(at.get(b)) for b in budgets]])
    return md_table(["measure", "method", *[f"{b} NFE" for b in budgets]], rows)


def _cell(p: dict | None) -> str:
    if not p or p.get("value") is None:
        return "—"
    ci = f" [{p['lo']:.3f}, {p['hi']:.3f}]" if p.get("lo") is not None else ""
    spent = f" ({p['spent']:.0f})" if p.get("spent") is not None and p["spent"] != p["nfe"] else ""
    return f"{p['value']:.3f}{ci}{spent}"


def figure(panels: dict, budgets: list[int], path: Path, ylabel: str) -> Path:
    """One panel per measure: each method's mean of caption means against NFE, its interval over captions as a
    band, one line (and colour) per method; the x axis is the budgets, on a log scale."""
    import math

    names = list(panels)
    cols = 2 if len(names) > 1 else 1
    rows = math.ceil(len(names) / cols)
    fig, axes = style.column_figure(rows, cols, height_cm=4.2 * rows + 1.5)
    methods = list(dict.fromkeys(m for by in panels.values() for m in by))
    colours = {m: style.PALETTE[i % len(style.PALETTE)] for i, m in enumerate(methods)}
    flat = axes.ravel()
    for ax, name in zip(flat, names):
        for method, points in panels[name].items():
            pts = [p for p in points if p.get("value") is not None]
            if not pts:
                continue
            x = [p["nfe"] for p in pts]
            ax.plot(x, [p["value"] for p in pts], marker="o", ms=3, lw=1, color=colours[method], label=method)
            if all(p.get("lo") is not None for p in pts):
                ax.fill_between(x, [p["lo"] for p in pts], [p["hi"] for p in pts], color=colours[method], alpha=0.15,
                                lw=0)
        ax.set_xscale("log", base=2)
        ax.set_xticks(budgets, [str(b) for b in budgets])
        ax.minorticks_off()
        ax.set_title(name)
        ax.set_xlabel("NFE per job")
        ax.set_ylabel(ylabel)
    for ax in flat[len(names):]:
        ax.set_visible(False)
    style.legend_below(fig, flat[:len(names)])
    return figures.save(fig, path, svg=True)


def write_budgets(parent: Path, summary: dict, runs: list[Path]) -> Path:
    from harness.rundir import RunDir

    parent.mkdir(parents=True, exist_ok=True)
    figdir = parent / "figures"
    figdir.mkdir(exist_ok=True)
    write_json(parent / "budgets.json", {**summary, "runs": {b: str(r) for b, r in zip(summary["budgets"], runs)}})
    manifest = RunDir(runs[0]).read_manifest()
    captions = max((p.get("captions") or 0 for by in summary.get("curves", {}).values() for pts in by.values()
                    for p in pts), default=0)
    lines = [f"# Score against compute: {manifest.get('suite', {}).get('name', '')}", "", *warnings(manifest, captions)]
    lines += answer_lines(summary)
    if summary.get("curves"):
        budgets = summary["budgets"]
        judges = summary.get("judges", [])
        titled = {f"{n} (held-out)" if n in judges else f"{n} (in-loop)": v for n, v in summary["curves"].items()}
        png = figure(titled, budgets, figdir / "score_vs_nfe.png", "mean of caption means")
        lines += ["## Score against NFE", "",
                  "Each method's picked images at each budget: mean of caption means [95 % interval over captions], "
                  "the held-out judges first, then the in-loop critics (a method spent the budget unless its NFE "
                  "follows in parentheses).", "", link(png, parent, "score against NFE"), "",
                  curve_table(summary["curves"], budgets), ""]
        if summary.get("hacking_gap"):
            gap = figure({f"text_image − {j}": v for j, v in summary["hacking_gap"].items()}, budgets,
                         figdir / "hacking_gap_vs_nfe.png", "gap (z units)")
            lines += ["## Verifier hacking against NFE", "",
                      f"The optimised-minus-held-out gap, {summary['gap_definition']}: a gap that grows with NFE "
                      "while the judge does not is the search finding what its own critic rewards.", "",
                      link(gap, parent, "hacking gap against NFE"), "", curve_table(summary["hacking_gap"], budgets), ""]
    lines += ["## Runs", "", *[f"- {b} NFE: `{r}` (its report.md has every section)" for b, r in
                               zip(summary["budgets"], runs)], ""]
    path = parent / "budgets.md"
    atomic_write_bytes(path, "\n".join(lines).encode("utf-8"))
    return path
