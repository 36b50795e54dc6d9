"""report.md + figures/ for a run directory, rendered from stored data alone (archive, manifest,
metrics.json, PNGs). Links are relative, so the folder can be moved."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from harness.config.methods import METHOD_ORDER
from harness.critics import CRITICS, SCORE_NAMES
from harness.rundir.files import atomic_write_bytes
from harness.metrics.correlations import PAIRS
from harness.metrics.stats import wilcoxon_floor
from harness.report import figures
from harness.report.format import arrow, fmt
from harness.rundir import JobKey, RunDir


def md_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


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


def render_report(rundir: RunDir, svg: bool = False, pick: str | None = None) -> Path:
    """Write RUN_DIR/report.md and RUN_DIR/figures/*.png from stored data; returns the report path.

    pick: render with every method's image chosen by this pick policy instead of the method's own."""
    root = rundir.path
    manifest = rundir.read_manifest() or {}
    archive = rundir.read_archive()
    metrics = rundir.read_metrics()
    if pick is not None:
        archive, metrics = under_pick(manifest, archive, metrics, pick)
    figdir = root / "figures"
    methods = ordered_methods(archive["method"].unique()) if not archive.empty else []
    out = [f"# Run report: {manifest.get('suite', {}).get('name', root.name)}", ""]
    out += _meta(manifest, metrics, pick)
    out += ["## Summary", "", _summary(archive, metrics, methods), ""]
    out += _cost(manifest, methods)
    if metrics:
        out += _convergence(metrics, figdir, root, svg)
        out += _correlation(metrics, figdir, root, svg, methods)
        out += _judges(metrics, figdir, root, svg, methods)
        out += _paired(metrics)
        out += _agreement(metrics)
    else:
        out += ["_metrics.json is missing: run `harness metrics RUN_DIR` for CLIPScore, FID/KID, correlations, "
                "convergence and paired comparisons._", ""]
    out += _per_caption(rundir, archive, methods, figdir, root, svg)
    path = root / "report.md"
    atomic_write_bytes(path, ("\n".join(out).rstrip() + "\n").encode())
    return path


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
    for warning in manifest.get("suite", {}).get("warnings", []):
        lines.append(f"- warning: {warning}")
    return lines + [""]


def _summary(archive: pd.DataFrame, metrics: dict | None, methods: list[str]) -> str:
    header = ["method", *[f"{n}{arrow(CRITICS[n].higher_is_better)}" for n in SCORE_NAMES],
              "CLIPScore ↑", "hacking gap ↓", "FID ↓ (N)", "KID ↓", "N"]
    rows, unreliable = [], []
    for m in methods:
        if metrics and m in metrics["methods"]:
            e = metrics["methods"][m]
            fk = metrics.get("fid_kid", {}).get("methods", {}).get(m, {}).get("selected", {})
            fid = f"{fmt(fk.get('fid'), 2)} ({fk['fid']['n']})" if fk.get("fid", {}).get("value") is not None else "—"
            if fk.get("fid", {}).get("reliable") is False:
                fid += " †"
                unreliable.append((fk["fid"]["n"], fk["fid"]["feature_dim"]))
            rows.append([m, *[fmt(e[n]) for n in SCORE_NAMES], fmt(e.get("clipscore")), fmt(e.get("critic_hacking_gap")),
                         fid, fmt(fk.get("kid"), 4), e["text_image"]["n"]])
        else:
            sel = archive[(archive["method"] == m) & archive["selected"]]
            rows.append([m, *[f"{sel[n].mean():.3f}" for n in SCORE_NAMES], "—", "—", "—", "—", len(sel)])
    text = md_table(header, rows)
    if unreliable:
        n, d = unreliable[0]
        text += (f"\n\n† FID on N = {n} images against {d}-dimensional features (N < d): dominated by sample size; "
                 "compare FIDs only at equal N, and read KID, which is unbiased at small N.")
    if metrics and "skipped" in metrics.get("fid_kid", {}):
        text += f"\n\nFID/KID: {metrics['fid_kid']['skipped']}"
    return text


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


def _correlation(metrics: dict, figdir: Path, root: Path, svg: bool, methods: list[str]) -> list[str]:
    lines = ["## Correlations among the four scores (final populations)", ""]
    for m in methods:
        if m not in metrics["correlations"]:
            continue
        mean = metrics["correlations"][m]["mean"]["spearman"]
        mat = np.eye(len(SCORE_NAMES))
        for pair in PAIRS:
            a, b = pair.split("~")
            i, j = SCORE_NAMES.index(a), SCORE_NAMES.index(b)
            v = mean[pair]["value"]
            mat[i, j] = mat[j, i] = np.nan if v is None else v
        p = figures.save(figures.heatmap(mat, list(SCORE_NAMES), f"{m}: mean Spearman over jobs"),
                         figdir / f"correlation_{m}.png", svg)
        lines.append(link(p, root, f"{m} correlations"))
        rows = [[pair, fmt(mean[pair]), fmt(metrics["correlations"][m]["mean"]["kendall"][pair]), mean[pair]["n"]]
                for pair in PAIRS]
        lines += ["", md_table(["pair", "Spearman", "Kendall", "jobs"], rows), ""]
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
                         _pvalue(e.get("p_value")), _pvalue(e.get("p_adjusted")), e["n"], e["seeds"]])
    lines = ["## Paired method comparisons", "",
             md_table(["a − b", "metric", "mean difference [95 % CI]", "Wilcoxon p", "adjusted p", "N", "seeds"],
                      rows), ""]
    corrections = {e["correction"] for e in entries if "correction" in e}
    if corrections:
        lines += [f"Adjusted p: {corrections.pop()}.", ""]
    small = min((e["n"] for e in entries if e["n"] > 0), default=None)
    if small is not None and small < 6:
        floor = wilcoxon_floor(small)
        lines += [f"With N = {small} pairs the smallest p-value the Wilcoxon test can reach is {floor:.3g}, so no "
                  "comparison here can be significant at 0.05 on its own, and each interval is close to the range "
                  "of the N differences: add seeds or captions before reading these as results.", ""]
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


def _judges(metrics: dict, figdir: Path, root: Path, svg: bool, methods: list[str]) -> list[str]:
    section = metrics.get("judges")
    if not section or "skipped" in section:
        return []
    names = list(section["judges"])
    lines = ["## Held-out judges", "",
             "Judges the search did not optimise: " + "; ".join(f"{n} = `{i['id']}` (range {i['range']})"
                                                                for n, i in section["judges"].items()) + ".", ""]
    panel = [n for n in names if n != "clipscore"]
    if panel:
        rows = [[m, *[fmt(section["methods"][m][n]) for n in panel], section["methods"][m][panel[0]]["n"]]
                for m in methods if m in section["methods"]]
        lines += [md_table(["method", *[f"{n} ↑" for n in panel], "N"], rows), ""]
    rows = [[m, *[fmt(section["hacking_gap"][m][n]) for n in names]] for m in methods if m in section["hacking_gap"]]
    lines += ["Hacking gap: z(in-loop text_image) − z(judge) on the same images, z over the run's picked images "
              "(positive: the method wins on its own critic more than on the judge).", "",
              md_table(["method", *[f"gap vs {n} ↓" for n in names]], rows), ""]
    judges = [*SCORE_NAMES, *names]
    z = {m: section["z_scores"][m] for m in methods if m in section["z_scores"]}
    p = figures.save(figures.judge_panel(z, judges, "methods x judges: mean z-score"), figdir / "judges.png", svg)
    lines += [link(p, root, "methods x judges"), ""]
    loco = section.get("leave_one_critic_out") or metrics.get("judges_loco")  # under --pick: the main pass's
    if not loco:
        return lines
    rows = [[critic, *[fmt(loco[critic].get(n)) for n in names]] for critic in SCORE_NAMES]
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
            f"Kendall's W over {w['judges']} judges: {fmt(w, 3)} ({w['note']}; N = {w['n']} captions).", ""]


def _per_caption(rundir: RunDir, archive: pd.DataFrame, methods: list[str], figdir: Path, root: Path,
                 svg: bool) -> list[str]:
    lines = ["## Per caption", ""]
    if archive.empty:
        return lines + ["_no finished job_"]
    first_seed = sorted(archive["seed"].unique())[0]
    for cid, cap in archive.groupby("caption_id", sort=False):
        caption = cap["caption"].iloc[0]
        lines += [f"### {cid}: “{caption}”", ""]
        picked = cap[cap["selected"] & (cap["seed"] == first_seed)].set_index("method")["individual"]
        images = [(m, rundir.population_png(JobKey(cid, m, int(first_seed)), int(picked[m])))
                  for m in methods if m in picked]
        p = figures.save(figures.gallery(images, f"{caption} (seed {first_seed})"), figdir / f"gallery_{cid}.png", svg)
        lines.append(link(p, root, f"selected images, {cid}"))
        multi = [m for m in methods if m == "four_objective"] or [
            m for m in methods if len(cap[(cap["method"] == m) & (cap["generation"] == 0)]) > 1]
        if multi:
            m = multi[0]
            job = cap[(cap["method"] == m) & (cap["seed"] == first_seed)]
            pop = job[job["generation"] == job["generation"].max()]
            p = figures.save(figures.scatter_matrix(pop, f"{caption}: {m} final population (seed {first_seed})"),
                             figdir / f"scatter_{cid}.png", svg)
            lines.append(link(p, root, f"score scatter matrix, {cid}"))
        sel = cap[cap["selected"]]
        rows = [[m, s, *[f"{r[n]:.4f}" for n in SCORE_NAMES]] for m in methods
                for s, r in sel[sel["method"] == m].set_index("seed").iterrows()]
        lines += ["", md_table(["method", "seed", *SCORE_NAMES], rows), ""]
    return lines
