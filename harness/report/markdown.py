"""report.md + figures/ for a run directory, rendered from stored data alone (archive, manifest,
metrics.json, PNGs). Links are relative, so the folder can be moved."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from harness.config.methods import METHOD_ORDER
from harness.rundir.files import atomic_write_bytes
from harness.metrics.correlations import pairs
from harness.metrics.stats import wilcoxon_floor
from harness.report import CAPTION_FIGURES, captions, figures
from harness.report.format import arrow, fmt, md_table, n_of
from harness.report.groups import render_groups
from harness.rundir import JobKey, RunDir
from harness.rundir.archive import score_columns

NO_MEANING = {"tiny": "the `tiny` profile's small random models", "random": "the `random` profile's random weights"}


def ordered_methods(methods) -> list[str]:
    methods = list(dict.fromkeys(methods))
    return sorted(methods, key=lambda m: (METHOD_ORDER.index(m) if m in METHOD_ORDER else len(METHOD_ORDER), m))


def link(path: Path, root: Path, alt: str) -> str:
    return f"![{alt}]({path.relative_to(root).as_posix()})"


def under_pick(manifest: dict, archive: pd.DataFrame, metrics: dict | None, pick: str):
    """The archive and metrics as if every method's image were the one `pick` chose (stored, no model)."""
    from harness.errors import HarnessError
    from harness.rundir.archive import repick
    from harness.rundir.manifest import check_pick, job_picks

    check_pick(manifest, pick)
    if metrics is not None:
        if pick not in metrics.get("by_pick", {}):
            raise HarnessError(f"metrics.json has no scores for the {pick!r} picks; run `harness metrics RUN_DIR` "
                               "first (no search is rerun)")
        metrics = {**metrics, **metrics["by_pick"][pick], "judges_loco": metrics.get("judges", {}).get(
            "leave_one_critic_out")}
    return repick(archive, job_picks(manifest, pick)), metrics


@dataclass
class ReportContext:
    """What a section's renderer gets beside its own metrics.json section: the run (manifest, archive, all of
    metrics.json), the methods and critics in report order, and helpers for tables, numbers and figures."""

    rundir: RunDir
    manifest: dict
    archive: pd.DataFrame
    metrics: dict | None
    methods: list[str]
    critics: list[str]
    svg: bool = False
    pick: str | None = None

    @property
    def root(self) -> Path:
        return self.rundir.path

    @property
    def figdir(self) -> Path:
        return self.root / "figures"

    table = staticmethod(md_table)
    number = staticmethod(fmt)
    n = staticmethod(n_of)

    def figure(self, fig, name: str, alt: str) -> str:
        """Save a matplotlib figure as figures/NAME.png (and .svg with --svg); the markdown line that shows it."""
        return link(figures.save(fig, self.figdir / f"{name}.png", self.svg), self.root, alt)


def render_summary(section, r: ReportContext) -> list[str]:
    return ["## Summary", ""] + _summary(r.archive, r.metrics, r.methods, r.critics, scored_only(r.manifest, r.critics)) \
        + _cost(r.manifest, r.methods)


def render_answer(section, r: ReportContext) -> list[str]:
    return _answer(r.metrics)


def render_convergence(section, r: ReportContext) -> list[str]:
    return _convergence(r.metrics, r.figdir, r.root, r.svg)


def render_correlations(section, r: ReportContext) -> list[str]:
    return _correlation(r.metrics, r.figdir, r.root, r.svg, r.methods, r.critics)


def render_judges(section, r: ReportContext) -> list[str]:
    return _judges(r.metrics, r.figdir, r.root, r.svg, r.methods, r.critics)


def render_geneval(section, r: ReportContext) -> list[str]:
    """Accuracy per task and method, the overall GenEval score, correct prompts, whether the required objects are
    there at all, and the failing requirements seen most often."""
    if not section or "skipped" in section and not section.get("methods"):
        return ["## GenEval-style object correctness", "", f"_{(section or {}).get('skipped', 'not computed')}._", ""]
    from harness.config.requirements import TASKS

    methods = [m for m in r.methods if m in section["methods"]]
    tasks = [t for t in TASKS if any(t in section["methods"][m]["tasks"] for m in methods)]
    rows = [[m, *[fmt(section["methods"][m]["tasks"].get(t)) for t in tasks], fmt(section["methods"][m]["overall"]),
             fmt(section["methods"][m].get("overall_images")), fmt(section["methods"][m]["correct_prompts"]), fmt(section["methods"][m]["objects_present"]),
             n_of(section["methods"][m]["correct_images"])] for m in methods]
    lines = ["## GenEval-style object correctness", "",
             f"A judge that is not a CLIP (`{section['judge']}`): a detector finds the objects the caption requires, "
             "a CLIP names their colours, and GenEval's rules decide (count, colour, relative position, exclusions). "
             f"{section['captions_with_requirements']} caption(s) carry requirements; {section['not_applicable']} do "
             "not and are not applicable. Accuracy per task, the overall score (mean over tasks of caption-weighted "
             "accuracies; 'overall, images' is GenEval's own weighting, every image the same: equal when every caption "
             "has every seed), correct prompts "
             "(any seed right) and the share of images whose required objects are all present (count, colour and "
             "position aside), each [95 % interval over captions].", "",
             md_table(["method", *tasks, "overall ↑", "overall, images ↑", "correct prompts ↑", "objects present ↑",
                       "N (captions × seeds)"], rows), ""]
    failing = [[m, "; ".join(f"{reason} ({count})" for reason, count in section["methods"][m]["failing"]) or "—"]
               for m in methods]
    return lines + ["Failing requirements seen most often:", "", md_table(["method", "requirement (images)"], failing),
                    ""]


def render_paired(section, r: ReportContext) -> list[str]:
    return _paired(r.metrics)


def render_agreement(section, r: ReportContext) -> list[str]:
    return _agreement(r.metrics)


BUILTIN_ORDER = ["methods", "judges", "geneval", "fid_kid", "correlations", "convergence", "paired", "answer",
                 "agreement"]


def renderer(name: str, metrics: dict):
    """The renderer of section `name`: its registration's (a built-in's, or the plugin's that computed it, loaded
    again), else a generic table of its numbers (a plugin that is no longer installed)."""
    import importlib

    from harness.metrics.registry import METRICS, plugin_section

    if name in METRICS:
        render = METRICS[name].render
    else:
        source = next((p for p in metrics.get("plugins", []) if p.get("kind") == "metric section"
                       and p.get("name") == name), None)
        try:
            render = plugin_section(source["reference"]).render if source else None
        except Exception:  # the plugin is gone or broken: its numbers are still shown
            render = None
        if render is None:
            return generic_section(name)
    if isinstance(render, str):
        module, _, attr = render.partition(":")
        render = getattr(importlib.import_module(module), attr)
    return render


def generic_section(name: str):
    def render(section, r: ReportContext) -> list[str]:
        rows = [[path, fmt(e), n_of(e)] for path, e in _entries(section)]
        return [f"## {name}", "", "_(rendered from its numbers: the plugin that computed this section did not give "
                "a renderer, or is not installed)_", "", md_table(["number", "value [interval]", "N"], rows), ""]
    return render


def _entries(obj, path=""):
    if isinstance(obj, dict):
        if "value" in obj and ("n" in obj or "interval" in obj):
            yield path or "value", obj
            return
        for k, v in obj.items():
            yield from _entries(v, f"{path}/{k}" if path else str(k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _entries(v, f"{path}[{i}]")


def render_report(rundir: RunDir, svg: bool = False, pick: str | None = None,
                  caption_figures: int = CAPTION_FIGURES) -> Path:
    """Write RUN_DIR/report.md and RUN_DIR/figures/*.png from stored data; returns the report path.

    pick: render with every method's image chosen by this pick policy instead of the method's own.
    caption_figures: the gallery and scatter matrices are drawn for the first this many captions (0: all);
    every caption keeps its table."""
    root = rundir.path
    manifest = rundir.read_manifest() or {}
    archive = rundir.read_final()
    metrics = rundir.read_metrics()
    if pick is not None:
        archive, metrics = under_pick(manifest, archive, metrics, pick)
    methods = ordered_methods(archive["method"].unique()) if not archive.empty else []
    critics = score_columns(archive, manifest) if not archive.empty else []
    r = ReportContext(rundir, manifest, archive, metrics, methods, critics, svg, pick)
    out = [f"# Run report: {manifest.get('suite', {}).get('name', root.name)}", ""]
    profile = manifest.get("models", {}).get("profile")
    if profile in NO_MEANING:
        out += [f"> **These numbers come from {NO_MEANING[profile]}: they show that the pipeline runs and carry no "
                "meaning about image quality.** Run with `--models default` (real weights) for results.", ""]
    out += _missing_plugins(manifest, metrics)
    out += _answer(metrics)  # the report's question answered first, then the results by group
    if metrics and "groups" in metrics:
        out += render_groups(metrics["groups"], r)
    out += ["## Run", ""] + _meta(manifest, metrics, pick)
    if metrics:
        for name in metrics.get("sections", BUILTIN_ORDER):
            if name in ("answer", "groups") or name not in metrics:
                continue
            render = renderer(name, metrics)
            if render is not None:
                out += render(metrics[name], r)
    else:
        out += render_summary(None, r)
        out += ["_metrics.json is missing: run `harness metrics RUN_DIR` for CLIPScore, FID/KID, correlations, "
                "convergence and paired comparisons._", ""]
    out += _caption_pages(rundir, archive, metrics, methods, r.figdir, root, svg, manifest, critics,
                          caption_figures)
    path = root / "report.md"
    atomic_write_bytes(path, ("\n".join(out).rstrip() + "\n").encode())
    return path


def _missing_plugins(manifest: dict, metrics: dict | None) -> list[str]:
    """What this report leaves out because a plugin the run used is not installed here (at the top)."""
    from harness import plugins

    gone = plugins.missing(manifest, metrics)
    if not gone:
        return []
    sections = [r["name"] for r in gone if r["kind"] == "metric section"]
    left = (f" The section(s) {', '.join(sections)} are shown from their numbers only, without their own renderer."
            if sections else " Their stored scores are shown; nothing is recomputed.")
    return [f"> **Left out: {plugins.missing_message(gone, None)}.**{left}", ""]


def _picked_by(manifest: dict, pick: str | None) -> str:
    own = ", ".join(f"{m}: {c.get('pick')}" for m, c in manifest.get("methods", {}).items())
    if pick is not None:
        return (f"- **images picked by `{pick}` for every method** (`harness report --pick`); each method's own "
                f"policy: {own}")
    return (f"- images picked by each method's own policy ({own}); a random-search control is compared with each "
            "method under that method's policy; `harness report RUN_DIR --pick POLICY` re-renders under another")


def _meta(manifest: dict, metrics: dict | None, pick: str | None = None) -> list[str]:
    models = manifest.get("models", {})
    suite = manifest.get("suite", {})
    lines = [f"- suite: {suite.get('name')} version {suite.get('version')}: "
             f"{suite.get('description') or suite.get('folder', '')}; {len(suite.get('captions', []))} caption(s), "
             f"methods {', '.join(manifest.get('methods', {}))}",
             f"- started {manifest.get('started')}, ended {manifest.get('ended')}; device {manifest.get('device')}; "
             f"git {manifest.get('git_commit')}",
             f"- models ({models.get('profile')}): " + ", ".join(f"{k} = `{v}`" for k, v in models.get("ids", {}).items()),
             f"- generator settings: {manifest.get('config', {}).get('generator')}",
             f"- seeds: {manifest.get('seeds')}; budget: {manifest.get('config', {}).get('search')}",
             _picked_by(manifest, pick)]
    if metrics:
        ev = metrics["evaluator"]
        if ev["same_model"]:
            lines.append(f"- **CLIPScore evaluator is the search's own CLIP ({ev['clip']})**: CLIPScore here cannot "
                         "reveal critic hacking.")
        else:
            lines.append(f"- CLIPScore evaluator: `{ev['clip']}` (search optimized `{ev['search_clip']}`)")
        lines.append(f"- intervals: {metrics['definitions']['intervals']}; CLIPScore: "
                     f"{metrics['definitions']['clipscore']}")
        if metrics.get("schema_version", 1) < 2:
            lines.append("- **metrics.json of schema 1: its intervals resample jobs, not captions, and are too narrow; "
                         "rerun `harness metrics RUN_DIR` (served from the cache, no model loads)**")
    for warning in manifest.get("suite", {}).get("warnings", []):
        lines.append(f"- warning: {warning}")
    return lines + [""]


def scored_only(manifest: dict, critics: list[str]) -> list[str]:
    """The run's critics no method optimises (a plugin critic scored beside the objectives)."""
    objectives = {o for spec in manifest.get("methods", {}).values() for o in spec.get("objectives", [])}
    return [c for c in critics if c not in objectives]


def _summary(archive: pd.DataFrame, metrics: dict | None, methods: list[str], critics: list[str],
             only_scored: list[str] = ()) -> list[str]:
    """Two tables that are never mixed: the in-loop critics (circular evidence: the search optimised them; a critic
    no method optimises is marked scored only) and the held-out judges (CLIPScore, the panel) with FID/KID."""
    in_loop = ["method", *[f"{n} ↑" + (" (scored only)" if n in only_scored else "") for n in critics],
               "in-loop CLIPScore ↑", "N (captions × seeds)"]
    rows, unreliable = [], []
    for m in methods:
        if metrics and m in metrics["methods"]:
            e = metrics["methods"][m]
            rows.append([m, *[fmt(e.get(n)) for n in critics], fmt(e.get("clipscore_search_model")),
                         n_of(e.get(critics[0]) if critics else None)])
        else:
            sel = archive[(archive["method"] == m) & archive["selected"]]
            rows.append([m, *[f"{sel[n].mean():.3f}" for n in critics], "—", len(sel)])
    lines = ["### In-loop critics", "",
             "The scores the search optimised (circular evidence: a method that optimises a critic wins on it by "
             "construction); mean of caption means [95 % interval over captions]."
             + (f" Scored only: {', '.join(only_scored)}, which every image was scored by but no method of this run "
                "optimised." if only_scored else ""), "", md_table(in_loop, rows), ""]
    if not metrics:
        return lines
    judges = metrics.get("judges", {})
    panel = [n for n in judges.get("judges", {}) if n != "clipscore"] if "skipped" not in judges else []
    ev = metrics.get("evaluator", {})
    cs_label = "CLIPScore ↑" + (" (self-judge)" if ev.get("same_model") else "")
    header = ["method", cs_label, *[f"{n} ↑" for n in panel], "FID ↓ (N)", "KID ↓", "N (captions × seeds)"]
    rows = []
    for m in methods:
        if m not in metrics["methods"]:
            continue
        e = metrics["methods"][m]
        fk = metrics.get("fid_kid", {}).get("methods", {}).get(m, {}).get("selected", {})
        fid = f"{fmt(fk.get('fid'), 2)} ({fk['fid']['n']})" if fk.get("fid", {}).get("value") is not None else "—"
        if fk.get("fid", {}).get("reliable") is False:
            fid += " †"
            unreliable.append((fk["fid"]["n"], fk["fid"]["feature_dim"]))
        panel_cells = [fmt(judges.get("methods", {}).get(m, {}).get(n)) for n in panel]
        rows.append([m, fmt(e.get("clipscore")), *panel_cells, fid, fmt(fk.get("kid"), 4), n_of(e.get("clipscore"))])
    lines += ["### Held-out judges", "",
              "Judges the search did not optimise (the evidence the answer rests on), FID and KID against "
              "`metrics.reference`.", "", md_table(header, rows)]
    if unreliable:
        n, d = unreliable[0]
        lines += ["", f"† FID on N = {n} images against {d}-dimensional features (N ≤ d): dominated by sample size; "
                  "compare FIDs only at equal N, and read KID, which is unbiased at small N."]
    if "skipped" in metrics.get("fid_kid", {}):
        lines += ["", f"FID/KID: {metrics['fid_kid']['skipped']}"]
    return lines + [""]


def _answer(metrics: dict | None) -> list[str]:
    """The report's question answered first: each evolutionary method against each control, per held-out
    judge, with the smallest effect the run could detect."""
    lines = ["## Answer", ""]
    answer = (metrics or {}).get("answer")
    if not metrics:
        return lines + ["_No metrics yet: run `harness metrics RUN_DIR`._", ""]
    if not answer:
        return lines + ["_This metrics.json predates the answer section: rerun `harness metrics RUN_DIR` (served from "
                        "the cache, no model loads)._", ""]
    lines += [f"**{answer['question']}** Evidence: N = {answer['captions']} captions × {answer['seeds']} seeds; "
              "the caption is the unit (intervals resample captions, then seeds; tests compare caption means).", ""]
    if "skipped" in answer:
        return lines + [f"_{answer['skipped']}._", ""]
    lines += [f"- {c['sentence']}" for c in answer["comparisons"]]
    rows = []
    for c in answer["comparisons"]:
        for judge, e in c["judges"].items():
            mde = (f"{e['mde']:.3g}" if e.get("mde") is not None else "none (too few captions)" if e.get("mde_note")
                   else "none (never varied)" if e.get("no_variation") else "—")
            rows.append([f"{c['method']} − {c['control']}", f"{judge}{arrow(e['higher_is_better'])}", fmt(e, 4),
                         _pvalue(e.get("p_adjusted")), mde, e["verdict"], f"{e['captions']} × {e['seeds']}"])
    lines += ["", md_table(["method − control", "held-out judge", "mean difference [95 % CI over captions]",
                            "adjusted p", "smallest detectable", "verdict", "captions × seeds"], rows), "",
              f"Adjusted p: {next(iter(answer['comparisons'][0]['judges'].values())).get('correction', 'none')}. "
              f"A difference counts when its adjusted p < {answer['alpha']}. Smallest detectable: the mean difference "
              f"this run would detect with {answer['power']:.0%} power, from its caption-level variance "
              f"({answer['assumed_test']}); `harness power RUN_DIR` says how many captions and seeds an effect needs.",
              ""]
    return lines


def _convergence(metrics: dict, figdir: Path, root: Path, svg: bool) -> list[str]:
    conv = metrics["convergence"]
    lines = ["## Convergence", ""]
    best = {m: c["best_text_image"] for m, c in conv.items()}
    p = figures.save(figures.curves(best, "best text_image", "best text_image per generation"),
                     figdir / "convergence_text_image.png", svg)
    lines.append(link(p, root, "best text_image per generation"))
    hv = {m: c["hypervolume"] for m, c in conv.items() if "hypervolume" in c}
    if hv:
        p = figures.save(figures.curves(hv, "hypervolume (first front)", "hypervolume per generation"),
                         figdir / "convergence_hypervolume.png", svg)
        lines.append(link(p, root, "hypervolume per generation"))
    return lines + [""]


def _correlation(metrics: dict, figdir: Path, root: Path, svg: bool, methods: list[str],
                 critics: list[str]) -> list[str]:
    lines = ["## Correlations among the critics' scores (final populations)", "",
             "Per job within its final population, then the mean of caption means over jobs [interval over "
             "captions].", ""]
    for m in methods:
        if m not in metrics["correlations"]:
            continue
        mean = metrics["correlations"][m]["mean"]["spearman"]
        names = [c for c in critics if any(c in pair.split("~") for pair in mean)]
        mat = np.eye(len(names))
        shown = [pair for pair in pairs(names) if pair in mean]
        for pair in shown:
            a, b = pair.split("~")
            i, j = names.index(a), names.index(b)
            v = mean[pair]["value"]
            mat[i, j] = mat[j, i] = np.nan if v is None else v
        p = figures.save(figures.heatmap(mat, names, f"{m}: mean Spearman over jobs"),
                         figdir / f"correlation_{m}.png", svg)
        lines.append(link(p, root, f"{m} correlations"))
        rows = [[pair, fmt(mean[pair]), fmt(metrics["correlations"][m]["mean"]["kendall"][pair]), n_of(mean[pair])]
                for pair in shown]
        lines += ["", md_table(["pair", "Spearman", "Kendall", "jobs (captions × seeds)"], rows), ""]
    return lines


def _pvalue(p) -> str:
    return "—" if p is None or p != p else f"{p:.3g}"


def _paired(metrics: dict) -> list[str]:
    rows, entries = [], []
    for comp in metrics["paired"]:
        for name, e in comp["metrics"].items():
            entries.append(e)
            pair = f"{comp['a']} − {comp['b']}"
            if "control_pick" in comp:
                pair += f" ({comp['control']} picked by {comp['control_pick']})"
            rows.append([pair, f"{name}{arrow(e['higher_is_better'])}", fmt(e, 4),
                         _pvalue(e.get("p_value")), _pvalue(e.get("p_adjusted")), n_of(e)])
    lines = ["## Paired method comparisons", "",
             "Same captions, seeds and initial latents; differences averaged per caption, intervals resample captions "
             "then seeds, and the Wilcoxon test compares the per-caption mean differences.", "",
             md_table(["a − b", "metric", "mean difference [95 % CI]", "Wilcoxon p", "adjusted p",
                       "N (captions × seeds)"], rows), ""]
    corrections = {e["correction"] for e in entries if "correction" in e}
    if corrections:
        lines += [f"Adjusted p: {corrections.pop()}.", ""]
    small = min((e.get("captions", e["n"]) for e in entries if e["n"] > 0), default=None)
    if small is not None and small < 6:
        floor = wilcoxon_floor(small)
        lines += [f"With {small} captions the smallest p-value the Wilcoxon test over captions can reach is "
                  f"{floor:.3g}, so no comparison here can be significant at 0.05 on its own, and each interval is "
                  "close to the range of the caption differences: add captions before reading these as results "
                  "(more seeds make each caption's mean more precise, not the test more powerful).", ""]
    return lines


def _cost(manifest: dict, methods: list[str]) -> list[str]:
    """Per method: jobs, wall time summed over its finished jobs, and device-hours (one device per job)."""
    import datetime as dt

    seconds: dict[str, list[float]] = {}
    for rec in manifest.get("jobs", []):
        if rec.get("status") == "done" and "seconds" in rec:
            seconds.setdefault(rec["method"], []).append(float(rec["seconds"]))
        elif rec.get("status") == "done" and rec.get("started") and rec.get("ended"):  # older manifests
            span = dt.datetime.fromisoformat(rec["ended"]) - dt.datetime.fromisoformat(rec["started"])
            seconds.setdefault(rec["method"], []).append(span.total_seconds())
    if not seconds:
        return []
    rows = [[m, len(seconds[m]), f"{sum(seconds[m]):.1f} s", f"{sum(seconds[m]) / 3600:.4f}"]
            for m in methods if m in seconds]
    device = manifest.get("device", "")
    return [md_table(["method", "jobs", "wall time (sum over jobs)", f"device-hours ({device})"], rows), "",
            "Times are from the manifest's job records (a resumed job counts its last attempt only; on Ray, "
            "from dispatch to result).", ""]


def _judges(metrics: dict, figdir: Path, root: Path, svg: bool, methods: list[str], critics: list[str]) -> list[str]:
    section = metrics.get("judges")
    if not section or "skipped" in section:
        return []
    names = list(section["judges"])
    lines = ["## Held-out judges: hacking and agreement with the critics", "",
             "Judges the search did not optimise: " + "; ".join(f"{n} = `{i['id']}` (range {i['range']})"
                                                                for n, i in section["judges"].items()) + ".", ""]
    rows = [[m, *[fmt(section["hacking_gap"][m][n]) for n in names]] for m in methods if m in section["hacking_gap"]]
    lines += ["Hacking gap (the harness's one definition): z(in-loop text_image) − z(judge) on the same images, z over "
              "the run's picked images (positive: the method wins on its own critic more than on the judge).", "",
              md_table(["method", *[f"gap vs {n} ↓" for n in names]], rows), ""]
    judges = [*critics, *names]
    z = {m: section["z_scores"][m] for m in methods if m in section["z_scores"]}
    p = figures.save(figures.judge_panel(z, judges, "methods x judges: mean z-score"), figdir / "judges.png", svg)
    lines += [link(p, root, "methods x judges"), ""]
    loco = section.get("leave_one_critic_out") or metrics.get("judges_loco")  # under --pick: the main pass's
    if not loco:
        return lines
    rows = [[critic, *[fmt(loco[critic].get(n)) for n in names]] for critic in critics if critic in loco]
    lines += ["Leave one critic out: Spearman correlation of each critic's in-loop score with each judge within the "
              "final populations, mean over jobs (how far each critic agrees with each held-out judge).", "",
              md_table(["critic", *names], rows), ""]
    return lines


def _agreement(metrics: dict) -> list[str]:
    agreement = metrics.get("agreement")
    if not agreement or "skipped" in agreement:
        return []
    w = agreement["kendalls_w"]
    rows = [[judge, " > ".join(order)] for judge, order in agreement["ranking"].items()]
    return ["## Do the judges agree?", "",
            "Each judge ranks the methods by its mean score on the selected images (best first); a result that "
            "holds under one judge only is not a result.", "",
            md_table(["judge", "ranking of the methods"], rows), "",
            f"Kendall's W over {w['judges']} judges: {fmt(w, 3)} ({w['note']}; {w.get('interval_method', 'percentile')} "
            f"interval; N = {w.get('captions', w['n'])} captions × {w.get('seeds', '?')} seeds).", ""]


def evolutionary(manifest: dict, methods: list[str], archive: pd.DataFrame) -> list[str]:
    """The methods that search (a population evolves): every one gets its scatter matrix per caption."""
    spec = manifest.get("methods", {})
    known = [m for m in methods if spec.get(m, {}).get("algorithm") in ("nsga2", "ga")]
    if known or spec:
        return known
    return [m for m in methods if archive[archive["method"] == m]["generation"].max() > 0]


def _caption_pages(rundir: RunDir, archive: pd.DataFrame, metrics: dict | None, methods: list[str], figdir: Path,
                   root: Path, svg: bool, manifest: dict, critics: list[str], caption_figures: int) -> list[str]:
    """captions.md and captions.csv beside the report; report.md's lines: the worst and best captions per
    method on the headline judge, and where the rest is."""
    lines = ["## Per caption", ""]
    if archive.empty:
        return lines + ["_no finished job_"]
    detail = _per_caption(rundir, archive, methods, figdir, root, svg, manifest, critics, caption_figures)
    title = f"# Per caption: {manifest.get('suite', {}).get('name', root.name)}"
    atomic_write_bytes(root / "captions.md", ("\n".join([title, ""] + detail[2:]).rstrip() + "\n").encode())
    table = captions.job_table(archive, metrics, critics)
    captions.write_csv(root, table)
    lines += [f"Every caption's table and the figures of the first captions: [captions.md](captions.md); every "
              f"caption, method and seed with each critic and judge: [captions.csv](captions.csv) "
              f"({table['caption_id'].nunique()} captions, {len(table)} jobs).", ""]
    column = captions.headline(metrics, table, critics)
    if column is not None:
        from harness.metrics.compute import directions

        higher = directions(manifest).get(column, True)
        lines += [f"The {captions.EXTREMES} worst and best captions per method on **{column}**:", ""]
        lines += captions.extremes(table, column, methods, higher)
    return lines


def _per_caption(rundir: RunDir, archive: pd.DataFrame, methods: list[str], figdir: Path, root: Path,
                 svg: bool, manifest: dict, critics: list[str], caption_figures: int = CAPTION_FIGURES) -> list[str]:
    lines = ["## Per caption", ""]
    if archive.empty:
        return lines + ["_no finished job_"]
    first_seed = sorted(archive["seed"].unique())[0]
    n_captions = archive["caption_id"].nunique()
    if 0 < caption_figures < n_captions:
        lines += [f"_Figures for the first {caption_figures} of {n_captions} captions; every caption keeps its "
                  "table (`harness report RUN_DIR --caption-figures 0` draws them all)._", ""]
    for i, (cid, cap) in enumerate(archive.groupby("caption_id", sort=False)):
        caption = cap["caption"].iloc[0]
        lines += [f"### {cid}: “{caption}”", ""]
        if 0 < caption_figures <= i:
            lines += _caption_table(cap, methods, critics)
            continue
        picked = cap[cap["selected"] & (cap["seed"] == first_seed)].set_index("method")["individual"]
        images = [(m, rundir.population_png(JobKey(cid, m, int(first_seed)), int(picked[m])))
                  for m in methods if m in picked]
        p = figures.save(figures.gallery(images, f"{caption} (seed {first_seed})"), figdir / f"gallery_{cid}.png", svg)
        lines.append(link(p, root, f"selected images, {cid}"))
        for m in evolutionary(manifest, methods, archive):
            job = cap[(cap["method"] == m) & (cap["seed"] == first_seed)]
            if job.empty:
                continue
            pop = job[job["generation"] == job["generation"].max()]
            p = figures.save(figures.scatter_matrix(pop, f"{caption}: {m} final population (seed {first_seed})",
                                                    critics), figdir / f"scatter_{cid}_{m}.png", svg)
            lines.append(link(p, root, f"score scatter matrix, {cid}, {m}"))
        lines += [""] + _caption_table(cap, methods, critics)
    return lines


def _caption_table(cap: pd.DataFrame, methods: list[str], critics: list[str]) -> list[str]:
    """The selected image's scores of every (method, seed) of one caption."""
    sel = cap[cap["selected"]]
    rows = [[m, s, *[f"{r[n]:.4f}" for n in critics]] for m in methods
            for s, r in sel[sel["method"] == m].set_index("seed").iterrows()]
    return [md_table(["method", "seed", *critics], rows), ""]
