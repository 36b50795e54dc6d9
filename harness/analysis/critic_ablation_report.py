"""critic_ablation.md + figures: the effect of removing (or adding) each critic, beside its run's report."""
from __future__ import annotations

from pathlib import Path

from harness.report import figures
from harness.report.format import fmt, n_of
from harness.report.markdown import link, md_table
from harness.rundir.files import atomic_write_bytes, write_json


def _p(e: dict) -> str:
    p = e.get("p_value")
    return "—" if p is None or p != p else f"{p:.3g}"


def write_critic_ablation(parent: Path, base, variants: list, rows: list[dict]) -> Path:
    """parent/critic_ablation.md (+ .json, figures/final_distributions.png); base and variants: MethodConfigs."""
    from harness.rundir import RunDir
    from harness.rundir.archive import final_populations, score_columns

    from harness.analysis.critic_ablation import RUN

    parent = Path(parent)
    rundir = RunDir(parent / RUN)
    manifest = rundir.read_manifest()
    archive = rundir.read_final()
    critics = score_columns(archive, manifest)
    finals = final_populations(archive)
    lines = [f"# The effect of each score: {base.name}", "",
             f"{base.name} (objectives {', '.join(base.objectives)}) against each variant, all in one run "
             f"([{RUN}/report.md]({RUN}/report.md)): the same captions, seeds and shared initial latents; every "
             "critic is scored for every variant. Differences are variant − full method, mean of caption means "
             "[95 % interval over captions], Wilcoxon p over captions.", ""]
    judges = sorted({j for r in rows for j in r["judges"]})
    table = []
    for r in rows:
        change = (f"− {', '.join(r['removed'])}" if r["removed"] else "") + (f"+ {', '.join(r['added'])}"
                                                                          if r["added"] else "")
        cells = [f"{fmt(r['judges'][j], 4)} (p {_p(r['judges'][j])})" if j in r["judges"] else "—" for j in judges]
        share = r["selected_changed"]["share"]
        table.append([r["variant"], change, *cells, "—" if share is None else f"{share:.0%}",
                      n_of(next(iter(r["judges"].values()), None))])
    lines += [md_table(["variant", "critic", *[f"Δ {j} ↑" for j in judges], "selected image changed",
                        "N (captions × seeds)"], table), ""]
    methods = [base.name, *[v.name for v in variants]]
    values = {m: {c: [float(x) for (mm, _, _), pop in finals.items() if mm == m for x in pop[c]] for c in critics}
              for m in methods}
    fig = figures.distributions(values, methods, critics, f"{base.name}: final-population scores, with and without "
                                                          "each critic")
    path = figures.save(fig, parent / "figures" / "final_distributions.png")
    lines += ["## Final-population distributions", "",
              "Every score of the final populations (all jobs) for the full method and each variant, side by side: "
              "the seed report's figure of the distribution with and without a score.", "",
              link(path, parent, "final-population distributions"), ""]
    write_json(parent / "critic_ablation.json", {"method": base.name, "run": RUN, "variants": rows,
                                                 "critics": critics})
    out = parent / "critic_ablation.md"
    atomic_write_bytes(out, ("\n".join(lines).rstrip() + "\n").encode())
    return out
