"""critic_ablation.md + figures: the effect of removing (or adding) each critic, answer first, beside its run
(harness.analysis.critic_ablation computes what it shows)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from harness.report import ablation_figures, figures
from harness.report.ablation_text import change_label, sentence, warnings
from harness.report.format import fmt
from harness.report.markdown import link, md_table
from harness.rundir.files import atomic_write_bytes, write_json


def _p(e: dict | None, key: str = "p_adjusted") -> str:
    p = (e or {}).get(key)
    return "—" if p is None else f"{p:.2g}"


def _mde(e: dict) -> str:
    if e.get("mde") is not None:
        return f"{e['mde']:.3g}"
    if e.get("no_variation"):
        return "none (the same on every caption)"
    return f"not detectable with {e['captions']} captions" if e.get("mde_note") else "—"


def caption_differences(jobs: pd.DataFrame, variant: str, base: str, column: str) -> np.ndarray:
    """Per caption, the mean over seeds of (variant - full) on `column` (shared (caption, seed) cells only)."""
    a = jobs[jobs["method"] == variant].set_index(["caption_id", "seed"])[column]
    b = jobs[jobs["method"] == base].set_index(["caption_id", "seed"])[column]
    d = (pd.to_numeric(a, errors="coerce") - pd.to_numeric(b, errors="coerce")).dropna()
    return d.groupby(level=0).mean().to_numpy(dtype=np.float64) if len(d) else np.zeros(0)


def answer(rows: list[dict], base: str, metrics: dict, figdir: Path, parent: Path, jobs: pd.DataFrame) -> list[str]:
    judges = list(dict.fromkeys(j for r in rows for j in r["judges"]))
    entries = [e for r in rows for e in (*r["judges"].values(), *r["critics"].values())]
    first = entries[0] if entries else {}
    lines = ["## Answer", "",
             f"What removing or adding each critic does to {base}'s picked images: variant − full method, mean of "
             f"caption means [95 % interval over captions], at N = {first.get('captions', 0)} captions × "
             f"{first.get('seeds', 0)} seeds. p is the Wilcoxon test over captions adjusted by "
             f"{first.get('correction', 'Benjamini-Hochberg')}; smallest detectable: the difference this N detects with "
             "80 % power. Held-out judges are the evidence; in-loop critics show what the search did to its own "
             "scores (circular by construction).", ""]
    lines += [f"- {sentence(f'{change_label(r)}', {**r['judges'], **r['critics']}, judges)}" for r in rows]
    lines.append("")
    inner = metrics.get("answer", {})
    ours = {r["variant"] for r in rows} | {base}
    against = [c for c in inner.get("comparisons", []) if c["method"] in ours]
    if against:
        lines += ["Against the controls (the run's own answer, its own family of tests):", ""]
        lines += [f"- {c['sentence']}" for c in against] + [""]
    else:
        lines += ["_This run has no control: it is an ablation. `harness ablate ... --with-controls` adds best_of_n "
                  "and no_selection to the same run, and the answer then says whether each variant still beats "
                  "them._", ""]
    table = []
    for r in rows:
        for kind, group in (("held-out", r["judges"]), ("in-loop", r["critics"])):
            for m, e in group.items():
                table.append([change_label(r), m, kind, fmt(e, 4), _p(e), _mde(e), e.get("verdict", "—")])
    lines += [md_table(["change", "measure", "kind", "difference [95 % CI]", "adjusted p", "smallest detectable",
                        "verdict"], table), ""]
    for r in rows:
        measures = [(m, caption_differences(jobs, r["variant"], base, m), e)
                    for m, e in {**r["judges"], **r["critics"]}.items() if m in jobs]
        if not measures:
            continue
        fig = ablation_figures.paired_effects(measures, f"{change_label(r)}: effect per caption")
        path = figures.save(fig, figdir / f"effect_{r['variant']}.png", svg=True)
        lines += [link(path, parent, f"{change_label(r)}: paired effect per caption") + " "
                  f"([vector]({path.with_suffix('.svg').relative_to(parent).as_posix()}))"]
    return lines + [""]


def _cell(e: dict | None, p: bool = True) -> str:
    if not e or e.get("value") is None:
        return "—"
    return fmt(e, 4) + (f" (p {_p(e)})" if p and e.get("p_adjusted") is not None else "")


def distribution(rows: list[dict], critics: list[str]) -> list[str]:
    if not rows:
        return []
    d0 = rows[0]["distribution"]
    lines = ["## The final distribution, in numbers", "",
             "Per caption and seed, each variant's final population against the full method's (the same shared "
             "initial latents), summarised over captions: mean [95 % interval over captions] (p: Wilcoxon over "
             "captions, Benjamini-Hochberg over this section's tests). Quantile shifts are variant − full; "
             "Wasserstein-1 is a distance (≥ 0, interval only).", "",
             f"- {d0['judges_note'][0].upper() + d0['judges_note'][1:]}."]
    if d0.get("diversity_note"):
        lines.append(f"- {d0['diversity_note']}.")
    lines += ["", "### Every critic's distribution", ""]
    table = []
    for r in rows:
        for c in critics:
            e = r["distribution"]["critics"].get(c, {})
            table.append([change_label(r), c, *[_cell(e.get(q)) for q in ("q10", "q50", "q90")], _cell(e.get("w1"), False)])
    lines += [md_table(["change", "critic", "Δ 10 % quantile", "Δ median", "Δ 90 % quantile", "Wasserstein-1"],
                       table), "",
              "### Fronts and diversity", "",
              "Fronts: each population's first front in the objectives either method optimised, normalised per "
              "(caption, seed) by the two populations' joint range, so both share one normalisation. Δ dominated "
              "share: the share of the full method's front the variant's front dominates minus the reverse "
              "(positive: the variant's front is ahead). Diversity: mean pairwise distance of unit CLIP image "
              "embeddings; distinct classes for class genomes.", ""]
    table = []
    for r in rows:
        d = r["distribution"]
        table.append([change_label(r), ", ".join(d.get("objectives", [])),
                      *[_cell(d["front"].get(k)) for k in ("hypervolume", "dominated_share")],
                      *[_cell(d["diversity"].get(k)) for k in ("clip_distance", "distinct_classes")]])
    lines += [md_table(["change", "front objectives", "Δ hypervolume", "Δ dominated share", "Δ CLIP diversity",
                        "Δ distinct classes"], table), ""]
    return lines


def caption_figures(rundir, manifest: dict, archive: pd.DataFrame, base: str, rows: list[dict], critics: list[str],
                    jobs: pd.DataFrame, judges: list[str], figdir: Path, parent: Path, count: int) -> list[str]:
    """Per caption: the four scores' final distributions with and without each critic; for the full method's
    worst captions on the first held-out judge: the picked images side by side."""
    from harness.rundir import JobKey
    from harness.rundir.archive import final_populations

    finals = final_populations(archive)
    texts = {c["id"]: c["caption"] for c in manifest.get("suite", {}).get("captions", [])}
    labels = {base: "full", **{r["variant"]: change_label(r) for r in rows}}
    base_jobs = jobs[jobs["method"] == base]
    captions = list(dict.fromkeys(base_jobs["caption_id"]))
    shown = captions if count == 0 else captions[:count]
    lines = ["## Per caption: the final population with and without each critic", "",
             f"The seed report's figure: for {'every caption' if count == 0 else f'the first {len(shown)} caption(s)'}"
             f" (all with `--caption-figures 0`), every critic's scores over the final population (first seed), the "
             "full method and each variant side by side.", ""]
    for cid in shown:
        seed = int(base_jobs[base_jobs["caption_id"] == cid]["seed"].min())
        pops = {label: {c: finals[(m, cid, seed)][c].to_numpy() for c in critics}
                for m, label in labels.items() if (m, cid, seed) in finals}
        fig = ablation_figures.population_scores(pops, critics, f"{texts.get(cid, cid)[:60]} (seed {seed})")
        path = figures.save(fig, figdir / f"population_{cid}.png", svg=True)
        lines += [link(path, parent, f"{cid}: final-population scores"), ""]
    if judges and judges[0] in base_jobs and base_jobs[judges[0]].notna().any():
        judge = judges[0]
        worst = base_jobs.groupby("caption_id")[judge].mean().sort_values()
        failed = list(worst.index[: max(count, 1) if count else len(worst)])
        methods = list(manifest.get("methods", {}))
        order = [m for m in ("no_selection",) if m in methods] + list(labels) + [m for m in ("best_of_n",)
                                                                                 if m in methods]
        names = {"no_selection": "without search", "best_of_n": "best_of_n", **labels}
        lines += ["## Failed captions: the picked images", "",
                  f"The full method's lowest-{judge} caption(s): the picked image "
                  + ("without search, " if "no_selection" in methods else "")
                  + "with the full method and with each variant"
                  + ("" if "no_selection" in methods else " (the image without search needs `--with-controls`)")
                  + ".", ""]
        for cid in failed:
            seed = int(base_jobs[base_jobs["caption_id"] == cid]["seed"].min())
            images = [(names[m], rundir.selected_png(JobKey(cid, m, seed))) for m in order]
            fig = ablation_figures.strip(images, f"{texts.get(cid, cid)[:60]} ({judge} {worst[cid]:.3g})")
            path = figures.save(fig, figdir / f"picked_{cid}.png", svg=True)
            lines += [link(path, parent, f"{cid}: picked images"), ""]
    return lines


def write_critic_ablation(parent: Path, run: str, base: str, rows: list[dict], caption_figures_count: int = 3) -> Path:
    """parent/critic_ablation.md (+ .json, figures/ in PNG and SVG) for the run in parent/`run`; base: the full
    method; rows: harness.analysis.critic_ablation.effects."""
    from harness.rundir import RunDir
    from harness.rundir.archive import score_columns

    parent = Path(parent)
    rundir = RunDir(parent / run)
    manifest = rundir.read_manifest()
    metrics = rundir.read_metrics() or {}
    jobs = pd.DataFrame(metrics.get("per_job", []))
    archive = rundir.read_final()  # the final generations, read once for the critics and the per-caption figures
    critics = score_columns(archive, manifest)
    judges = list(dict.fromkeys(j for r in rows for j in r["judges"]))
    figdir = parent / "figures"
    objectives = manifest.get("methods", {}).get(base, {}).get("objectives", [])
    first = next((e for r in rows for e in r["judges"].values()), {})
    lines = [f"# The effect of each score: {base}", ""]
    lines += warnings(manifest, first.get("captions", len(set(jobs.get("caption_id", [])))))
    lines += answer(rows, base, metrics, figdir, parent, jobs)  # the answer first, right under the warnings
    lines += ["## The run", "",
              f"{base} (objectives {', '.join(objectives)}) against each variant, all in one run "
              f"([{run}/report.md]({run}/report.md)): the same captions, seeds and shared initial latents; every "
              "critic is scored for every variant.", ""]
    lines += distribution(rows, critics)
    if not jobs.empty:
        lines += caption_figures(rundir, manifest, archive, base, rows, critics, jobs, judges, figdir, parent,
                                 caption_figures_count)
    lines += ["## How often the selected image changed", "",
              md_table(["change", "selected image changed", "jobs"],
                       [[change_label(r), "—" if r["selected_changed"]["share"] is None else
                         f"{r['selected_changed']['share']:.0%}", r["selected_changed"]["jobs"]] for r in rows]), ""]
    write_json(parent / "critic_ablation.json", {"method": base, "run": run, "variants": rows, "critics": critics,
                                                 "judges": judges})
    out = parent / "critic_ablation.md"
    atomic_write_bytes(out, ("\n".join(lines).rstrip() + "\n").encode())
    return out
